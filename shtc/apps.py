from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShtcConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shtc"
    verbose_name = _("Strategic high-tech export permits")

    def ready(self):
        from permits import procedures
        from permits.models import DocumentType, Kind
        from portal.accounts.reviewers import REVIEWER_PERMISSIONS

        # Reviewers keep the SHTC reference tables (REFERENCE.md: data with dates) and load
        # UN/LOCODE releases (add_port); nothing of them is deleted (shtc/admin.py).
        REVIEWER_PERMISSIONS.update({
            f"shtc.{action}_{model}" for action in ("view", "add", "change")
            for model in ("regimemembership", "controlledarea", "reexportapprovalcountry",
                          "port")})

        # Until the SHTC procedure arrives with its issue, what the framework already asks
        # of it: its permits are cited by export declarations alone (RECON-2), and the
        # changes the SHTC manual names (SHTC-8 to SHTC-11).
        procedures.register(procedures.Procedure(
            document_type=DocumentType.SHTC_EXPORT, direction="export",
            change_kinds=(Kind.CORRECTION, Kind.MISMATCH_CORRECTION, Kind.AMENDMENT,
                          Kind.BALANCE_REISSUE)))

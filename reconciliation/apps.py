from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReconciliationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reconciliation"
    verbose_name = _("Declaration matching")

    def ready(self):
        from permits.signals import permit_version_issued

        permit_version_issued.connect(rematch_after_mismatch_correction,
                                      dispatch_uid="rematch_after_mismatch_correction")


def rematch_after_mismatch_correction(sender, version, **kwargs):
    """RECON-5, SHTC-10: when the bureau approves a 單證比對不符修正, it matches the permit's
    declarations again itself and the new results go to customs."""
    from permits.models import Kind
    from reconciliation import services

    if version.application.kind == Kind.MISMATCH_CORRECTION:
        services.rematch_permit(version.permit)

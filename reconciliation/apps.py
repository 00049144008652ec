from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReconciliationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reconciliation"
    verbose_name = _("Declaration matching")

    def ready(self):
        from permits.signals import permit_version_issued
        from portal import demo, menu
        from portal.accounts.reviewers import REVIEWER_PERMISSIONS

        permit_version_issued.connect(rematch_after_mismatch_correction,
                                      dispatch_uid="rematch_after_mismatch_correction")

        # Reviewers see everything customs sent and what matching made of it. Two rights act:
        # change_declaration is the right to re-run matching (the admin action; declarations
        # themselves are never edited by hand), add_inboundmessage the right to upload a file
        # of customs messages. Customs service accounts (tokens) are for superusers only.
        REVIEWER_PERMISSIONS.update({
            "reconciliation.view_declaration", "reconciliation.view_declarationitem",
            "reconciliation.view_matchresult", "reconciliation.view_inboundmessage",
            "reconciliation.view_ledgerentry",
            "reconciliation.change_declaration", "reconciliation.add_inboundmessage",
        })
        menu.register(section=_("Application / write-off query"),
                      label=_("Declaration matching query"), url_name="reconciliation:query",
                      order=520)
        demo.register(order=27, seed=seed_demo)


def seed_demo(users):
    """make run: a matching and a mismatching declaration against the applicant's permit
    (reconciliation/demo.py; after the SHTC demo (order 25), which issues that permit)."""
    from reconciliation import demo

    if demo.seed(applicant=users["applicant"]):
        return ("Demo declarations AW115000000001 (match) and "
                "AW115000000002 (mismatch) created.")
    return None


def rematch_after_mismatch_correction(sender, version, **kwargs):
    """RECON-5, SHTC-10: when the bureau approves a 單證比對不符修正, it matches the permit's
    declarations again itself and the new results go to customs. Also for a 補正 of a
    mismatch correction closed 補正結案 (SHTC-8: it does what the case it amends did)."""
    from permits.changes import origin
    from permits.models import Kind
    from reconciliation import services

    kind, _changed = origin(version.application)
    if kind == Kind.MISMATCH_CORRECTION:
        services.rematch_permit(version.permit)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PermitsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "permits"
    verbose_name = _("Permits")

    def ready(self):
        from portal import menu
        from portal.accounts.reviewers import (
            REVIEWER_PERMISSIONS,
            SENIOR_REVIEWER_PERMISSIONS,
            SUPERVISOR_PERMISSIONS,
        )

        # What a reviewer needs in the admin, and nothing more: see every part of a case,
        # move cases (through transition()), keep the reference tables.
        REVIEWER_PERMISSIONS.update({
            "permits.view_application", "permits.review_application", "permits.view_item",
            "permits.view_party", "permits.view_attachment", "permits.view_statuschange",
            "permits.view_permit", "permits.view_permitversion", "permits.view_outboundemail",
            "permits.view_permitrevocation",
            "permits.view_country", "permits.change_country",
            "permits.view_currency", "permits.change_currency",
            # The working-day clock's calendar adjustments and targets (issue 14): read;
            # changed by staff given the models' own permissions (permits.admin_workdays).
            "permits.view_workdayadjustment", "permits.view_reviewtarget",
        })
        # Issue 14: approval where a procedure wants four eyes; handing cases out and keeping
        # the calendar's adjustments and the targets.
        SENIOR_REVIEWER_PERMISSIONS.add("permits.approve_application")
        SUPERVISOR_PERMISSIONS.update({
            "permits.assign_application",
            "permits.add_workdayadjustment", "permits.change_workdayadjustment",
            "permits.delete_workdayadjustment", "permits.change_reviewtarget",
        })
        import permits.admin_workdays  # noqa: F401  (registers their admin pages)
        import permits.assignment  # noqa: F401  (keeps stage_due when the rules change)
        # 拾肆 簽審文件註銷或展延 (SHTC-11): filed by applicants and agents only.
        menu.register(section=_("Cancellation or extension"),
                      label=_("Cancel or extend a licensing document"),
                      url_name="permits:cancellation", order=400, users_only=True)
        query = _("Application / write-off query")
        menu.register(section=query, label=_("Application status query (with printing)"),
                      url_name="permits:query", order=500)
        menu.register(section=query, label=_("My cases"), url_name="permits:dashboard",
                      order=510)
        from permits.views import home_panel

        menu.register_panel(template_name="permits/includes/home_panel.html",
                            context=home_panel, order=10)

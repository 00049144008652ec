from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def register_menu():
    """The menu (portal.menu), with the real portal's numbers and words (DOMAIN.md §4); 9-1-2
    and the Iran / North Korea entries 9-2-1 and 9-2-2 come with their pages, after it."""
    from portal import menu
    from shtc import entry

    menu.register(section=entry.SECTION, label=entry.TITLE, url_name="shtc:application_basic",
                  order=211, users_only=True)


class ShtcConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shtc"
    verbose_name = _("Strategic high-tech export permits")

    def ready(self):
        from permits import procedures
        from portal.accounts.reviewers import REVIEWER_PERMISSIONS

        # Reviewers keep the SHTC reference tables (REFERENCE.md: data with dates) and load
        # UN/LOCODE releases (add_port); nothing of them is deleted (shtc/admin.py).
        REVIEWER_PERMISSIONS.update({
            f"shtc.{action}_{model}" for action in ("view", "add", "change")
            for model in ("regimemembership", "controlledarea", "reexportapprovalcountry",
                          "port")})

        import shtc.entry  # noqa: F401  (registers the 9-1-1 entry for 我的案件)
        from shtc.procedures import PROCEDURE

        procedures.register(PROCEDURE)
        register_menu()

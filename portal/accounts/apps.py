from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "portal.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from portal import menu
        from portal.accounts import throttle  # noqa: F401 (connects its signal receiver)

        section = _("Account")
        menu.register(section=section, label=_("Account data"), url_name="accounts:profile",
                      order=900)
        menu.register(section=section, label=_("Change password"),
                      url_name="accounts:password_change", order=910)
        menu.register(section=_("Bureau"), label=_("Review cases (administration site)"),
                      url_name="admin:index", order=1000, staff_only=True)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "portal.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.db.models.signals import post_migrate

        from portal import menu
        from portal.accounts import throttle  # noqa: F401 (connects its signal receiver)
        from portal.accounts.reviewers import sync_reviewers_group

        post_migrate.connect(sync_reviewers_group, dispatch_uid="sync_reviewers_group")

        section = _("Account")
        menu.register(section=section, label=_("Account data"), url_name="accounts:profile",
                      order=900)
        menu.register(section=section, label=_("Change password"),
                      url_name="accounts:password_change", order=910)
        menu.register(section=_("Bureau"), label=_("Review cases (administration site)"),
                      url_name="admin:index", order=1000, staff_only=True)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The shell shared by every procedure: base templates, the menu, ROC dates, tasks."""

    name = "portal"
    verbose_name = _("Portal")

    def ready(self):
        from portal import pg_loaders  # noqa: F401 (PostgreSQL's timestamps by the C loader)

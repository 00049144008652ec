from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShtcConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shtc"
    verbose_name = _("Strategic high-tech export permits")

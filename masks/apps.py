from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MasksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "masks"
    verbose_name = _("Face-mask import permits")

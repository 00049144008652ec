"""Face-mask import permits (DOMAIN.md §3): what the mask procedure adds to the shared cases
of permits/: the import route of a case (MASK-4), the mask tariff codes by category (MASK-2)
and the write-offs without a declaration (MASK-5).

A mask case is a permits.Application of document type MASK_IMPORT; its items store the mask
category in Item.category (Category values) and the tariff code of a MaskCode.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Route(models.TextChoices):
    """進口狀況 (MASK-4): through a customs declaration, or without one."""

    DECLARATION = "declaration", _("Customs declaration")
    POSTAL = "postal", _("Postal parcel import")
    PASSENGER = "passenger", _("Carried by a passenger")
    OTHER = "other", _("Other")


# The routes without a declaration: their quantities are written off by the user (MASK-5).
WRITE_OFF_ROUTES = (Route.POSTAL, Route.PASSENGER, Route.OTHER)


class Category(models.TextChoices):
    """The mask category each item chooses (MASK-2)."""

    MEDICAL = "medical", _("Medical")
    NON_MEDICAL = "non_medical", _("Non-medical")


class MaskCodeQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class MaskCode(models.Model):
    """A tariff code (號列) that an item of a mask permit may carry, with its category.
    Reference data the bureau keeps in the admin (REFERENCE.md: the codes changed in 2020 and
    the non-medical code after the split is not known yet)."""

    tariff_code = models.CharField(_("tariff code"), max_length=11, unique=True)
    category = models.CharField(_("mask category"), max_length=20, choices=Category.choices)
    description = models.CharField(_("description"), max_length=200)
    active = models.BooleanField(_("in use"), default=True)

    objects = MaskCodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("mask tariff code")
        verbose_name_plural = _("mask tariff codes")
        ordering = ["category", "tariff_code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(tariff_code__regex=r"^[0-9]{11}$"),
                                   name="maskcode_tariff_code_11_digits"),
        ]

    def __str__(self):
        from permits.fields import format_tariff_code

        return f"{format_tariff_code(self.tariff_code)} {self.description}"


class MaskApplication(models.Model):
    """What a mask case adds to permits.Application: its import route. Created with the case
    when it is filed (申請), never before: the steps in between live in the session."""

    application = models.OneToOneField("permits.Application", on_delete=models.CASCADE,
                                       related_name="mask", verbose_name=_("application"))
    route = models.CharField(_("import situation"), max_length=12, choices=Route.choices)

    class Meta:
        verbose_name = _("mask application")
        verbose_name_plural = _("mask applications")

    def __str__(self):
        return f"{self.application} ({self.get_route_display()})"

    @property
    def needs_write_off(self):
        return self.route in WRITE_OFF_ROUTES


class WriteOff(models.Model):
    """非報單輸入口罩核銷 (MASK-5): one "核銷完成" as the user entered it, per category. The
    quantities used per permit item are the reconciliation ledger's entries, written in the
    same transaction with reference `reference`."""

    permit = models.ForeignKey("permits.Permit", on_delete=models.PROTECT,
                               related_name="mask_write_offs", verbose_name=_("permit"))
    route = models.CharField(_("import situation"), max_length=12, choices=Route.choices)
    medical_quantity = models.DecimalField(_("medical quantity"), max_digits=13,
                                           decimal_places=4, default=0)
    non_medical_quantity = models.DecimalField(_("non-medical quantity"), max_digits=13,
                                               decimal_places=4, default=0)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              verbose_name=_("by"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    # The confirmation page's one-time token: a double-clicked "核銷完成" records it once.
    client_token = models.CharField(max_length=40, unique=True, null=True, blank=True,
                                    editable=False)

    class Meta:
        verbose_name = _("write-off without declaration")
        verbose_name_plural = _("write-offs without declaration")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(medical_quantity__gte=0, non_medical_quantity__gte=0)
                & (models.Q(medical_quantity__gt=0) | models.Q(non_medical_quantity__gt=0)),
                name="mask_write_off_quantities"),
        ]

    def __str__(self):
        return f"{self.permit} {self.reference}"

    @property
    def reference(self):
        """The LedgerEntry.reference of this write-off's entries."""
        return f"MWO{self.pk:08d}"

    def quantity(self, category):
        return {Category.MEDICAL: self.medical_quantity,
                Category.NON_MEDICAL: self.non_medical_quantity}[category]

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

from permits.models import StoredFile
from portal.choices import ChoiceLabels


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


class MaskApplication(ChoiceLabels, models.Model):
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


class WriteOff(ChoiceLabels, models.Model):
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


# --- 口罩流向登錄作業 and 口罩流向退貨作業 (MASK-6 to MASK-9) ------------------------------------


class FlowCategory(models.TextChoices):
    """流向說明 (MASK-7): where a part of the stock went. What is not declared stays 庫存."""

    MEDICAL_INSTITUTION = "medical_institution", _("Medical institution")
    DEVICE_MAKER = "device_maker", _("Medical device manufacturer")
    PHARMACY = "pharmacy", _("Pharmaceutical dealer (pharmacy)")
    DRUGSTORE = "drugstore", _("Drugstore")
    WORKPLACE = "workplace", _("Workplace (B2B)")
    RETAIL = "retail", _("Physical retail (hypermarkets etc.)")
    ONLINE = "online", _("Online sales")
    WHOLESALER = "wholesaler", _("Wholesaler")
    OWN_USE = "own_use", _("Own use (not for sale)")


# MASK-7: every flow except 自用(非銷售) carries supporting documents.
FLOW_CATEGORIES_WITHOUT_DOCUMENTS = (FlowCategory.OWN_USE,)


class StockReportQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The stock of the mask permits whose cases `user` may see (ACC-4)."""
        from permits.models import Permit

        return self.filter(permit__in=Permit.objects.visible_to(user))


class StockReport(models.Model):
    """庫存 of one stock source (MASK-6): a customs import declaration citing a mask permit
    (menu 2), or a mask permit imported without one (menu 3, `declaration` empty).

    `cleared` is the quantity cleared, copied from the reconciliation ledger (released under
    the declaration, or written off the permit through 非報單輸入口罩核銷). `allocated` is what
    the flows took, pending or declared, less what came back by returns: 庫存 is cleared −
    allocated, and the database refuses allocated > cleared, so no two requests can ever
    allocate the same masks twice. `declared` is what 申報 made final (declared flows less
    declared returns): the reminders (MASK-8) go out while cleared − declared > 0.
    """

    permit = models.ForeignKey("permits.Permit", on_delete=models.PROTECT,
                               related_name="mask_stock_reports", verbose_name=_("permit"))
    declaration = models.OneToOneField("reconciliation.Declaration", on_delete=models.PROTECT,
                                       null=True, blank=True, related_name="mask_stock_report",
                                       verbose_name=_("customs declaration"))
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="mask_stock_reports", verbose_name=_("applicant"))
    cleared = models.DecimalField(_("cleared quantity"), max_digits=13, decimal_places=4,
                                  default=0)
    allocated = models.DecimalField(_("quantity in flows"), max_digits=13, decimal_places=4,
                                    default=0)
    declared = models.DecimalField(_("quantity declared"), max_digits=13, decimal_places=4,
                                   default=0)
    refreshed_at = models.DateTimeField(_("cleared quantity read"), default=timezone.now)

    objects = StockReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("mask stock")
        verbose_name_plural = _("mask stock")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(allocated__gte=0, allocated__lte=models.F("cleared")),
                name="mask_stock_allocated_within_cleared"),
            models.CheckConstraint(
                condition=models.Q(declared__gte=0, declared__lte=models.F("allocated")),
                name="mask_stock_declared_within_allocated"),
            models.UniqueConstraint(fields=["permit"],
                                    condition=models.Q(declaration__isnull=True),
                                    name="mask_stock_one_per_permit_source"),
        ]
        indexes = [models.Index(fields=["holder", "id"], name="mask_stock_holder")]

    def __str__(self):
        return self.number

    @property
    def number(self):
        """報單號碼 of a declaration source, 許可證號碼 of a permit source."""
        return self.declaration.number if self.declaration_id else self.permit.permit_no

    @property
    def stock(self):
        """庫存: cleared and not in any flow."""
        return self.cleared - self.allocated

    @property
    def undeclared(self):
        """What the reminders are about: cleared and not declared (申報) in a flow."""
        return self.cleared - self.declared


class Flow(ChoiceLabels, models.Model):
    """流向 (MASK-7): a part of the stock declared for one use. Pending until "申報"
    (declared_at); `returned` is what returns (FlowReturn) gave back to the stock."""

    report = models.ForeignKey(StockReport, on_delete=models.PROTECT, related_name="flows",
                               verbose_name=_("stock"))
    category = models.CharField(_("flow"), max_length=24, choices=FlowCategory.choices)
    quantity = models.DecimalField(_("quantity"), max_digits=13, decimal_places=4)
    date = models.DateField(_("date"))
    counterparty = models.CharField(_("counterparty"), max_length=120, blank=True)
    returned = models.DecimalField(_("quantity returned"), max_digits=13, decimal_places=4,
                                   default=0)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              verbose_name=_("by"))
    created_at = models.DateTimeField(_("registered"), default=timezone.now)
    declared_at = models.DateTimeField(_("declared"), null=True, blank=True)

    class Meta:
        verbose_name = _("mask flow")
        verbose_name_plural = _("mask flows")
        ordering = ["report", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0),
                                   name="mask_flow_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(returned__gte=0, returned__lte=models.F("quantity")),
                name="mask_flow_returned_within_quantity"),
        ]

    def __str__(self):
        from permits.fields import plain_decimal

        return f"{self.report} {self.get_category_display()} {plain_decimal(self.quantity)}"

    @property
    def remaining(self):
        return self.quantity - self.returned


class FlowDocument(StoredFile):
    """A supporting document of a flow (MASK-7), checked and stored as case attachments are
    (permits.attachments.store) and served only to those who may see the stock."""

    upload_dir = "mask-flows"

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="documents")

    class Meta:
        verbose_name = _("flow document")
        verbose_name_plural = _("flow documents")
        ordering = ["flow", "pk"]


class FlowReturn(models.Model):
    """退貨 (MASK-9): a quantity of a declared flow that came back to the stock. Kept as a
    row, so that the flow's history stays; pending until "申報" (declared_at)."""

    flow = models.ForeignKey(Flow, on_delete=models.PROTECT, related_name="returns",
                             verbose_name=_("flow"))
    quantity = models.DecimalField(_("quantity returned"), max_digits=13, decimal_places=4)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              verbose_name=_("by"))
    created_at = models.DateTimeField(_("registered"), default=timezone.now)
    declared_at = models.DateTimeField(_("declared"), null=True, blank=True)

    class Meta:
        verbose_name = _("mask flow return")
        verbose_name_plural = _("mask flow returns")
        ordering = ["flow", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0),
                                   name="mask_flow_return_quantity_positive"),
        ]

    def __str__(self):
        from permits.fields import plain_decimal

        return f"{self.flow} −{plain_decimal(self.quantity)}"


class StockReminder(models.Model):
    """稽催信 (MASK-8): one per applicant and period. Inserted in the same transaction as
    the outbox row of its mail, under a unique constraint: a job run twice in a period (or
    two runs at once) mails nobody twice."""

    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="mask_stock_reminders",
                               verbose_name=_("applicant"))
    period = models.DateField(_("period from"))
    sources = models.PositiveIntegerField(_("declarations and permits with stock"))
    undeclared = models.DecimalField(_("stock not declared"), max_digits=17, decimal_places=4)
    email = models.ForeignKey("permits.OutboundEmail", on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("e-mail"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("stock reminder")
        verbose_name_plural = _("stock reminders")
        ordering = ["-period", "holder"]
        constraints = [
            models.UniqueConstraint(fields=["holder", "period"],
                                    name="mask_stock_reminder_once_per_period"),
        ]

    def __str__(self):
        from portal.dates import to_roc

        return f"{self.holder} {to_roc(self.period)}"


class StockRefreshMark(models.Model):
    """How far the 稽催信 job's stock refresh has read the changes to the stock's sources
    (one row, masks.services.stock_reports_refresh): every ledger entry up to the id
    `ledger_entry` and every matching result up to the feed sequence `match_seq` is in the
    StockReport rows. The next run reads only what came after."""

    ledger_entry = models.BigIntegerField(_("last ledger entry read"), default=0)
    match_seq = models.BigIntegerField(_("last matching result read"), default=0)
    refreshed_at = models.DateTimeField(_("refreshed"), default=timezone.now)

    class Meta:
        verbose_name = _("stock refresh mark")
        verbose_name_plural = _("stock refresh marks")

    def __str__(self):
        return f"{self.ledger_entry}/{self.match_seq}"

"""Customs declarations, their matching against permits (單證比對) and the write-off ledger
(核銷), DOMAIN.md §5."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.choices import ChoiceLabels


class Direction(models.TextChoices):
    IMPORT = "import", _("Import")
    EXPORT = "export", _("Export")


class CustomsClient(models.Model):
    """A customs service account that sends declarations and fetches results. Only a hash
    of its token is kept; the token is shown once, when the bureau creates it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("customs service account")
        verbose_name_plural = _("customs service accounts")

    def __str__(self):
        return self.name

    @staticmethod
    def hash(token):
        return hashlib.sha256(token.encode()).hexdigest()

    def new_token(self):
        """Set a new random token and return it (to show once)."""
        token = secrets.token_urlsafe(32)
        self.token_hash = self.hash(token)
        return token


class Result(models.TextChoices):
    PENDING = "pending", _("Not matched yet")
    MATCH = "match", _("Match")
    MISMATCH = "mismatch", _("Mismatch")


class Declaration(ChoiceLabels, models.Model):
    """報單: one customs declaration citing a permit. An amended declaration replaces the
    data of the earlier revision (same number); a cancelled one keeps its data."""

    number = models.CharField(_("declaration number"), max_length=14, unique=True)
    direction = models.CharField(_("import or export"), max_length=6,
                                 choices=Direction.choices)
    declared_on = models.DateField(_("declaration date"))
    declarant_identifier = models.CharField(_("declarant"), max_length=20, db_index=True)
    broker_identifier = models.CharField(_("customs broker"), max_length=20, blank=True)
    permit_no = models.CharField(_("permit number cited"), max_length=14, db_index=True)
    permit = models.ForeignKey("permits.Permit", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="declarations",
                               verbose_name=_("permit"))
    revision = models.PositiveIntegerField(_("revision"), default=0)
    cancelled_at = models.DateTimeField(_("cancelled by customs"), null=True, blank=True)
    result = models.CharField(_("matching result"), max_length=10, choices=Result.choices,
                              default=Result.PENDING, db_index=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("customs declaration")
        verbose_name_plural = _("customs declarations")
        ordering = ["-declared_on", "-pk"]

    def __str__(self):
        return self.number


class DeclarationItem(models.Model):
    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE,
                                    related_name="items")
    item_no = models.PositiveIntegerField(_("item no."))
    tariff_code = models.CharField(_("tariff code"), max_length=11)
    description = models.CharField(_("goods name"), max_length=390, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=13, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=10)
    value = models.DecimalField(_("value"), max_digits=19, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3)
    permit_item_no = models.PositiveIntegerField(_("permit item no. cited"))

    class Meta:
        verbose_name = _("declaration item")
        verbose_name_plural = _("declaration items")
        ordering = ["declaration", "item_no"]
        constraints = [
            models.UniqueConstraint(fields=["declaration", "item_no"],
                                    name="declaration_item_unique"),
        ]

    def __str__(self):
        return f"{self.declaration.number}/{self.item_no}"


class InboundMessage(models.Model):
    """Every message customs sent, kept as received: the same message_id is processed once
    (RECON-1), and a rejected one keeps every reason."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        DUPLICATE = "duplicate", _("Duplicate, ignored")
        REJECTED = "rejected", pgettext_lazy("customs message", "Rejected")

    message_id = models.CharField(_("message id"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=20, blank=True)
    declaration_number = models.CharField(_("declaration number"), max_length=14,
                                          blank=True, db_index=True)
    payload = models.JSONField()
    declaration = models.ForeignKey(Declaration, on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="messages")
    source = models.CharField(_("received through"), max_length=20)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    errors = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("message from customs")
        verbose_name_plural = _("messages from customs")
        ordering = ["-received_at"]

    def __str__(self):
        return self.message_id


# 會辦識別碼 (SHTC-10): a mismatch's code, which customs and the applicant both see and the
# applicant quotes in a 單證比對不符修正. Random (50 bits), from letters and digits that read
# aloud and type from paper without doubt (no 0/O, 1/I).
COORDINATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
COORDINATION_LENGTH = 10


def new_coordination_id():
    return "".join(secrets.choice(COORDINATION_ALPHABET) for _ in range(COORDINATION_LENGTH))


class MatchResult(ChoiceLabels, models.Model):
    """One matching of one revision of a declaration (單證比對, RECON-2). `seq` orders the
    results customs fetches (the outbound feed): it is given under a lock in commit order,
    so a reader that saw seq n will never later find a result below n.

    A mismatch carries its 會辦識別碼 (`coordination_id`, SHTC-10): the same for every
    mismatch of one revision of a declaration (matching it again does not change it), a new
    one for an amended revision. A match has none."""

    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE,
                                    related_name="results")
    revision = models.PositiveIntegerField(_("revision"))
    result = models.CharField(_("matching result"), max_length=10, choices=Result.choices)
    # [{"code", "item_no", "message"}]
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    permit_version = models.ForeignKey("permits.PermitVersion", on_delete=models.PROTECT,
                                       null=True, blank=True, verbose_name=_("permit version"))
    seq = models.PositiveBigIntegerField(_("feed sequence"), unique=True)
    coordination_id = models.CharField(_("coordination ID"), max_length=COORDINATION_LENGTH,
                                       blank=True)
    created_at = models.DateTimeField(_("matched at"), default=timezone.now)

    class Meta:
        verbose_name = _("matching result")
        verbose_name_plural = _("matching results")
        ordering = ["-seq"]

    def __str__(self):
        return f"{self.declaration_id} r{self.revision}: {self.result}"


class FeedCounter(models.Model):
    """The last outbound sequence number handed out (one row)."""

    last = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return str(self.last)


class LedgerEntry(ChoiceLabels, models.Model):
    """核銷 (RECON-4): an append-only record of quantity used on one item (line) of a permit.
    Positive quantities use the permit up; a reversal is a negative entry pointing at the
    one it cancels. A balance is the item's permitted quantity less the sum of entries;
    services lock the permit row before writing, so no two writers can overdraw it."""

    class Kind(models.TextChoices):
        RELEASE = "release", _("Release under a declaration")
        WRITE_OFF = "write_off", _("Write-off without a declaration")
        REVERSAL = "reversal", _("Reversal")

    permit = models.ForeignKey("permits.Permit", on_delete=models.PROTECT,
                               related_name="ledger_entries")
    line_no = models.PositiveIntegerField(_("item no."))
    quantity = models.DecimalField(_("quantity"), max_digits=13, decimal_places=4)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    declaration_item = models.ForeignKey(DeclarationItem, on_delete=models.PROTECT,
                                         null=True, blank=True, related_name="ledger_entries")
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="reversed_by")
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("write-off entry")
        verbose_name_plural = _("write-off ledger")
        ordering = ["permit", "line_no", "created_at", "pk"]
        indexes = [models.Index(fields=["permit", "line_no"])]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="ledger_quantity_nonzero"),
            models.CheckConstraint(
                condition=Q(kind="reversal", quantity__lt=0, reverses__isnull=False)
                | (~Q(kind="reversal") & Q(quantity__gt=0)),
                name="ledger_sign_by_kind"),
        ]

    def __str__(self):
        from permits.fields import plain_decimal

        return f"{self.permit_id}/{self.line_no}: {plain_decimal(self.quantity)}"

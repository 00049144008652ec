"""What every permit procedure shares (DOMAIN.md §2): cases, their items, attachments,
status history, issued permits and their versions, drafts, numbers and the mail outbox.

Statuses are assigned only by permits.workflow.transition(); see permits/workflow.py for
the table of allowed moves.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from permits.storage import private_storage
from portal.choices import ChoiceLabels


class DocumentType(models.TextChoices):
    """文件類別 (PERMIT-1). The two-letter code goes into the case's numbers."""

    MASK_IMPORT = "MK", _("Face-mask import permit application")
    SHTC_EXPORT = "SE", _("SHTC export permit")
    END_USE = "EU", _("End-use assurance")


class Kind(models.TextChoices):
    """申請類別 (PERMIT-2)."""

    NEW = "new", _("New application")
    CORRECTION = "correction", _("Correction")
    MISMATCH_CORRECTION = "mismatch_correction", _("Mismatch correction")
    CLEARED_CORRECTION = "cleared_correction", _("Post-clearance correction")
    AMENDMENT = "amendment", _("Amendment")
    BALANCE_REISSUE = "balance_reissue", _("Balance re-issue")


class Status(models.TextChoices):
    """A case's status (PERMIT-5 and what comes before and after the review)."""

    DRAFT = "draft", _("Draft")
    REGISTERED = "registered", _("Registered, not submitted")
    INITIAL_REVIEW = "initial_review", _("Initial review")
    CONSULTATION = "consultation", _("Inter-agency consultation")
    SECOND_REVIEW = "second_review", _("Second review")
    SUPPLEMENT = "supplement", _("Supplementary documents requested")
    RETURNED = "returned", _("Returned to initial review")
    AMENDMENT_CLOSED = "amendment_closed", _("Closed for amendment")
    REJECTED = "rejected", _("Rejected")
    APPROVED = "approved", _("Approved")
    CANCELLED = "cancelled", _("Cancelled")


# The statuses of the cases in the reviewers' queues (permits.assignment.OPEN: in review, or
# with the applicant for 補件), in one order: the queues' queries name them as the partial
# index does, so that PostgreSQL finds it.
QUEUE_STATUSES = sorted([Status.INITIAL_REVIEW, Status.CONSULTATION, Status.SECOND_REVIEW,
                         Status.SUPPLEMENT, Status.RETURNED])


class ReferenceCode(models.Model):
    """A code table the bureau keeps in the admin (REFERENCE.md: data, not constants)."""

    name_zh = models.CharField(_("Chinese name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=80)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self):
        # In the language of the page (issue 9, point 16): "DE 德國", "DE Germany".
        chinese = (translation.get_language() or "zh").startswith("zh")
        return f"{self.code} {self.name_zh if chinese else self.name_en}"


class Country(ReferenceCode):
    """ISO 3166-1 countries with the short Chinese names the UI shows (北韓, 南韓, 美國,
    中國大陸…)."""

    code = models.CharField(_("code"), max_length=2, primary_key=True)

    class Meta(ReferenceCode.Meta):
        verbose_name = _("country")
        verbose_name_plural = _("countries")


class Currency(ReferenceCode):
    """ISO 4217 currencies."""

    code = models.CharField(_("code"), max_length=3, primary_key=True)

    class Meta(ReferenceCode.Meta):
        verbose_name = _("currency")
        verbose_name_plural = _("currencies")


# ACC-5: the permission that lets bureau staff see every case. The reviewers group holds it
# (portal.accounts.reviewers); a superuser holds every permission.
SEE_EVERY_CASE = "permits.view_application"


class ApplicationQuerySet(models.QuerySet):
    @staticmethod
    def sees_every_case(user):
        """Whether `user` sees every case (ACC-5): bureau staff holding SEE_EVERY_CASE, the
        permission the admin's case list asks for too. Other staff hold nothing of their own
        and see nothing; an applicant's or agent's account sees only its cases whatever
        permission it was given. Permits, stocks and declarations follow (visible_to)."""
        return (user.is_authenticated and user.is_active and user.is_staff
                and user.has_perm(SEE_EVERY_CASE))

    def visible_to(self, user):
        """The one rule of who sees a case (ACC-4, ACC-5): its applicant, the agent who filed
        it, and the bureau staff of sees_every_case(). Every view loads cases through this,
        so another user's case is simply not found (404)."""
        if not user.is_authenticated:
            return self.none()
        if self.sees_every_case(user):
            return self
        return self.filter(Q(applicant=user) | Q(agent=user))


class Application(ChoiceLabels, models.Model):
    """申請案件: one application of one document type and kind, with its items."""

    document_type = models.CharField(_("document type"), max_length=2,
                                     choices=DocumentType.choices)
    kind = models.CharField(_("application kind"), max_length=24, choices=Kind.choices,
                            default=Kind.NEW)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.DRAFT, editable=False)
    receipt_no = models.CharField(_("receipt number"), max_length=14, unique=True, null=True,
                                  blank=True, editable=False)
    registration_no = models.CharField(_("registration number"), max_length=14, unique=True,
                                       null=True, blank=True, editable=False)

    # Who: the account whose identifier the case bears, and the agent who filed it.
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="applications", verbose_name=_("applicant"))
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="filed_applications",
                              verbose_name=_("filing agent"))
    # The parties' data as entered on the application (it may differ from the account's).
    applicant_identifier = models.CharField(_("applicant identifier"), max_length=20)
    applicant_name = models.CharField(_("applicant name"), max_length=120)
    applicant_name_en = models.CharField(_("applicant English name"), max_length=120,
                                         blank=True)
    applicant_address = models.CharField(_("applicant address"), max_length=200)
    contact_person = models.CharField(_("contact person"), max_length=60, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    company_email = models.EmailField(
        _("applicant company e-mail"),
        help_text=_("Every change of status is e-mailed to this address (PERMIT-5)."))
    agent_identifier = models.CharField(_("agent identifier"), max_length=20, blank=True)
    agent_name = models.CharField(_("agent name"), max_length=120, blank=True)
    agent_contact_person = models.CharField(_("agent contact person"), max_length=60,
                                            blank=True)
    agent_phone = models.CharField(_("agent phone"), max_length=30, blank=True)
    agent_email = models.EmailField(_("agent e-mail"), blank=True)

    destination_country = models.CharField(_("destination"), max_length=2, blank=True,
                                           db_index=True)
    # A change kind names the permit version it changes (PERMIT-2).
    changes = models.ForeignKey("PermitVersion", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="change_applications",
                                verbose_name=_("changes permit"))
    change_description = models.TextField(_("change description"), blank=True)
    # 單證比對不符修正 (SHTC-10): the export declaration whose mismatch the change corrects and
    # that mismatch's 會辦識別碼, as the applicant entered them; permits.changes checks them
    # against the matching when the change is filed and again at approval, and the version
    # it issues is the one that declaration is matched against again (RECON-5).
    declaration_no = models.CharField(_("declaration number"), max_length=14, blank=True)
    coordination_id = models.CharField(_("coordination ID"), max_length=10, blank=True)
    # A 補正 (SHTC-8) amends a case closed 補正結案, which never had a permit.
    amends = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="amendments", verbose_name=_("amends case"))
    # A 新申請 made by 帶入參考資料 from an earlier case: a second load of the same case opens
    # this draft rather than making another (permits.entry.loaded_draft).
    loaded_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", editable=False,
                                    verbose_name=_("loaded from case"))

    # The bureau's workbench (issue 14): the reviewer the case is assigned to (None: 待分派),
    # and the working-day date by which its open review stage is due (None when the case is
    # not in the bureau's hands or its stage has no target). transition() keeps stage_due,
    # so the 逾期 queue is an indexed comparison, not a clock run over every case.
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="assigned_applications",
                                 editable=False, verbose_name=_("assigned reviewer"))
    stage_due = models.DateField(_("stage due by"), null=True, blank=True, editable=False)

    # A one-time token from the form that created the case: a double-clicked "申請" sends it
    # twice, and the unique index turns the second request into the first one's case.
    client_token = models.CharField(max_length=40, unique=True, null=True, blank=True,
                                    editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(_("application date"), null=True, blank=True,
                                        editable=False, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("review_application", _("Can move applications through review")),
            # Four eyes (issue 14): the senior reviewers group; not the reviewers group.
            ("approve_application", _("Can approve applications")),
            # Handing cases to colleagues (issue 14): the supervisors group.
            ("assign_application", _("Can assign applications to reviewers")),
        ]
        indexes = [
            models.Index(fields=["document_type", "status"]),
            # The periodic purge of unfinished drafts (permits.tasks.purge_drafts).
            models.Index(fields=["updated_at"], condition=Q(status="draft"),
                         name="application_draft_age"),
            # The visibility rule (visible_to) is "applicant = me OR agent = me". Each branch
            # has its own index in the order the lists show (我的案件: newest first;
            # 申辦狀況查詢作業: by application date), so that a page of an agent with 20,000
            # cases is read from two index ranges instead of sorting every case
            # (permits.listing.VisibleCases). Drafts are not listed there.
            # (The applicant's indexes carry the agent, whose cases the other branch reads.)
            models.Index(fields=["applicant", "-created_at", "-id"], include=["agent"],
                         condition=~Q(status="draft"), name="application_applicant_list"),
            models.Index(fields=["agent", "-created_at", "-id"],
                         condition=~Q(status="draft"), name="application_agent_list"),
            models.Index(fields=["applicant", "-submitted_at", "-id"], include=["agent"],
                         condition=~Q(status="draft"),
                         name="application_applicant_filed"),
            models.Index(fields=["agent", "-submitted_at", "-id"],
                         condition=~Q(status="draft"),
                         name="application_agent_filed"),
            # Each user's drafts (我的案件's 暫存中的案件, entry.drafts_of), newest first.
            # In the list's whole order (the id last), each read as one range by the page's
            # kept plan (entry.draft_branches; bench/README.md "Stop 25"): the agent of a
            # draft in the applicant's index, for its branch's "no agent".
            models.Index(fields=["applicant", "-updated_at", "-id"], include=["agent"],
                         condition=Q(status="draft"), name="application_applicant_drafts"),
            models.Index(fields=["agent", "-updated_at", "-id"], condition=Q(status="draft"),
                         name="application_agent_drafts"),
            # The reviewers' queues (issue 14: permits.admin_queues): the cases the bureau
            # has open, small beside the closed ones; their three counts are one index-only
            # scan of this, and each queue's cases are read from it.
            models.Index(fields=["status", "assignee", "stage_due"],
                         condition=Q(status__in=QUEUE_STATUSES), name="application_queues"),
        ]
        constraints = [
            # A change names what it changes: a permit version, or for 補正 the closed case.
            models.CheckConstraint(
                condition=Q(kind="new") | Q(changes__isnull=False)
                | Q(kind="amendment", amends__isnull=False),
                name="application_change_names_permit"),
        ]

    def __str__(self):
        return self.receipt_no or self.registration_no or _("Draft %(pk)s") % {"pk": self.pk}

    @property
    def number(self):
        return self.receipt_no or self.registration_no or ""

    @cached_property
    def permit_version(self):
        """The permit version this case produced, if it was approved."""
        try:
            return self.issued_version
        except PermitVersion.DoesNotExist:
            return None


class ReviewEventKind(models.TextChoices):
    NOTE = "note", _("Internal note")
    ASSIGNED = "assigned", _("Assignment")


class ReviewEvent(ChoiceLabels, models.Model):
    """The bureau's own history of a case (issue 14), never shown to the applicant: internal
    notes, and who assigned the case to whom. A move's note, which the applicant receives,
    is a StatusChange."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="review_events",
                                    verbose_name=_("application"))
    kind = models.CharField(_("kind"), max_length=10, choices=ReviewEventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("by"))
    # For an assignment: the reviewer given the case (None: put back to 待分派).
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+",
                                 verbose_name=_("assigned reviewer"))
    text = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("internal history entry")
        verbose_name_plural = _("internal history")
        ordering = ["application", "created_at", "pk"]
        indexes = [models.Index(fields=["application", "created_at"],
                                name="review_event_case_time")]

    def __str__(self):
        return f"{self.application} {self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"


class StatusChange(ChoiceLabels, models.Model):
    """One move of a case: written by transition() and by nothing else."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="status_changes")
    old = models.CharField(_("from"), max_length=20, choices=Status.choices)
    new = models.CharField(_("to"), max_length=20, choices=Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, verbose_name=_("by"))
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status history")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.get_old_display()} → {self.get_new_display()}"


class Item(ChoiceLabels, models.Model):
    """貨品明細: one item (項次) of a case. Every distinct specification, model, quantity,
    unit price or amount is its own item (PERMIT-8)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="items")
    line_no = models.PositiveIntegerField(_("item no."))
    tariff_code = models.CharField(_("tariff code"), max_length=11)
    description = models.CharField(_("goods name"), max_length=390)
    brand = models.CharField(_("brand"), max_length=200, blank=True)
    model = models.CharField(_("model / serial"), max_length=200, blank=True)
    specification = models.TextField(_("specification"), blank=True)
    # Procedure-specific codes: the mask category (MASK-2), the export control number (SHTC-16).
    category = models.CharField(_("category"), max_length=20, blank=True)
    control_no = models.CharField(_("export control number"), max_length=7, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=13, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=10)
    unit_price = models.DecimalField(_("unit price"), max_digits=17, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3)
    amount = models.DecimalField(_("amount"), max_digits=19, decimal_places=4)
    origin_country = models.CharField(_("origin country"), max_length=2)
    # On a change or a balance re-issue: the 項次 of the permit version it comes from, whose
    # used quantity and balance bound it (PERMIT-3, SHTC-11).
    source_line_no = models.PositiveIntegerField(_("original item no."), null=True,
                                                 blank=True)

    class Meta:
        verbose_name = _("goods item")
        verbose_name_plural = _("goods items")
        ordering = ["application", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["application", "line_no"],
                                    name="item_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="item_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.line_no}. {self.description}"


class PermitQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The permits of which some version came from a case `user` may see
        (Application.visible_to): the one rule for permits, as that one is for cases."""
        if not user.is_authenticated:
            return self.none()
        if ApplicationQuerySet.sees_every_case(user):
            return self
        return self.filter(
            pk__in=PermitVersion.objects.filter(
                application__in=Application.objects.visible_to(user)).values("permit_id"))


class Permit(models.Model):
    """許可證: one permit number. Its content lives in versions; the newest one is in force
    (PERMIT-2)."""

    permit_no = models.CharField(_("permit number"), max_length=14, unique=True)
    document_type = models.CharField(_("document type"), max_length=2,
                                     choices=DocumentType.choices)
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="permits", verbose_name=_("holder"))
    # Printed beside the QR code; with the number it opens the public verification page.
    verification_code = models.CharField(_("verification code"), max_length=8,
                                         editable=False)
    revoked_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    # What customs recorded against the permit (PERMIT-3): written by the reconciliation app.
    first_cleared_at = models.DateTimeField(_("first clearance"), null=True, blank=True)
    first_released_at = models.DateTimeField(_("first release"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = PermitQuerySet.as_manager()

    class Meta:
        verbose_name = _("permit")
        verbose_name_plural = _("permits")
        ordering = ["-created_at"]

    def __str__(self):
        return self.permit_no

    @staticmethod
    def new_verification_code():
        # No 0/O or 1/I: the code is typed from paper.
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        return "".join(secrets.choice(alphabet) for _ in range(8))

    @cached_property
    def current(self):
        """The version in force: the newest."""
        return self.versions.order_by("-version").first()

    def has_clearance(self):
        """Has any customs declaration cited this permit? (更正 is allowed only if not.)"""
        return self.first_cleared_at is not None

    def has_release(self):
        """Were goods released under this permit? (Then only cancel and re-issue.)"""
        return self.first_released_at is not None

    def state_on(self, day):
        """有效 / 已註銷 / 已逾期 on a date, from the version in force."""
        if self.revoked_at is not None and timezone.localdate(self.revoked_at) <= day:
            return PermitState.REVOKED
        current = self.current
        if current is None or day > current.valid_until:
            return PermitState.EXPIRED
        return PermitState.VALID

    @property
    def state(self):
        return self.state_on(timezone.localdate())


class PermitState(models.TextChoices):
    VALID = "valid", _("Valid")
    # 已註銷, not the 已取消 of a withdrawn case (Status.CANCELLED): the same English word.
    REVOKED = "revoked", pgettext_lazy("permit state", "Cancelled")
    EXPIRED = "expired", _("Expired")


class PermitVersion(models.Model):
    """One issued content of a permit. A change never overwrites it: it adds version n+1."""

    permit = models.ForeignKey(Permit, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    application = models.OneToOneField(Application, on_delete=models.PROTECT,
                                       related_name="issued_version")
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    partial_shipment = models.BooleanField(_("partial shipments allowed"), default=True)

    class Meta:
        verbose_name = _("permit version")
        verbose_name_plural = _("permit versions")
        ordering = ["permit", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["permit", "version"], name="permit_version_unique"),
            models.CheckConstraint(condition=Q(valid_until__gte=models.F("valid_from")),
                                   name="permit_version_validity_order"),
        ]

    def __str__(self):
        return f"{self.permit.permit_no} v{self.version}"


class NumberSequence(models.Model):
    """The last number handed out per kind of number, document type and ROC year."""

    kind = models.CharField(max_length=1)
    document_type = models.CharField(max_length=2, choices=DocumentType.choices)
    roc_year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "document_type", "roc_year"],
                                    name="number_sequence_unique"),
        ]

    def __str__(self):
        return f"{self.kind}{self.document_type}{self.roc_year:03d}: {self.last}"


def get_private_storage():
    # A callable, so that migrations name it instead of freezing this machine's storage. What
    # it returns looks up settings.STORAGES["private"] when used: the local folder or an S3
    # bucket, as the settings (or a test) say (permits/storage.py).
    return private_storage


def stored_file_path(instance, filename):
    # The stored name says nothing of the user's file name (kept in original_name).
    return f"{instance.upload_dir}/{timezone.now():%Y/%m}/{secrets.token_hex(16)}"


class StoredFile(models.Model):
    """An uploaded file kept outside every web root, served only through a view that checks
    who may see what it belongs to. Written by permits.attachments.store()."""

    upload_dir = "files"

    file = models.FileField(storage=get_private_storage, upload_to=stored_file_path,
                            max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("file type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self):
        return self.original_name


class Attachment(StoredFile):
    """An uploaded document of a case, served only through
    permits.attachment_views.attachment_download, which checks visible_to()."""

    upload_dir = "attachments"

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="attachments")
    document_kind = models.CharField(_("document kind"), max_length=40)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "pk"]

    def get_document_kind_display(self):
        from permits import procedures

        labels = dict(procedures.document_kind_choices(self.application.document_type))
        return labels.get(self.document_kind, self.document_kind)


class PartyRole(models.TextChoices):
    """The trading parties a procedure may ask for (SHTC-15)."""

    BUYER = "buyer", _("Buyer")
    CONSIGNEE = "consignee", _("Consignee")
    END_USER = "end_user", _("End user")


class Party(ChoiceLabels, models.Model):
    """買方 / 收貨人 / 最終使用者 of a case: names and addresses in English as printed on the
    assurance; a mainland-China end user also gives its name in Traditional Chinese
    (SHTC-15). Written by permits.parties.parties_save()."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="parties")
    role = models.CharField(_("party"), max_length=12, choices=PartyRole.choices)
    name = models.CharField(_("name (English)"), max_length=200)
    address = models.CharField(_("address (English)"), max_length=300)
    country = models.CharField(_("country"), max_length=2)
    name_zh = models.CharField(_("name (Traditional Chinese)"), max_length=120, blank=True)
    same_as_buyer = models.BooleanField(_("same as buyer"), default=False)

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["application", "role"]
        constraints = [
            models.UniqueConstraint(fields=["application", "role"], name="party_role_unique"),
        ]

    def __str__(self):
        return f"{self.get_role_display()}: {self.name}"


class PermitRevocation(models.Model):
    """註銷 (menu 拾肆, SHTC-11): who cancelled a permit, when and why. Written with
    Permit.revoked_at by permits.changes.permit_revoke() and by nothing else."""

    permit = models.OneToOneField(Permit, on_delete=models.PROTECT, related_name="revocation")
    reason = models.TextField(_("reason for cancellation"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              verbose_name=_("by"))
    created_at = models.DateTimeField(_("cancelled"), default=timezone.now)

    class Meta:
        verbose_name = _("permit cancellation")
        verbose_name_plural = _("permit cancellations")

    def __str__(self):
        return f"{self.permit.permit_no}: {self.reason[:40]}"


class OutboundEmail(models.Model):
    """The e-mail outbox: a row written in the same transaction as the change it reports,
    sent by Celery after commit (permits.tasks), at most once."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, null=True,
                                    blank=True, related_name="emails")
    to = models.EmailField()
    subject = models.CharField(max_length=250)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # A worker claims a row before sending; a claim older than the lease is abandoned
    # (the worker died) and the row may be taken again.
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mail outbox")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(sent_at__isnull=True),
                         name="outbox_unsent"),
        ]

    def __str__(self):
        return f"{self.to}: {self.subject}"


class UnsavedInput(models.Model):
    """ACC-3: what was on a case entry page when the session was about to end for inactivity,
    as typed: never checked and never part of the case. The page posts it shortly before
    the logout (permits.autosave); 匯入暫存資料 or opening the draft's page brings it back
    into the form, and the page's next valid 下一步 / 確認 drops it (PERMIT-6).

    One row per user and page: a draft's basic data or one of its goods items
    (`application` set), or the basic data of a new case not yet saved (`application`
    empty, keyed by the entry)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    entry = models.CharField(max_length=60)  # the CaseEntry: "<namespace>:<prefix>"
    application = models.ForeignKey(Application, on_delete=models.CASCADE, null=True,
                                    blank=True, related_name="+")
    step = models.CharField(max_length=30)  # "basic", "item-new", "item-<Item pk>"
    data = models.JSONField()  # {field name: [values]}, as the form posted them
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "entry", "step"],
                                    condition=Q(application__isnull=True),
                                    name="unsaved_input_new_case"),
            models.UniqueConstraint(fields=["user", "application", "step"],
                                    condition=Q(application__isnull=False),
                                    name="unsaved_input_draft"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.entry} {self.application_id or '-'} {self.step}"


class ItemImportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to be checked")
    CHECKING = "checking", _("Being checked")
    REFUSED = "refused", _("File refused")
    READY = "ready", _("Checked: waiting for confirmation")
    IMPORTED = "imported", _("Items imported")
    CANCELLED = "cancelled", _("Import cancelled")


class ItemImport(models.Model):
    """匯入 Excel / 匯入 ODF (SHTC-17): one spreadsheet of goods items uploaded for a draft, as
    the worker checks it (permits.item_imports.import_check) and the user then confirms or
    cancels it. The uploaded file is kept in the private storage only until it is checked;
    what the check found stays: every bad cell (`errors`), or the cleaned rows with the
    counts of the preview and the fingerprint of the items they were compared with. Rows
    older than a day are purged (permits.tasks.purge_drafts)."""

    upload_dir = "item-imports"

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="+")
    status = models.CharField(max_length=10, choices=ItemImportStatus.choices,
                              default=ItemImportStatus.QUEUED)
    file = models.FileField(storage=get_private_storage, upload_to=stored_file_path,
                            max_length=200, blank=True)
    original_name = models.CharField(_("file name"), max_length=200)
    format = models.CharField(max_length=4)  # "xlsx" | "ods", read from the content
    # The language of the page that uploaded it: the worker says the bad cells in it.
    language = models.CharField(max_length=10, blank=True)
    # Rows read so far, and the rows of the file once known (None: not yet).
    progress = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)  # a refusal of the whole file
    errors = models.JSONField(default=list, blank=True)  # [{sheet, row, column, value, message}]
    error_count = models.PositiveIntegerField(default=0)  # len(errors), read without them
    rows = models.JSONField(default=list, blank=True)  # the cleaned items, to import on 確認
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    fingerprint = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("goods item import")
        verbose_name_plural = _("goods item imports")

    def __str__(self):
        return f"{self.application_id} {self.original_name} {self.status}"

    @property
    def done(self):
        """Whether the check is over (the follow page stops following it)."""
        return self.status not in (ItemImportStatus.QUEUED, ItemImportStatus.CHECKING)


# --- The working-day clock (issue 14, X3; permits/workdays.py) ---------------------------

WORKDAY_YEARS = (2000, 2099)  # the years an adjustment may fall in


class WorkdayKind(models.TextChoices):
    """What the bureau changed of Taiwan's calendar for one day."""

    WORKDAY = "workday", _("Make-up workday")
    DAY_OFF = "day_off", _("Day off (e.g. a typhoon)")


class WorkdayAdjustment(ChoiceLabels, models.Model):
    """One day the bureau works or does not, against the national calendar (weekends and the
    holidays of the `holidays` package's TW calendar, its 補假 and 補班 included): a Saturday
    made a workday (補班) the package does not know yet, a typhoon day off (停止上班). Kept by
    staff holding its change permission; reviewers read it (permits.apps)."""

    date = models.DateField(_("date"), unique=True, error_messages={
        "unique": _("This date already has an adjustment: change that one instead.")})
    kind = models.CharField(_("kind"), max_length=10, choices=WorkdayKind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True,
                            help_text=_("Why, e.g. the announcement of the Directorate-General "
                                        "of Personnel Administration."))

    class Meta:
        verbose_name = _("working-day adjustment")
        verbose_name_plural = _("working-day adjustments")
        ordering = ["-date"]

    def __str__(self):
        return f"{self.date.isoformat()} {self.get_kind_display()}"

    def clean(self):
        from django.core.exceptions import ValidationError

        from permits import workdays

        if self.date is None or self.kind not in WorkdayKind.values:
            return
        first, last = WORKDAY_YEARS
        if not first <= self.date.year <= last:
            raise ValidationError({"date": ValidationError(
                _("Choose a date in the years %(first)s to %(last)s."), code="out_of_range",
                params={"first": first, "last": last})})
        national = workdays.national_workday(self.date)
        if self.kind == WorkdayKind.WORKDAY and national:
            raise ValidationError({"kind": ValidationError(
                _("This day is already a working day: a make-up workday is a day that would "
                  "otherwise be off (a weekend or a holiday)."), code="already_workday")})
        if self.kind == WorkdayKind.DAY_OFF and not national:
            raise ValidationError({"kind": ValidationError(
                _("This day is already off (a weekend or a national holiday)."),
                code="already_off")})


class ReviewStage(models.TextChoices):
    """The stages of a review the clock measures (permits.workdays.STAGE_STATUSES)."""

    INITIAL_REVIEW = "initial_review", pgettext_lazy("review stage", "Initial review")
    CONSULTATION = "consultation", pgettext_lazy("review stage", "Inter-agency consultation")
    SECOND_REVIEW = "second_review", pgettext_lazy("review stage", "Second review")


class ReviewTarget(ChoiceLabels, models.Model):
    """How many working days the bureau gives itself for one stage of one procedure (SHTC
    manual §1.6: 初審 within 7, 協查 within 30). A stage without a row has no target: no due
    date, never overdue (masks are issued at once)."""

    document_type = models.CharField(_("document type"), max_length=2,
                                     choices=DocumentType.choices)
    stage = models.CharField(_("stage"), max_length=20, choices=ReviewStage.choices)
    working_days = models.PositiveSmallIntegerField(
        _("working days"), validators=[MinValueValidator(1), MaxValueValidator(365)])

    class Meta:
        verbose_name = _("review target")
        verbose_name_plural = _("review targets")
        ordering = ["document_type", "stage"]
        constraints = [
            models.UniqueConstraint(fields=["document_type", "stage"],
                                    name="review_target_one_per_stage",
                                    violation_error_message=_(
                                        "This stage of this procedure already has a target: "
                                        "change that one instead.")),
            models.CheckConstraint(condition=Q(working_days__gte=1, working_days__lte=365),
                                   name="review_target_days_range"),
        ]

    def __str__(self):
        return f"{self.get_document_type_display()} · {self.get_stage_display()}"


class QueueCount(models.Model):
    """How many cases are in each of the reviewers' queues, kept by PostgreSQL's triggers on
    the cases (issue 10; permits.admin_queues.counter_statements, migration 0017): the
    filter 工作佇列 reads these few rows instead of counting the cases on every list page.
    `kind` "u" (待分派: key 0), "m" (我的案件: key the assignee's id) or "o" (逾期: key the
    stage's due day as days since 1970-01-01, a row a day; 逾期 on a day is the sum of the
    rows before it). A row whose count falls to 0 is deleted. Not kept on SQLite (the
    queues are counted there)."""

    kind = models.CharField(max_length=1)
    key = models.BigIntegerField()
    n = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="queue_count_key")]

    def __str__(self):
        return f"{self.kind} {self.key}: {self.n}"

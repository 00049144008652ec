"""Strategic high-tech commodities (SHTC) export permits, DOMAIN.md §4.

Reference data first (REFERENCE.md: data with dates, not constants): the four export control
regimes and their members (SHTC-14), the controlled areas (管制地區), the countries whose
re-export approval a re-export needs (SHTC-2 item 7) and the UN/LOCODE location codes of
the 轉口港代碼 look-up (SHTC-15). shtc/rules.py reads them; the bureau keeps them in the
admin, and load_locode / the admin upload load a UN/LOCODE release.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.choices import ChoiceLabels


class Regime(models.TextChoices):
    """The four multilateral export control regimes of SHTC-14."""

    WASSENAAR = "wassenaar", _("Wassenaar Arrangement")
    MTCR = "mtcr", _("Missile Technology Control Regime")
    NSG = "nsg", _("Nuclear Suppliers Group")
    AUSTRALIA_GROUP = "australia_group", _("Australia Group")


class RegimeMembershipQuerySet(models.QuerySet):
    def on(self, day):
        """The memberships in force on `day`: joined on or before it, not left by then."""
        return self.filter(Q(left_on__isnull=True) | Q(left_on__gt=day), joined_on__lte=day)


class RegimeMembership(models.Model):
    """A country's membership of one regime from `joined_on` until `left_on` (the first day
    it is no longer a member). A country that leaves and rejoins has two rows."""

    country = models.ForeignKey("permits.Country", on_delete=models.PROTECT,
                                related_name="regime_memberships", verbose_name=_("country"))
    regime = models.CharField(_("regime"), max_length=20, choices=Regime.choices)
    joined_on = models.DateField(_("member since"))
    left_on = models.DateField(_("member until"), null=True, blank=True,
                               help_text=_("The first day the country is no longer a member."))
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = RegimeMembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("regime membership")
        verbose_name_plural = _("regime memberships")
        ordering = ["regime", "country"]
        constraints = [
            models.UniqueConstraint(fields=["country", "regime", "joined_on"],
                                    name="regime_membership_unique"),
            models.CheckConstraint(condition=Q(left_on__isnull=True)
                                   | Q(left_on__gt=F("joined_on")),
                                   name="regime_membership_order"),
        ]

    def __str__(self):
        return f"{self.country_id} {self.get_regime_display()}"


class ControlledArea(models.Model):
    """管制地區 (REFERENCE.md, Destinations): no two-year validity by the five-export rule
    (SHTC-14 (2)). Iran and North Korea also have their own procedure (9-2-1, SHTC-6)."""

    country = models.OneToOneField("permits.Country", on_delete=models.PROTECT,
                                   primary_key=True, related_name="controlled_area",
                                   verbose_name=_("country"))
    own_procedure = models.BooleanField(
        _("own procedure (9-2-1)"), default=False,
        help_text=_("Exports go through 9-2-1 輸往伊朗北韓, not 9-1-1."))
    trade_banned_since = models.DateField(
        _("total trade ban since"), null=True, blank=True,
        help_text=_("Applicants are warned before they start a case."))
    note = models.CharField(_("note"), max_length=200, blank=True)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("controlled area")
        verbose_name_plural = _("controlled areas")
        ordering = ["country"]

    def __str__(self):
        return str(self.country)


class ReexportApprovalCountry(models.Model):
    """An original exporting country whose government must approve a re-export of its goods
    (SHTC-2 item 7), unless the goods go back to it."""

    country = models.OneToOneField("permits.Country", on_delete=models.PROTECT,
                                   primary_key=True, related_name="reexport_approval",
                                   verbose_name=_("country"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("country requiring re-export approval")
        verbose_name_plural = _("countries requiring re-export approval")
        ordering = ["country"]

    def __str__(self):
        return str(self.country)


class Port(models.Model):
    """A UN/LOCODE location (轉口港代碼, SHTC-15): the ISO country code and three letters or
    digits (USLAX, TWKEL). Every location of a country is listed, not only seaports, as in
    the manual's look-up (USAA4 … USZZZ). `edition` names the release its data comes from
    (the one that added or last changed it: shtc/locode.py). The country stays a plain
    code: UN/LOCODE also lists places outside ISO 3166-1 (XZ, international waters)."""

    code = models.CharField(
        _("location code"), max_length=5, primary_key=True,
        validators=[RegexValidator(r"^[A-Z]{2}[A-Z0-9]{3}$", _(
            "Five capitals or digits: the country code and three letters or digits (USLAX)."),
            code="location_code")])
    country = models.CharField(_("country code"), max_length=2, db_index=True)
    name = models.CharField(_("name"), max_length=100)
    name_ascii = models.CharField(_("name without diacritics"), max_length=100, blank=True)
    subdivision = models.CharField(_("subdivision"), max_length=3, blank=True)
    # The eight positions of UN/LOCODE's function classifier: 1 port, 2 rail, 3 road,
    # 4 airport, 5 postal, 6 multimodal, 7 fixed transport, B border crossing.
    function = models.CharField(_("function"), max_length=8, blank=True)
    status = models.CharField(_("status"), max_length=2, blank=True)
    iata = models.CharField(_("IATA code"), max_length=3, blank=True)
    coordinates = models.CharField(_("coordinates"), max_length=15, blank=True)
    edition = models.CharField(_("UN/LOCODE edition"), max_length=60)

    class Meta:
        verbose_name = _("location code (UN/LOCODE)")
        verbose_name_plural = _("location codes (UN/LOCODE)")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def location(self):
        return self.code[2:]

    @property
    def is_seaport(self):
        return self.function[:1] == "1"


# --- The SHTC case (issue 11) -----------------------------------------------------------------


class AssuranceRoute(models.TextChoices):
    """Whether the case carries an end-use assurance (SHTC-1, the usual case: 登錄並列印最終用途
    保證書 gives a 登錄編號) or goes without one under Article 18(1) of the SHTC regulations
    (SHTC-5: one reason ticked, 申請 gives the 收件編號 directly)."""

    WITH_ASSURANCE = "assurance", _("With an end-use assurance")
    EXHIBITION = "exhibition", _(
        "Without: exhibition goods exported temporarily and re-imported after the show")
    SPECIAL_APPROVAL = "special_approval", _(
        "Without: another case the bureau approved specially")


# SHTC-2 item 5: a bound on the URL typed in (a web address is rarely longer).
END_USER_URL_MAX_LENGTH = 300


class ShtcApplication(ChoiceLabels, models.Model):
    """What an SHTC export case adds to permits.Application (SHTC-15), written by the 9-1-1
    entry's 下一步 (shtc/entry.py) while the case is a draft. The destination is the case's
    own Application.destination_country; the buyer, consignee and end user are its
    permits.Party rows.

    partial_shipment  分批 (True, the default) or 不分批: one export only (SHTC-14, manual §2.2
                      item 8); printed on the permit.
    transit_port      轉口港代碼, a UN/LOCODE code of the Port table when given. Kept as the code
                      typed, not a foreign key: a case keeps what it was filed with when a
                      later UN/LOCODE release changes the table.
    end_use           the specific end use in English (SHTC-4: 登錄最終用途並申請 in 9-1-2, which
                      must match the signed assurance; SHTC-5: entered with the basic data).
                      Empty until then; printed on the assurance when known.
    assurance_route   with an assurance, or the reason there is none (SHTC-5).
    end_user_url      the end user's English website (http or https), given in 9-1-2 in
                      place of its company profile (SHTC-2 item 5). Empty when none.
    validity_months   the permit's validity as decided at 准件結案 (SHTC-14: 6 or 24) and
    validity_rule     the rule that applied, in words (shtc.rules.validity); empty before.
    assurance         on a 9-2-2 application (Iran, North Korea: SHTC-7), the 9-2-1 case of
                      the end-use assurance it was loaded from; None otherwise.
    """

    application = models.OneToOneField("permits.Application", on_delete=models.CASCADE,
                                       related_name="shtc", verbose_name=_("application"))
    partial_shipment = models.BooleanField(_("partial shipments"), default=True)
    transit_port = models.CharField(
        _("transit port code"), max_length=5, blank=True,
        validators=[RegexValidator(r"^[A-Z]{2}[A-Z0-9]{3}$", _(
            "Five capitals or digits: the country code and three letters or digits (USLAX)."),
            code="location_code")])
    end_use = models.TextField(_("specific end use (English)"), blank=True)
    assurance_route = models.CharField(_("end-use assurance"), max_length=20,
                                       choices=AssuranceRoute.choices,
                                       default=AssuranceRoute.WITH_ASSURANCE)
    # SHTC-14: what the permit's validity was decided from, written once at 准件結案 by
    # ShtcProcedure.validity (shtc/review.py) and shown to the reviewer afterwards; before
    # approval the case page computes it for the day. Never extended: nothing rewrites it.
    validity_months = models.PositiveSmallIntegerField(_("validity (months)"), null=True,
                                                       blank=True)
    validity_rule = models.TextField(_("validity rule applied"), blank=True)
    # 9-2-2 (SHTC-7): the Iran / North Korea end-use assurance registered in 9-2-1 whose
    # 登錄編號 loaded this application; its items bound this one's (shtc/iran_filing.py).
    assurance = models.ForeignKey(
        "permits.Application", on_delete=models.PROTECT, null=True, blank=True,
        related_name="iran_applications", verbose_name=_("end-use assurance (9-2-1)"))
    # SHTC-2 item 5: the end user's company profile, or its English website instead.
    end_user_url = models.URLField(
        _("end user's English website"), max_length=END_USER_URL_MAX_LENGTH, blank=True,
        help_text=_("Instead of uploading the end user's company profile, when the end user "
                    "has a website in English."))

    class Meta:
        verbose_name = _("SHTC application")
        verbose_name_plural = _("SHTC applications")

    def __str__(self):
        return f"{self.application} ({self.get_assurance_route_display()})"

    @property
    def with_assurance(self):
        return self.assurance_route == AssuranceRoute.WITH_ASSURANCE


class ReimportReminderStep(models.IntegerChoices):
    """When an exhibition permit's holder is reminded to send the proof of re-import
    (SHTC-5), in order: a later step replaces an earlier one that was missed."""

    DAYS_30 = 1, _("30 days before the validity ends")
    DAYS_7 = 2, _("7 days before the validity ends")
    EXPIRED = 3, _("after the validity ended")


class ReimportReminder(models.Model):
    """One reminder mail of an exhibition permit whose proof of re-import is outstanding
    (shtc/reimport.py). Inserted in the same transaction as its outbox row, under a unique
    constraint: each step is mailed once, however often or concurrently the job runs."""

    permit = models.ForeignKey("permits.Permit", on_delete=models.CASCADE,
                               related_name="reimport_reminders", verbose_name=_("permit"))
    step = models.PositiveSmallIntegerField(_("reminder"), choices=ReimportReminderStep.choices)
    valid_until = models.DateField(_("valid until"))
    email = models.ForeignKey("permits.OutboundEmail", on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("e-mail"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("re-import reminder")
        verbose_name_plural = _("re-import reminders")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["permit", "step"],
                                    name="shtc_reimport_reminder_once_per_step"),
        ]

    def __str__(self):
        return f"{self.permit} {self.get_step_display()}"


# --- Risk flags and the screening list (issue 14, point 4: shtc/risk.py) ----------------------

SCREENING_NAME_MAX = 300
SCREENING_ALIASES_MAX = 4000
SCREENING_SOURCE_MAX = 100
SCREENING_NOTE_MAX = 1000


class ScreeningEntry(models.Model):
    """An entry of the screening list the bureau keeps as data (REFERENCE.md: the export
    entity list 戰略性高科技貨品出口實體管理名單, drawn from UN Security Council and partners'
    sanction lists), uploaded as CSV in the admin (shtc/admin_screening.py). Parties of a
    submitted case are matched against its names and aliases (shtc/risk.py). An entry a later
    upload of its source list no longer holds is kept, not in use: a flag names it."""

    name = models.CharField(_("name"), max_length=SCREENING_NAME_MAX)
    aliases = models.TextField(_("aliases"), blank=True, max_length=SCREENING_ALIASES_MAX,
                               help_text=_("Other names of the entry, separated by “;”."))
    country = models.CharField(_("country code"), max_length=2, blank=True)
    source_list = models.CharField(_("source list"), max_length=SCREENING_SOURCE_MAX)
    note = models.TextField(_("note"), blank=True, max_length=SCREENING_NOTE_MAX)
    active = models.BooleanField(_("in use"), default=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("screening list entry")
        verbose_name_plural = _("screening list")
        ordering = ["source_list", "name"]
        constraints = [
            models.UniqueConstraint(fields=["source_list", "name", "country"],
                                    name="shtc_screening_entry_unique"),
        ]

    def __str__(self):
        return f"{self.name} ({self.source_list})"

    def save(self, *args, **kwargs):
        self.updated_at = timezone.now()  # the screening copy of each process reloads on it
        super().save(*args, **kwargs)

    @property
    def alias_list(self):
        return [alias.strip() for alias in self.aliases.split(";") if alias.strip()]


class RiskFlagKind(models.TextChoices):
    CONTROLLED_DESTINATION = "controlled_destination", _("Destination Iran or North Korea")
    WATCHED_DESTINATION = "watched_destination", _("Destination mainland China or the UAE")
    REEXPORT = "reexport", _("Re-export needing the original country's approval")
    FIRST_EXPORT = "first_export", _("First export to this end user")
    SCREENING_MATCH = "screening_match", _("Matches the screening list")
    TRANSIT_PORT = "transit_port", _("Transit port in a controlled area")


class RiskFlag(ChoiceLabels, models.Model):
    """A risk flag (X6) of an SHTC case, computed once when the case is submitted (申請) by
    shtc.risk.flag_case in the transaction of the move: it informs the reviewer and never
    blocks. `params` holds what the flag's words name (RiskFlag.text renders them in the
    reader's language); a screening match keeps its score and the entry it matched. The
    reviewer's decision on it is recorded in decided_by / decided_at / decision_note."""

    application = models.ForeignKey("permits.Application", on_delete=models.CASCADE,
                                    related_name="risk_flags", verbose_name=_("application"))
    kind = models.CharField(_("risk"), max_length=30, choices=RiskFlagKind.choices)
    params = models.JSONField(_("details"), default=dict, blank=True)
    score = models.FloatField(_("match score"), null=True, blank=True)
    matched_entry = models.ForeignKey(ScreeningEntry, on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="flags",
                                      verbose_name=_("screening list entry"))
    created_at = models.DateTimeField(_("raised"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision"), blank=True)

    class Meta:
        verbose_name = _("risk flag")
        verbose_name_plural = _("risk flags")
        ordering = ["application", "pk"]
        indexes = [models.Index(fields=["application", "kind"], name="shtc_riskflag_case_kind")]

    def __str__(self):
        return self.text

    @property
    def text(self):
        from shtc import risk

        return risk.flag_text(self)

"""Case entry: the pages through which an applicant, or the agent filing for it, enters a case
step by step (PERMIT-6, ACC-4; the mask manual's 輸入許可申請 and 更正輸入許可, the SHTC manual's
9-1-1 and 9-2-1). Shaped like uktrade/icms: the shared pages live here, and a procedure
declares a CaseEntry subclass that names its forms, buttons and final action.

    basic data ─下一步→ review (data shown back, goods items) ─新增貨品明細→ item ─確認→ review
                                                            ─申請 (the final action)→ done

The working case is an Application in 暫存 (Status.DRAFT) from the first valid "下一步": it
survives the session (ACC-3), is listed in 我的案件 with a way to continue it, and is the
draft of PERMIT-6 ("匯入暫存資料" brings back the user's last one; "復原" resets the form).
Every step locks the case row and checks that it is still a draft, so a step posted from a
second tab after 申請 is refused; 申請 itself is a transition() under the same lock, so a
second 申請 of the same case, from any tab or client, finds it submitted and files nothing.
Unfinished drafts older than settings.DRAFT_MAX_AGE_DAYS are purged by a periodic task.

A change (更正, 餘額重簽, 補正…) is entered the same way: its procedure's start page loads the
original (帶入原始資料 / 帶入參考資料) into a new draft with draft_from(), and permits.changes
checks its gates when it is loaded and again, under the permit's lock, when it is issued.
"""

import copy
import datetime
import re

from crispy_forms.layout import Layout
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import FormView

from permits import autosave, documents, item_pages, parties, procedures, services, workflow
from permits.decorators import filer_required
from permits.fields import country_names
from permits.listing import LINK_KEY, key_link
from permits.models import Application, Item, Kind, Permit, PermitVersion, Status
from permits.storage import files_delete_on_commit
from portal.accounts import identifiers
from portal.accounts.identifiers import normalize
from portal.accounts.models import IdentifierType, Role, User
from portal.forms import AsciiCharField, PortalForm, field_label, put_field

IMPORT_DRAFT = "import_draft"  # 匯入暫存資料
PERMIT_NO_LENGTH = 14
RESET = "reset"  # 復原

# 帶入參考資料 (PERMIT-4; the SHTC manual §2.1): the numbers the 申請類別 box may take.
BALANCE_PERMIT_NO = "balance_permit_no"  # 餘額註銷證號: a 餘額重簽 of the cancelled permit
PERMIT_NO = "permit_no"  # 證書號碼: the case of an issued permit
RECEIPT_NO = "receipt_no"  # 原收件編號: a filed case
REGISTRATION_NO = "registration_no"  # 保證書編號: a registered assurance's 登錄編號
REFERENCE_FIELDS = (BALANCE_PERMIT_NO, PERMIT_NO, RECEIPT_NO, REGISTRATION_NO)
REFERENCE_NUMBER_RE = re.compile(r"[A-Z0-9]+")
REFERENCE_EXAMPLES = {BALANCE_PERMIT_NO: "PSE11500000003", PERMIT_NO: "PSE11500000003",
                      RECEIPT_NO: "RSE11500000042", REGISTRATION_NO: "EEU11500000007"}

# The basic data every case carries (Application fields), and the agent's own contact data
# on an agent's case (the mask manual: 申辦代理人須加填申辦代理人資料).
BASIC_FIELDS = ("applicant_name", "applicant_name_en", "applicant_address", "contact_person",
                "contact_phone", "company_email")
AGENT_FIELDS = ("agent_contact_person", "agent_phone", "agent_email")
ITEM_FIELDS = ("category", "tariff_code", "description", "brand", "model", "specification",
               "control_no", "quantity", "unit", "unit_price", "currency", "amount",
               "origin_country", "source_line_no")


class AlreadySubmitted(Exception):
    """A step or 申請 of a case that is no longer a draft (another tab or client filed it)."""

    def __init__(self, application):
        super().__init__(str(application))
        self.application = application


def applicant_account(identifier):
    """The active applicant account with `identifier`, or None."""
    return User.objects.filter(identifier=normalize(identifier), role=Role.APPLICANT,
                               is_active=True, is_staff=False).first()


def check_digit_problem(identifier):
    """The identifiers' own ValidationError (code ban_checksum or national_id_checksum) for
    a normalized identifier shaped as a 統一編號 or an ID / resident certificate number whose
    check digit is wrong; None otherwise (a passport number has no check digit)."""
    if identifiers.BAN_RE.match(identifier):
        kind = IdentifierType.BAN
    elif identifiers.NATIONAL_ID_RE.match(identifier) or \
            identifiers.RESIDENT_ID_RE.match(identifier):
        kind = IdentifierType.NATIONAL_ID
    else:
        return None
    try:
        identifiers.validate_identifier(kind, identifier)
    except ValidationError as error:
        return error
    return None


def drafts_of(user):
    """The cases `user` is entering: drafts it files itself, as applicant or as agent. An
    applicant does not continue a draft its agent started (nor the other way round).
    (`user` may be an account's id: both branches name it, so visible_to() adds nothing.)"""
    return Application.objects.filter(status=Status.DRAFT).filter(
        Q(agent=user) | Q(applicant=user, agent__isnull=True))


def draft_branches(user):
    """drafts_of(user) as two querysets that never share a draft: those `user` files as
    agent, and those it files itself as applicant (no agent). Without drafts_of's OR, each is
    one range of its index (application_agent_drafts, application_applicant_drafts) in
    我的案件's order (permits.listing.Drafts). tests/permits/test_lists_lean.py checks that
    they are drafts_of's."""
    drafts = Application.objects.filter(status=Status.DRAFT)
    return drafts.filter(agent=user), drafts.filter(applicant=user, agent__isnull=True)


# --- Forms ------------------------------------------------------------------------------------

# Each basic form class's 申請人統一編號 locked (disabled), made once rather than set on each
# form's copy: an unbound form then copies it only when taken out (portal.forms.put_field,
# issue 10). A class's fields never change, so neither does this.
_LOCKED_APPLICANT = {}


def _locked_applicant(form_class):
    field = _LOCKED_APPLICANT.get(form_class)
    if field is None:
        field = copy.deepcopy(form_class.base_fields["applicant_identifier"])
        field.disabled = True
        _LOCKED_APPLICANT[form_class] = field
    return field


class BasicDataForm(PortalForm):
    """申請人 basic data. On an applicant's own case the identifier is the account's and
    cannot be changed; an agent types the identifier of the applicant it files for, whose
    account must exist (ACC-4). On an agent's case the agent's identifier and name come from
    its account (locked) and its contact person, phone and e-mail are the case's own,
    prefilled from the account. `fixed_applicant`: the identifier of an applicant the case
    cannot change (a change of an earlier case, an application loaded from an assurance),
    shown locked to an agent too. Procedures subclass it and add their fields."""

    # Unbound, its drawing is kept per state ({% form_fields %}: permits/templatetags/
    # form_fields.py, _kept_key).
    keep_drawing = True

    applicant_identifier = forms.CharField(label=field_label(Application, "applicant_identifier"),
                                           max_length=20)
    applicant_name = forms.CharField(label=field_label(Application, "applicant_name"),
                                     max_length=120)
    applicant_name_en = forms.CharField(label=field_label(Application, "applicant_name_en"),
                                        max_length=120, required=False)
    applicant_address = forms.CharField(label=field_label(Application, "applicant_address"),
                                        max_length=200)
    company_email = forms.EmailField(
        label=field_label(Application, "company_email"), max_length=254,
        help_text=gettext_lazy("Every change of status is e-mailed to this address."))
    contact_person = forms.CharField(label=field_label(Application, "contact_person"),
                                     max_length=60)
    contact_phone = forms.CharField(label=field_label(Application, "contact_phone"),
                                    max_length=30)
    agent_identifier = forms.CharField(label=field_label(Application, "agent_identifier"),
                                       required=False, disabled=True)
    agent_name = forms.CharField(label=field_label(Application, "agent_name"), required=False,
                                 disabled=True)
    agent_contact_person = forms.CharField(
        label=field_label(Application, "agent_contact_person"), max_length=60)
    agent_phone = forms.CharField(label=field_label(Application, "agent_phone"), max_length=30)
    agent_email = forms.EmailField(label=field_label(Application, "agent_email"),
                                   max_length=254)

    def __init__(self, *args, user, fixed_applicant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fixed_applicant = fixed_applicant
        if fixed_applicant:
            put_field(self.fields, "applicant_identifier", _locked_applicant(type(self)))
            self.initial["applicant_identifier"] = fixed_applicant
        if user.is_agent:
            # ACC-4: the agent's identifier is preset from its account and cannot change.
            self.initial["agent_identifier"] = user.identifier
            self.initial["agent_name"] = user.name
        else:
            for name in ("agent_identifier", "agent_name", *AGENT_FIELDS):
                del self.fields[name]
            # The crispy layout was made from the fields before: only those left.
            self.helper.layout = Layout(*self.fields)
            # ACC-4: preset and locked. A disabled field ignores what is posted.
            put_field(self.fields, "applicant_identifier", _locked_applicant(type(self)))
            self.initial["applicant_identifier"] = fixed_applicant or user.identifier

    def clean_applicant_identifier(self):
        if self.fixed_applicant:
            return self.fixed_applicant
        if not self.user.is_agent:
            return self.user.identifier
        identifier = normalize(self.cleaned_data["applicant_identifier"])
        if not applicant_account(identifier):
            # A mistyped identifier is said as such; only when no account has it, since a
            # passport account may look like a 統一編號 whose check digit fails.
            problem = check_digit_problem(identifier)
            if problem:
                raise problem
            raise ValidationError(
                _("There is no applicant account with this identifier: the applicant must "
                  "apply for an account first."), code="unknown_applicant")
        return identifier

    def applicant(self):
        """The applicant account of the cleaned data."""
        identifier = self.cleaned_data["applicant_identifier"]
        if not self.user.is_agent and identifier == self.user.identifier:
            return self.user
        return applicant_account(identifier)


class ReferenceForm(PortalForm):
    """申請類別 on a new case (PERMIT-4, the SHTC manual §2.1 items 1-4): one known number and
    "帶入參考資料". 餘額註銷證號, a permit cancelled for its balance (SHTC-11, menu 拾肆), loads
    a 餘額重簽 with the quantities left; 證書號碼, 原收件編號 or 保證書編號 loads an earlier case
    as the starting point of a new one (reference_draft_create). `fields`: the ones the
    entry's page offers (CaseEntry.reference_field_names)."""

    # Unbound, its drawing is kept per state ({% form_fields %}: permits/templatetags/
    # form_fields.py, _kept_key).
    keep_drawing = True

    balance_permit_no = AsciiCharField(label=gettext_lazy("Cancelled permit number for "
                                                          "balance re-issue"),
                                       max_length=PERMIT_NO_LENGTH, required=False)
    permit_no = AsciiCharField(label=gettext_lazy("Certificate number"),
                               max_length=PERMIT_NO_LENGTH, required=False)
    receipt_no = AsciiCharField(label=gettext_lazy("Original receipt number"),
                                max_length=PERMIT_NO_LENGTH, required=False)
    registration_no = AsciiCharField(label=gettext_lazy("Assurance number"),
                                     max_length=PERMIT_NO_LENGTH, required=False)

    def __init__(self, *args, fields=REFERENCE_FIELDS, **kwargs):
        super().__init__(*args, **kwargs)
        for name in [name for name in self.fields if name not in fields]:
            del self.fields[name]
        self.helper.layout = Layout(*self.fields)
        self.reference = None  # (field, number) once valid

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        # Each number loads a different case: exactly one, or the user would not know which.
        filled = [(name, data[name].upper()) for name in self.fields if data.get(name)]
        if not filled:
            raise ValidationError(_("Type one of the numbers, then click “Load reference "
                                    "data”."), code="no_reference")
        if len(filled) > 1:
            raise ValidationError(_("Type only one of the numbers: each loads a different "
                                    "case."), code="several_references")
        name, number = filled[0]
        if not REFERENCE_NUMBER_RE.fullmatch(number):
            self.add_error(name, ValidationError(
                _("A number has letters and digits only, as printed, such as %(example)s."),
                code="number_format", params={"example": REFERENCE_EXAMPLES[name]}))
            return data
        self.reference = (name, number)
        return data


def model_initial(application, form_class):
    """The form's initial values from the stored case (its fields of the same name)."""
    return {name: getattr(application, name) for name in form_class.base_fields
            if hasattr(application, name) and not name.startswith("_")}


def item_data(item):
    """An Item as the item forms post it (to check it again at 申請)."""
    data = {}
    for name in ITEM_FIELDS:
        value = getattr(item, name)
        if value is None:
            continue
        data[name] = services.plain(value)
    return data


# --- Services ----------------------------------------------------------------------------------


def _locked_draft(application):
    """The case row locked for the rest of the transaction; AlreadySubmitted if it left 暫存."""
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if locked.status != Status.DRAFT:
        raise AlreadySubmitted(locked)
    return locked


def _touch(application):
    # The purge goes by updated_at: any step keeps the draft alive.
    Application.objects.filter(pk=application.pk).update(updated_at=timezone.now())


@transaction.atomic
def draft_save_basic(*, entry, actor, form, party_forms=(), application=None,
                     client_token=None):
    """下一步 on the basic data: create the draft (first time) or update it. `form` is the
    entry's valid basic form, `party_forms` the valid forms of the procedure's parties; the
    procedure stores its own fields through entry.save_basic(). A double-clicked first
    下一步 (same `client_token`) creates one draft."""
    data = form.cleaned_data
    fields = {name: data[name] for name in (*BASIC_FIELDS, *AGENT_FIELDS) if name in data}
    if application is None:
        application = services.application_create(
            document_type=entry.document_type, kind=entry.kinds[0], applicant=form.applicant(),
            actor=actor, client_token=client_token, **fields)
        application = _locked_draft(application)
    else:
        application = _locked_draft(application)
        if application.kind == Kind.NEW and application.agent_id == actor.pk:
            applicant = form.applicant()
            if applicant.pk != application.applicant_id:
                # An agent may still change whom a new case is for, before it is filed.
                application.applicant = applicant
                application.applicant_identifier = applicant.identifier
        for name, value in fields.items():
            setattr(application, name, value)
        application.save()
    entry.save_basic(application, form)
    if party_forms:
        parties.parties_save(application=application, forms=party_forms)
    return application


@transaction.atomic
def draft_item_save(*, application, form, line_no=None):
    """確認 on a goods item: add it with the next 項次, or change item `line_no`."""
    application = _locked_draft(application)
    if line_no is None:
        item = form.save(commit=False)
        item.application = application
        item.line_no = (application.items.order_by("-line_no")
                        .values_list("line_no", flat=True).first() or 0) + 1
    else:
        item = form.save(commit=False)
    if form.cleaned_data.get("amount") is not None:
        # A form may compute the amount without asking for it (a correction's items).
        item.amount = form.cleaned_data["amount"]
    if item.amount is None:
        item.amount = services.item_amount(item.quantity, item.unit_price)
    item.save()
    _touch(application)
    return item


@transaction.atomic
def draft_item_delete(*, application, line_no):
    """Delete item `line_no`; the items after it move up, so 項次 stay 1, 2, 3…"""
    application = _locked_draft(application)
    deleted, _kinds = application.items.filter(line_no=line_no).delete()
    if not deleted:
        raise Http404
    after = application.items.filter(line_no__gt=line_no)
    # Two UPDATEs through a range no item uses: the unique (case, 項次) index is checked row
    # by row, and moving items up in place could collide in any order the database picks.
    offset = 1_000_000
    after.update(line_no=F("line_no") + offset)
    application.items.filter(line_no__gt=offset).update(line_no=F("line_no") - offset - 1)
    _touch(application)


def draft_from(*, entry, actor, source, kind, changes=None, amends=None, items=None,
               **fields):
    """A new draft of `kind` filled from the case `source` (帶入原始資料 / 帶入參考資料): its
    basic data, its items (or `items`, e.g. the balance of a cancelled permit) and what the
    procedure keeps of its own (entry.copy_extra). `fields` override the basic data."""
    data = {name: getattr(source, name) for name in BASIC_FIELDS}
    if source.destination_country:
        data["destination_country"] = source.destination_country
    data.update(fields)
    if items is None:
        items = [{**{name: getattr(item, name) for name in ITEM_FIELDS
                     if name not in ("source_line_no",)},
                  "source_line_no": item.line_no}
                 for item in source.items.order_by("line_no")]
    with transaction.atomic():
        application = services.application_create(
            document_type=entry.document_type, kind=kind, changes=changes, amends=amends,
            applicant=source.applicant, actor=actor, items=items, **data)
        stored = parties.parties_of(source)
        if stored:
            parties.parties_replace(application=application, parties={
                role: {"same_as_buyer": party.same_as_buyer,
                       **{name: getattr(party, name)
                          for name in ("name", "address", "country", "name_zh")}}
                for role, party in stored.items()})
        entry.copy_extra(source, application)
    return application


def balance_draft_create(*, entry, actor, permit):
    """帶入參考資料 with 餘額註銷證號 (SHTC-11): a 餘額重簽 draft of the cancelled `permit`, its
    data loaded and each item's quantity set to what is left of it (the write-off ledger);
    items with nothing left are not loaded. Raises ValidationError if the gates refuse."""
    from permits import changes

    with transaction.atomic():
        # Read under the permit's lock, as 註銷 and the customs feed write it.
        permit = Permit.objects.select_for_update().get(pk=permit.pk)
        problem = changes.change_problem(kind=Kind.BALANCE_REISSUE, permit=permit)
        if problem:
            raise problem
        existing = loaded_draft(entry=entry, actor=actor, kind=Kind.BALANCE_REISSUE,
                                changes=permit.current)
        if existing is not None:
            return existing
        version = permit.current
        return draft_from(entry=entry, actor=actor, source=version.application,
                          kind=Kind.BALANCE_REISSUE, changes=version,
                          items=changes.balance_items(permit))


def loaded_draft(*, entry, actor, **filters):
    """The draft of `entry` that `actor` loaded before from the same reference (`filters`
    name it) and has not filed yet, or None: a second 帶入參考資料 / 帶入原始資料 of it (a
    double click, or back and again) opens that draft rather than making another. Asked under
    the row lock of what is loaded, so that two loads at once make one draft. The draft
    returned has `loaded_before` set, for the page to say so."""
    draft = entry.cases(drafts_of(actor)).filter(**filters).order_by("-pk").first()
    if draft is not None:
        draft.loaded_before = True
    return draft


def reference_source(*, entry, user, field, number):
    """The case that 證書號碼, 原收件編號 or 保證書編號 `number` (typed in `field`) names among
    the cases of the entry's document type `user` may see, or None. Visibility is the one
    rule (visible_to): another user's number is answered as an unknown one. A permit number
    names the case of its newest version the user may see (a correction filed by another
    agent of the same applicant stays that agent's)."""
    cases = Application.objects.visible_to(user).filter(document_type=entry.document_type)
    if field == PERMIT_NO:
        version = (PermitVersion.objects.filter(permit__permit_no=number,
                                                permit__document_type=entry.document_type,
                                                application__in=cases)
                   .select_related("application").order_by("-version").first())
        return version.application if version else None
    if field == RECEIPT_NO:
        return cases.filter(receipt_no=number).first()
    if field == REGISTRATION_NO:
        return cases.filter(registration_no=number).first()
    raise ValueError(field)


def loaded_before_message(number):
    """Said when a load opened the draft an earlier load of `number` made (loaded_draft)."""
    return _("%(number)s was already loaded into a draft not yet filed: that draft was "
             "opened.") % {"number": number}


def reference_not_found(field):
    """The one answer to a number that is unknown or another user's: nothing tells which."""
    if field in (BALANCE_PERMIT_NO, PERMIT_NO):
        message = _("No permit with this number was found among your permits.")
    else:
        message = _("No case with this number was found among your cases.")
    return ValidationError(message, code="not_found")


def reference_draft_create(*, entry, actor, field, number):
    """帶入參考資料 (PERMIT-4, SHTC-1): a new draft from the case `number` names, `field` being
    one of REFERENCE_FIELDS. 餘額註銷證號 makes a 餘額重簽 (balance_draft_create); the others
    a 新申請 with the earlier case's data as a starting point (the manual: 帶入歷史資料，作為案件
    申請之參考): basic data, destination, parties, items and the procedure's own data, as
    typed. Not its numbers, status, history or attachments: the new case is the actor's draft
    (drafts_of), numbered when it is filed. The applicant's data come from its account when
    the actor is the applicant (ACC-4); an agent's contact data from the agent's. The source
    is only read. Raises ValidationError (code not_found, the balance gates' codes, or those
    of the entry's own gate: CaseEntry.reference_problem)."""
    if field == BALANCE_PERMIT_NO:
        permit = (Permit.objects.visible_to(actor)
                  .filter(document_type=entry.document_type, permit_no=number).first())
        if permit is None:
            raise reference_not_found(field)
        return balance_draft_create(entry=entry, actor=actor, permit=permit)
    source = reference_source(entry=entry, user=actor, field=field, number=number)
    if source is None:
        raise reference_not_found(field)
    with transaction.atomic():
        # One load of a case at a time: the second of two at once finds the first's draft.
        source = Application.objects.select_for_update().get(pk=source.pk)
        problem = entry.reference_problem(field, source, actor)
        if problem:
            raise problem
        existing = loaded_draft(entry=entry, actor=actor, kind=Kind.NEW, loaded_from=source)
        if existing is not None:
            return existing
        fields = {}
        if actor.pk == source.applicant_id:
            account = services.party_defaults(applicant=actor)
            fields = {name: account[name] for name in BASIC_FIELDS}
        return draft_from(entry=entry, actor=actor, source=source, kind=Kind.NEW,
                          items=entry.reference_items(source),
                          loaded_from=source, **fields)


def change_draft_create(*, entry, actor, kind, permit=None, amends=None, **fields):
    """帶入原始資料 of a change (PERMIT-2; SHTC-8 to SHTC-10, MASK-10): a new draft of `kind`
    filled from what it changes (draft_from): the version in force of `permit` for a change
    of an issued permit, or for a 補正 the case `amends` the bureau closed 補正結案. `fields`:
    the change's own data (change_description; a mismatch correction's declaration_no and
    coordination_id).

    The gates (permits.changes.change_problem) are asked again here, under the row lock of
    the permit or the amended case, so that a clearance recorded or another change filed since
    the start page was checked is seen; the change's form (permits.change_views) asked first,
    to say each refusal next to its field. Raises ValidationError; nothing is saved then."""
    from permits import changes

    kind = Kind(kind)
    with transaction.atomic():
        if kind == Kind.AMENDMENT:
            amends = Application.objects.select_for_update().get(pk=amends.pk)
            problem = changes.change_problem(kind=kind, amends=amends)
            source, version = amends, None
        else:
            permit = Permit.objects.select_for_update().get(pk=permit.pk)
            version = permit.current
            problem = changes.change_problem(
                kind=kind, permit=permit, version=version,
                declaration_no=fields.get("declaration_no", ""),
                coordination_id=fields.get("coordination_id", ""))
            source = version.application if version else None
        if problem:
            raise problem
        existing = loaded_draft(entry=entry, actor=actor, kind=kind, changes=version,
                                amends=amends)
        if existing is not None:
            return existing
        return draft_from(entry=entry, actor=actor, source=source, kind=kind, changes=version,
                          amends=amends, **fields)


class Refused(Exception):
    """申請 refused by a step's checks, run again at the moment of filing: `form` is the bound
    form with its errors, to show on `template` (the step it belongs to)."""

    def __init__(self, form, template, context=None):
        super().__init__("refused")
        self.form = form
        self.template = template
        self.context = context or {}


@transaction.atomic
def draft_submit(*, entry, application, actor):
    """申請: lock the draft, check every step again (an applicant account, a tariff code or
    what customs recorded may have changed since the step was confirmed), then run the
    entry's final action (a transition()). Raises AlreadySubmitted for a case filed
    meanwhile, Refused with the failing form, or ValidationError /
    workflow.TransitionNotAllowed; any of them leaves the draft as it was."""
    application = _locked_draft(application)
    basic = entry.basic_form_class(data=entry.basic_data(application), user=actor,
                                   **entry.basic_form_kwargs(application))
    stored_parties = entry.party_forms(application, data=entry.party_data(application))
    if not basic.is_valid() or not parties.party_forms_valid(stored_parties):
        raise Refused(basic, entry.templates["basic"], {"party_forms": stored_parties})
    # Every item by its item form's rules, as its page checks it: all at once first, as a
    # file's rows are checked (no query an item), then each item that check names with its
    # own form, the first it refuses shown (10,000 items: 132 s one form each, issue 13).
    from permits import bulk_items

    items = list(application.items.order_by("line_no"))
    for item in bulk_items.items_to_recheck(entry, application, items):
        form = entry.item_form_class(data=item_data(item), instance=item,
                                     **entry.item_form_kwargs(application, item.line_no))
        if not form.is_valid():
            raise Refused(form, entry.templates["item"], {"line_no": item.line_no})
    if not items:
        raise ValidationError(_("Add at least one goods item."), code="no_items")
    if application.kind != Kind.NEW:
        from permits import changes

        changes.check_change(application)
    return entry.final_action(application, actor)


@transaction.atomic
def drafts_purge(*, older_than=None):
    """Delete the drafts nobody touched for settings.DRAFT_MAX_AGE_DAYS (or `older_than`, a
    timedelta), with their items and attachments. Returns how many."""
    age = older_than or datetime.timedelta(days=settings.DRAFT_MAX_AGE_DAYS)
    # A draft with a 登錄編號 was registered and reopened by the bureau (SHTC-6): the
    # applicant's assurance, not an abandoned draft.
    stale = Application.objects.filter(status=Status.DRAFT, updated_at__lt=timezone.now() - age,
                                       registration_no__isnull=True)
    from permits.models import Attachment

    files = list(Attachment.objects.filter(application__in=stale).values_list("file",
                                                                              flat=True))
    count = stale.count()
    stale.delete()
    files_delete_on_commit(files)
    return count


# --- The entry a procedure declares -------------------------------------------------------------


class CaseEntry:
    """One entry flow of a procedure: subclass it, set the attributes, override the hooks, and
    route `urls()` in the procedure's urls.py (inside its app_name namespace)."""

    document_type = None
    # The kinds of case this entry enters; a new draft gets the first.
    kinds = (Kind.NEW,)
    namespace = None  # the procedure's URL namespace, e.g. "masks"
    prefix = "application"  # URL names: <namespace>:<prefix>_basic, _review, _item…
    url_root = "apply/"
    title = ""  # the manual's name of the menu entry: the page heading
    section = ""  # the menu section: the line above the heading
    basic_form_class = BasicDataForm
    item_form_class = None
    # Whether the user may add and delete items (a change of an issued permit may not).
    add_items = True
    delete_items = True
    # 匯出 Excel / 匯出 ODF / 匯入 Excel / 匯入 ODF on the review page (SHTC-17): the items as
    # a spreadsheet and back (permits.bulk_views; the columns are the item form's).
    bulk_items = False
    # The form whose fields are the spreadsheet's columns, None: item_form_class. 9-2-2 shows
    # every column of the assurance's items, of which its item form changes four.
    bulk_form_class = None
    # The new-case page offers 餘額註銷證號 and 帶入參考資料 (SHTC-11, PERMIT-4).
    balance_reissue = False
    # The numbers the new-case page's 帶入參考資料 takes (REFERENCE_FIELDS; PERMIT-4). None:
    # 餘額註銷證號 alone, when balance_reissue. See reference_field_names().
    reference_fields = None
    # 新申請 starts on an empty basic page; a change starts on the procedure's own page.
    start_url_name = None
    # A new case starts only by 帶入參考資料 (9-2-2: the assurance's 登錄編號): its page
    # offers the numbers, not the basic data (BasicView).
    reference_required = False
    # A change entry's start page (permits.change_views): for each of its kinds, the numbers
    # that may name what the change loads (PERMIT_NO, RECEIPT_NO), in the manual's order.
    change_numbers = {}
    # Whether 單證比對不符修正 also asks for 報單號碼 and 會辦識別碼 (SHTC-10).
    mismatch_reference = False
    # The start page's words: above the form, and beside it (label, help) for each kind.
    start_help = ""
    kind_help = ()
    final_status = Status.INITIAL_REVIEW
    # The portal makes the final move itself (masks are issued at once, MASK-3).
    final_by_system = False
    buttons = {
        "next": gettext_lazy("Next step"),
        "add_item": gettext_lazy("Add goods item"),
        "confirm": gettext_lazy("Confirm"),
        "submit": gettext_lazy("Apply"),
    }
    basic_help = ""
    review_help = ""
    review_help_fixed_items = ""  # the review words when no item can be added
    item_help = ""
    # The heading of Item.category in the items table (None: no such column).
    category_heading = None
    show_control_no = False
    templates = {
        "basic": "permits/entry/basic.html",
        "review": "permits/entry/review.html",
        "item": "permits/entry/item.html",
    }

    # --- hooks ---

    def url(self, step, *args):
        return reverse(f"{self.namespace}:{self.prefix}_{step}", args=args)

    def procedure(self):
        return procedures.get(self.document_type)

    def basic_form_kwargs(self, application):
        return {}

    def initial_basic(self, user):
        """The basic data of a new case: the applicant's account (ACC-4), or for an agent its
        own contact data (the applicant's come with the identifier it types)."""
        if user.is_agent:
            return {"agent_contact_person": user.contact_person, "agent_phone": user.phone,
                    "agent_email": user.email}
        return {"applicant_name": user.name, "applicant_name_en": user.name_en,
                "applicant_address": user.address, "contact_person": user.contact_person,
                "contact_phone": user.phone, "company_email": user.email}

    def basic_data(self, application):
        """The stored case as the basic form's data (to show it again, and to check it again
        at 申請)."""
        data = {name: services.plain(value)
                for name, value in model_initial(application, self.basic_form_class).items()
                if value is not None}
        data.update(self.extra_basic(application))
        return data

    def extra_basic(self, application):
        """The procedure's own basic fields of a stored case (see save_basic)."""
        return {}

    def initial_from_query(self, query):
        """Basic fields the page's query string presets (`query`: request.GET), such as a code
        picked in a look-up page that links back (SHTC's ?transit_port=USLAX). Checked here,
        never trusted: the form checks them again at 下一步."""
        return {}

    def save_basic(self, application, form):
        """Store the procedure's own basic fields (the case row is locked)."""

    def copy_extra(self, source, application):
        """Copy the procedure's own data of `source` to a new draft made from it."""

    def basic_rows(self, application):
        """(label, value) of the basic data, shown back after 下一步."""
        rows = [(field_label(Application, name), getattr(application, name))
                for name in ("applicant_identifier", *BASIC_FIELDS)]
        return rows + self.extra_rows(application)

    def extra_rows(self, application):
        return []

    def agent_rows(self, application):
        if not application.agent_id:
            return None
        return [(field_label(Application, name), getattr(application, name))
                for name in ("agent_identifier", "agent_name", *AGENT_FIELDS)]

    def item_form_kwargs(self, application, line_no):
        """The item form's own arguments for item `line_no` (None: a new item). An item of a
        balance re-issue is bounded by what is left of the line it cites (SHTC-11): an
        entry that overrides this keeps super()'s."""
        from permits import changes

        balance = changes.item_balance(application, line_no)
        return {"balance": balance} if balance is not None else {}

    def item_forms_kwargs(self, application, items):
        """item_form_kwargs() of each of `items` (all the case's Items) at once: {line_no:
        kwargs}, in a fixed number of queries, for checking thousands of items together (the
        spreadsheet import, permits.bulk_items). An entry that overrides item_form_kwargs
        overrides this too (permits.bulk_items falls back to one call per item if not)."""
        from permits import changes

        balances = changes.item_balances(application, items)
        return {item.line_no: {"balance": balances[item.line_no]}
                if item.line_no in balances else {} for item in items}

    def reference_field_names(self):
        """The 帶入參考資料 fields the new-case page shows, in the manual's order (none: no
        box). 餘額註銷證號 needs the 餘額重簽 kind; the others load a 新申請."""
        names = (self.reference_fields if self.reference_fields is not None
                 else (BALANCE_PERMIT_NO,))
        offered = {BALANCE_PERMIT_NO: self.balance_reissue}
        return tuple(name for name in REFERENCE_FIELDS if name in names
                     and offered.get(name, Kind.NEW in self.kinds))

    def reference_help(self):
        """The words of the 申請類別 box."""
        if self.reference_field_names() == (BALANCE_PERMIT_NO,):
            return _("A new application; or, for the balance of a permit cancelled under "
                     "“Cancellation or extension of licensing documents”, its number and "
                     "“Load reference data”.")
        return _("A new application. Or type one of the numbers below and click “Load "
                 "reference data”: the data stored with it are loaded as a starting point.")

    def reference_message(self, field, number):
        """The message after 帶入參考資料 loaded `number` (typed in `field`)."""
        if field == BALANCE_PERMIT_NO:
            return _("The data of permit %(permit)s were loaded with the quantities not yet "
                     "exported or imported.") % {"permit": number}
        return _("The data of %(number)s were loaded as the starting point of a new "
                 "application: check them, then click “Next step”.") % {"number": number}

    def reference_problem(self, field, source, actor):
        """Why the case `source` (found by its number in `field` among those `actor` may see)
        may not start a new case of this entry: a ValidationError, or None (9-2-2 takes only
        a registered Iran / North Korea assurance, once)."""
        return None

    def reference_items(self, source):
        """The items 帶入參考資料 copies from `source` into the new case (dicts as
        permits.services.item_add takes them). A new case's items stand alone: no 原項次 (that
        bounds only a change's quantities), unless the entry keeps them (9-2-2: each item
        bounded by the assurance's). None: every item citing its 項次 (draft_from)."""
        return [{name: getattr(item, name) for name in ITEM_FIELDS if name != "source_line_no"}
                for item in source.items.order_by("line_no")]

    def cases(self, queryset):
        """`queryset` narrowed to the cases this entry enters: of its document type and kinds;
        where several entries share them (SHTC's 9-1-1 and 9-2-2), each keeps those its data
        say are its own. A draft is loaded, found again (匯入暫存資料) and continued
        (continue_url) only through its own entry."""
        return queryset.filter(document_type=self.document_type, kind__in=self.kinds)

    def warnings(self, application):
        """[(code, message)] shown above every step of `application` (None: a new case), such
        as a trade ban on its destination (9-2-2, North Korea). None by default."""
        return []

    def may_add_items(self, application):
        """Items of a balance re-issue come from the cancelled permit: none can be added."""
        return self.add_items and application.kind != Kind.BALANCE_REISSUE

    def header(self, application):
        """A line above the steps of a change (what it changes), or "". A balance re-issue
        names the cancelled permit whose balance it carries (SHTC-11)."""
        if application.kind != Kind.BALANCE_REISSUE or application.changes_id is None:
            return ""
        return _("Balance re-issue of cancelled permit %(permit)s: the quantities are what "
                 "was left of it; they can be lowered, not raised.") % {
            "permit": application.changes.permit.permit_no}

    def review_help_for(self, application):
        """The words above the review page; a balance re-issue adds no items."""
        if not self.may_add_items(application):
            return self.review_help_fixed_items or self.review_help
        return self.review_help

    def final_status_for(self, application):
        """The status 申請 moves `application` to: final_status, unless the case's own data
        choose another route (SHTC-5: no assurance to register, 申請 files it at once)."""
        return self.final_status

    def buttons_for(self, application):
        """The buttons' words for `application` (None: a new case), by default `buttons`; a
        route that ends otherwise names its final button otherwise (SHTC-5: 申請)."""
        return self.buttons

    def final_action(self, application, actor):
        """What 申請 does with the locked, checked draft: by default the move to
        final_status_for() through transition() (which numbers the case and mails the
        status)."""
        return workflow.transition(application=application,
                                   to=self.final_status_for(application), actor=actor,
                                   system=self.final_by_system)

    def basic_saved_url(self, application):
        """Where 下一步 on the basic data leads: the data shown back, by default; an entry
        whose button saves the basic data to add an item goes on to the item (9-2-1:
        新增貨品明細/基本資料存檔)."""
        return self.url("review", application.pk)

    def done_url(self, application):
        return reverse("permits:application_detail", args=[application.pk])

    def done_message(self, application):
        return _("The case was submitted: receipt number %(number)s.") % {
            "number": application.receipt_no}

    # --- pages ---

    def load(self, request, pk):
        """The user's draft `pk` of this entry; another user's, or a filed case, is 404 (a
        filed case leads to its page instead)."""
        application = get_object_or_404(
            self.cases(Application.objects.visible_to(request.user)), pk=pk)
        if application.status != Status.DRAFT:
            raise AlreadySubmitted(application)
        if not drafts_of(request.user).filter(pk=pk).exists():
            raise Http404
        return application

    def item_table(self, request, application, *, editable=True):
        """The page of the case's goods items `request` asks for (?page=N; issue 13: up to
        10,000 items), its rows written out (permits.item_pages): each item's 項次 linked to
        its page and its 刪除 button when `editable` (the review page), the number alone
        otherwise. Two queries, whatever the number of items."""
        table = item_pages.stored_page(application, request.GET.get("page"))
        namespace = f"{self.namespace}:{self.prefix}"
        table.rows = item_pages.review_rows(
            table, entry=self, application=application, request=request,
            item_url=f"{namespace}_item" if editable else "",
            delete_url=f"{namespace}_item_delete" if editable and self.delete_items else "",
            category_label=self.procedure().item_category_label,
            country_names=country_names({item.origin_country for item in table.items}))
        return table

    def review_url(self, application, line_no=None):
        """The review page; with `line_no`, its page that lists that item, at its row (the
        first page: the page's own address)."""
        url = self.url("review", application.pk)
        page = item_pages.page_of_line(line_no) if line_no is not None else 1
        return url if page == 1 else f"{url}?page={page}#item-{int(line_no)}"

    def context(self, application, **extra):
        """What the entry's templates need: the entry, the case and the URLs of its steps."""
        context = {"entry": self, "application": application,
                   "entry_buttons": self.buttons_for(application),
                   "header": self.header(application) if application else "",
                   "step_warnings": self.warnings(application)}
        if application is not None:
            pk = application.pk
            context.update(
                entry_edit_url=self.url("edit", pk), entry_review_url=self.url("review", pk),
                entry_submit_url=self.url("submit", pk),
                entry_item_add_url=(self.url("item_add", pk) if self.may_add_items(application)
                                    else ""),
                entry_item_url_name=f"{self.namespace}:{self.prefix}_item",
                entry_item_delete_url_name=(f"{self.namespace}:{self.prefix}_item_delete"
                                            if self.delete_items else ""))
        return {**context, **extra}

    def urls(self):
        """The URL patterns of this entry, to include in the procedure's urlpatterns."""
        root, prefix = self.url_root, self.prefix
        basic = filer_required(BasicView.as_view(entry=self))
        item = filer_required(ItemView.as_view(entry=self))
        patterns = [
            path(f"{root}<int:pk>/", basic, name=f"{prefix}_edit"),
            path(f"{root}<int:pk>/review/", filer_required(self.review_view),
                 name=f"{prefix}_review"),
            path(f"{root}<int:pk>/items/<int:line_no>/", item, name=f"{prefix}_item"),
            path(f"{root}<int:pk>/submit/", require_POST(filer_required(self.submit_view)),
                 name=f"{prefix}_submit"),
        ]
        if self.start_url_name is None:
            patterns.insert(0, path(root, basic, name=f"{prefix}_basic"))
        if self.add_items:
            patterns.append(path(f"{root}<int:pk>/items/new/", item, name=f"{prefix}_item_add"))
        if self.delete_items:
            patterns.append(path(f"{root}<int:pk>/items/<int:line_no>/delete/",
                                 require_POST(filer_required(self.item_delete_view)),
                                 name=f"{prefix}_item_delete"))
        return patterns

    def submitted(self, request, application):
        """A step of a case filed meanwhile: say so and show the case."""
        messages.info(request, _("This case was already submitted; it can no longer be "
                                 "changed here."))
        return redirect(self.done_url(application))

    def review_view(self, request, pk):
        """The basic data shown back, the goods items, "新增貨品明細" and "申請"."""
        try:
            application = self.load(request, pk)
        except AlreadySubmitted as done:
            return self.submitted(request, done.application)
        item_page = self.item_table(request, application)
        return render(request, self.templates["review"], self.context(
            application, review_help=self.review_help_for(application),
            basic_rows=self.basic_rows(application),
            agent_rows=self.agent_rows(application), item_page=item_page,
            items=item_page.items,
            party_rows=self.party_rows(application),
            required_documents=documents.status(application)))

    def party_rows(self, application):
        return parties.party_rows(application) if self.procedure().parties else []

    def party_forms(self, application, data=None):
        """The forms of the procedure's parties (SHTC-15), bound to `data` if given."""
        if not self.procedure().parties:
            return []
        return parties.party_forms(self.procedure(), data=data, application=application)

    def party_data(self, application):
        """The stored parties as their forms post them (to check them again at 申請)."""
        data = {}
        for role, party in parties.parties_of(application).items():
            if party.same_as_buyer:
                data[f"{role}-same_as_buyer"] = "on"
            for name in ("name", "address", "country", "name_zh"):
                data[f"{role}-{name}"] = getattr(party, name)
        return data

    def item_delete_view(self, request, pk, line_no):
        try:
            application = self.load(request, pk)
            draft_item_delete(application=application, line_no=line_no)
        except AlreadySubmitted as done:
            return self.submitted(request, done.application)
        messages.success(request, _("Item %(line)s was deleted; the items after it moved up.")
                         % {"line": line_no})
        return redirect(self.review_url(application, line_no))

    def submit_view(self, request, pk):
        try:
            application = self.load(request, pk)
        except AlreadySubmitted as done:
            return self.submitted(request, done.application)
        try:
            application = draft_submit(entry=self, application=application, actor=request.user)
        except AlreadySubmitted as done:  # a second 申請 that waited for the first one's lock
            return self.submitted(request, done.application)
        except Refused as refused:
            return render(request, refused.template, self.context(
                application, form=refused.form, **refused.context,
                action=self.url("item", application.pk, refused.context["line_no"])
                if "line_no" in refused.context else self.url("edit", application.pk)),
                status=400)
        except (ValidationError, workflow.TransitionNotAllowed) as error:
            for message in error_messages(error):
                messages.error(request, message)
            return redirect(self.url("review", application.pk))
        messages.success(request, self.done_message(application))
        return redirect(self.done_url(application))


def error_messages(error):
    if isinstance(error, ValidationError):
        return [str(message) for message in error.messages]
    return [str(error.message)]


class EntryMixin:
    entry = None

    def dispatch(self, request, *args, **kwargs):
        self.application = None
        try:
            if "pk" in kwargs:
                self.application = self.entry.load(request, kwargs["pk"])
            return super().dispatch(request, *args, **kwargs)
        except AlreadySubmitted as done:
            return self.entry.submitted(request, done.application)

    def get_context_data(self, **kwargs):
        return super().get_context_data(**self.entry.context(self.application, **kwargs))


class BasicView(EntryMixin, FormView):
    """The basic data: of a new case (no draft yet) or of the draft being entered. "下一步"
    saves them and shows them back; "匯入暫存資料" and "復原" as PERMIT-6 says."""

    def get_template_names(self):
        return [self.entry.templates["basic"]]

    def get_form_class(self):
        return self.entry.basic_form_class

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user,
                      **self.entry.basic_form_kwargs(self.application))
        return kwargs

    def get_initial(self):
        if self.application is not None:
            initial = self.entry.basic_data(self.application)
        else:
            initial = self.entry.initial_basic(self.request.user)
        return {**initial, **self.entry.initial_from_query(self.request.GET)}

    def get_context_data(self, **kwargs):
        if "party_forms" not in kwargs:
            kwargs["party_forms"] = self.entry.party_forms(self.application)
        reference_fields = self.entry.reference_field_names()
        if self.application is None and reference_fields and "reference_form" not in kwargs:
            # 註銷 links here with 餘額註銷證號 filled in (SHTC-11): shown, never trusted.
            kwargs["reference_form"] = ReferenceForm(
                fields=reference_fields,
                initial={name: self.request.GET.get(name, "")[:PERMIT_NO_LENGTH]
                         for name in reference_fields})
        kwargs.setdefault("autosave_url", autosave.autosave_url(self.entry, self.application))
        return super().get_context_data(**kwargs)

    def get(self, request, *args, **kwargs):
        # ACC-3: a draft's page brings back what was typed on it before an idle logout; a new
        # case's page only says that 匯入暫存資料 would.
        if self.application is None and autosave.unsaved_kept(
                user=request.user, entry=self.entry, step=autosave.BASIC):
            messages.info(request, _("Input not yet saved before the logout was kept: "
                                     "“Import saved draft” brings it back."))
        return self.unbound(self.get_initial(), unsaved=self.application is not None)

    def unbound(self, initial, unsaved=False):
        kwargs = self.get_form_kwargs()
        for key in ("data", "files"):
            kwargs.pop(key, None)
        kwargs["initial"] = initial
        form = self.get_form_class()(**kwargs)
        party_forms = self.entry.party_forms(self.application)
        if unsaved:
            autosave.restore(self.request, entry=self.entry, application=self.application,
                             step=autosave.BASIC, forms=[form, *party_forms])
        return self.render_to_response(self.get_context_data(form=form,
                                                             party_forms=party_forms))

    def post(self, request, *args, **kwargs):
        action = request.POST.get("draft_action")
        if action == IMPORT_DRAFT:
            return self.import_draft()
        if action == RESET:
            # 復原: only the screen's initial values remain.
            autosave.unsaved_clear(user=request.user, entry=self.entry,
                                   application=self.application, step=autosave.BASIC)
            return self.unbound(self.entry.initial_basic(request.user)
                                if self.application is None else self.get_initial())
        if self.application is None and self.entry.reference_field_names() and (
                "load_reference" in request.POST or self.entry.reference_required):
            # An entry that starts only from 帶入參考資料 takes nothing else (9-2-2).
            return self.load_reference()
        form = self.get_form()
        party_forms = self.entry.party_forms(self.application, data=request.POST)
        # Every form is checked, so that each shows its errors at once.
        valid = [form.is_valid(), parties.party_forms_valid(party_forms)]
        if all(valid):
            return self.save(form, party_forms)
        return self.render_to_response(self.get_context_data(form=form,
                                                             party_forms=party_forms),
                                       status=400)

    def import_draft(self):
        """匯入暫存資料: the user's last draft of this entry (PERMIT-6), as saved at its last
        下一步 / 確認; on a draft's own page, that draft as saved."""
        if self.application is not None:
            messages.success(self.request, _("The saved draft was brought back."))
            return self.unbound(self.get_initial(), unsaved=True)
        last = (self.entry.cases(drafts_of(self.request.user))
                .order_by("-updated_at", "-pk").first())
        # ACC-3: a new case typed (not yet saved) before an idle logout, if the last entered.
        if autosave.newer_new_case(user=self.request.user, entry=self.entry, draft=last):
            return self.unbound(self.get_initial(), unsaved=True)
        if last is None:
            messages.info(self.request, _("There is no saved draft of this document type."))
            return self.unbound(self.get_initial())
        messages.success(self.request, _("The saved draft was brought back."))
        return redirect(autosave.resume_url(user=self.request.user, entry=self.entry,
                                            draft=last))

    def load_reference(self):
        """帶入參考資料 with one of the entry's numbers: a new draft from the stored case
        (reference_draft_create), then its basic page."""
        form = ReferenceForm(self.request.POST, fields=self.entry.reference_field_names())
        if form.is_valid():
            field, number = form.reference
            try:
                application = reference_draft_create(entry=self.entry, actor=self.request.user,
                                                     field=field, number=number)
            except ValidationError as error:
                form.add_error(field, error)
            else:
                if getattr(application, "loaded_before", False):
                    messages.info(self.request, loaded_before_message(number))
                else:
                    messages.success(self.request, self.entry.reference_message(field, number))
                return redirect(self.entry.url("edit", application.pk))
        return self.render_to_response(self.get_context_data(
            form=self.get_form_class()(**{**self.get_form_kwargs(), "data": None}),
            reference_form=form), status=400)

    def save(self, form, party_forms):
        try:
            application = draft_save_basic(
                entry=self.entry, actor=self.request.user, form=form, party_forms=party_forms,
                application=self.application,
                client_token=self.request.POST.get("client_token") or None)
        except ValidationError as error:
            form.add_error(None, error)
            return self.render_to_response(self.get_context_data(
                form=form, party_forms=party_forms), status=400)
        autosave.unsaved_clear(user=self.request.user, entry=self.entry,
                               application=self.application, step=autosave.BASIC)
        return redirect(self.entry.basic_saved_url(application))


class ItemView(EntryMixin, FormView):
    """新增貨品明細, or an item entered before (its 項次); "確認" saves it."""

    def dispatch(self, request, *args, **kwargs):
        self.line_no = kwargs.get("line_no")
        return super().dispatch(request, *args, **kwargs)

    def get_template_names(self):
        return [self.entry.templates["item"]]

    def get_form_class(self):
        return self.entry.item_form_class

    def item(self):
        if self.line_no is None:
            return None
        item = Item.objects.filter(application=self.application, line_no=self.line_no).first()
        if item is None:
            raise Http404
        return item

    def get(self, request, *args, **kwargs):
        item = self.item()  # 404 for a 項次 not entered
        if self.line_no is None and not self.entry.may_add_items(self.application):
            raise Http404
        form = self.get_form()
        # ACC-3: what was typed on this item before an idle logout comes back, not saved.
        autosave.restore(request, entry=self.entry, application=self.application,
                         step=autosave.item_step(item), forms=[form])
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, *args, **kwargs):
        if self.line_no is None and not self.entry.may_add_items(self.application):
            raise Http404
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = self.item()
        kwargs.update(self.entry.item_form_kwargs(self.application, self.line_no))
        return kwargs

    def get_context_data(self, **kwargs):
        line_no = self.line_no or self.application.items.count() + 1
        kwargs.setdefault("autosave_url", autosave.autosave_url(
            self.entry, self.application, step="item", line_no=self.line_no))
        return super().get_context_data(line_no=line_no, **kwargs)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        item = draft_item_save(application=self.application, form=form, line_no=self.line_no)
        autosave.unsaved_clear(user=self.request.user, entry=self.entry,
                               application=self.application,
                               step=autosave.item_step(form.instance if self.line_no else None))
        messages.success(self.request, _("Item %(line)s was saved.") % {"line": item.line_no})
        return redirect(self.entry.review_url(self.application, item.line_no))


_entries = []


def register(entry):
    """Make `entry` known for 我的案件's "continue" links (a procedure's AppConfig.ready())."""
    _entries.append(entry)
    return entry


def _entries_of(draft):
    """The registered entries that enter `draft`'s document type and kind."""
    return [entry for entry in _entries if entry.document_type == draft.document_type
            and draft.kind in entry.kinds]


def entry_of(application):
    """The registered entry that enters `application`, or None. Where one entry enters its
    document type and kind, no query; where several share them (SHTC's 9-1-1, 9-2-1 and
    9-2-2), one query per entry asks which one's it is (CaseEntry.cases)."""
    entries = _entries_of(application)
    if len(entries) == 1:
        return entries[0]
    for entry in entries:
        if entry.cases(Application.objects.filter(pk=application.pk)).exists():
            return entry
    return None


def continue_url(application):
    """Where the user goes on with draft `application`: its entry's basic page, or None."""
    entry = entry_of(application)
    return entry.url("edit", application.pk) if entry else None


def continue_links(drafts):
    """{pk: URL} of each draft's 繼續 link on a list (我的案件): its entry's page where one
    entry enters its document type and kind (no query); where several share them (SHTC's
    9-1-1, 9-2-1 and 9-2-2), permits:draft_continue, which asks on the click (continue_url).
    So a list of drafts costs the same queries whatever kinds they are. `drafts`: cases, or
    anything with their pk, document_type and kind. Each page's URL is reversed once per
    list, the draft's key put in (a reverse() a draft cost a tenth of 我的案件's own CPU)."""
    urls, links = {}, {}
    for draft in drafts:
        entries = _entries_of(draft)
        if not entries:
            urls[draft.pk] = None
            continue
        entry = entries[0] if len(entries) == 1 else None
        link = links.get(entry)
        if link is None:
            link = links[entry] = key_link(
                entry.url("edit", LINK_KEY) if entry else
                reverse("permits:draft_continue", args=[LINK_KEY]))
        urls[draft.pk] = link(draft.pk)
    return urls


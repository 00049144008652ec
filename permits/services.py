"""Writes on cases and permits. Views, the admin and tasks call these; see workflow.py for
status changes, which only transition() makes."""

from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from permits import numbering, procedures, signals
from permits.models import (
    Application,
    DocumentType,
    Item,
    Kind,
    Permit,
    PermitVersion,
    Status,
)

PARTY_FIELDS = ("applicant_name", "applicant_name_en", "applicant_address", "contact_person",
                "contact_phone", "company_email", "destination_country")
# What a new case may set besides the accounts' data: the basic data as entered, the agent's
# contact data for this case, and the description of a change (with, for a 單證比對不符修正,
# the declaration and the 會辦識別碼 of the mismatch it corrects: SHTC-10).
CASE_FIELDS = (*PARTY_FIELDS, "agent_contact_person", "agent_phone", "agent_email",
               "change_description", "declaration_no", "coordination_id")


def coded_error(messages, code, **params):
    """ValidationError(messages[code], code=code) with `params`; quantities read as the user
    wrote them: 10, not 10.0000 (PERMIT-9 has no separators)."""
    params = {key: (format(value.normalize(), "f") if isinstance(value, Decimal) else value)
              for key, value in params.items()}
    return ValidationError(messages[code], code=code, params=params or None)


def plain(value):
    """A stored value as a form posts it: numbers as plain text (100.55, never 1.0055E+2)."""
    if isinstance(value, Decimal):
        from permits.fields import plain_decimal

        return plain_decimal(value)
    return value


def item_amount(quantity, unit_price):
    """金額 left empty: quantity × unit price, rounded half up to the column's 4 places."""
    with localcontext() as context:
        context.prec = 40
        return (Decimal(quantity) * Decimal(unit_price)).quantize(Decimal("0.0001"),
                                                                  rounding=ROUND_HALF_UP)


def party_defaults(*, applicant, agent=None):
    """The basic data of a new case, preset from the accounts (ACC-4): the applicant's
    identifier (and the agent's, on an agent's case) are taken from the accounts, never
    typed."""
    data = {
        "applicant_identifier": applicant.identifier,
        "applicant_name": applicant.name,
        "applicant_name_en": applicant.name_en,
        "applicant_address": applicant.address,
        "contact_person": applicant.contact_person,
        "contact_phone": applicant.phone,
        "company_email": applicant.email,
    }
    if agent is not None:
        data.update(agent_identifier=agent.identifier, agent_name=agent.name,
                    agent_contact_person=agent.contact_person, agent_phone=agent.phone,
                    agent_email=agent.email)
    return data


def application_create(*, client_token=None, **kwargs):
    """Create a case in 暫存 (draft) with its items; see _create for the arguments.

    With a `client_token` (the form's one-time token) a repeated request, such as a
    double-clicked "申請", returns the case the first request created instead of a second
    one, also when both arrive at once: the unique index decides.
    """
    if client_token:
        existing = Application.objects.filter(client_token=client_token).first()
        if existing is not None:
            return _same_filer(existing, kwargs["actor"])
        try:
            with transaction.atomic():
                return _create(client_token=client_token, **kwargs)
        except IntegrityError:
            existing = Application.objects.filter(client_token=client_token).first()
            if existing is None:
                raise
            return _same_filer(existing, kwargs["actor"])
    with transaction.atomic():
        return _create(**kwargs)


def _same_filer(application, actor):
    if actor.pk not in (application.applicant_id, application.agent_id):
        raise ValidationError(_("This form was already used."), code="token_reused")
    return application


def _create(*, document_type, applicant, actor, kind=Kind.NEW, changes=None, amends=None,
            items=(), client_token=None, loaded_from=None, **data):
    """`actor` is the applicant or the agent filing for them; the parties' identifiers come
    from the accounts."""
    agent = actor if actor.is_agent and actor.pk != applicant.pk else None
    if actor.pk != applicant.pk and agent is None:
        raise ValidationError(_("Only the applicant or a filing agent may file this case."),
                              code="not_entitled")
    fields = party_defaults(applicant=applicant, agent=agent)
    fields.update({k: v for k, v in data.items() if k in CASE_FIELDS})
    application = Application.objects.create(
        document_type=document_type, kind=kind, changes=changes, amends=amends,
        applicant=applicant, agent=agent, client_token=client_token, loaded_from=loaded_from,
        **fields)
    for line_no, item in enumerate(items, start=1):
        item_add(application=application, line_no=line_no, **item)
    return application


def item_add(*, application, line_no=None, **fields):
    """Add an item (項次) with the next line number; amount defaults to quantity × price."""
    if application.status not in (Status.DRAFT,):
        raise ValidationError(_("Items can only be changed while the case is a draft."),
                              code="not_draft")
    if line_no is None:
        line_no = (application.items.order_by("-line_no")
                   .values_list("line_no", flat=True).first() or 0) + 1
    if fields.get("amount") is None:
        fields["amount"] = item_amount(fields["quantity"], fields["unit_price"])
    item = Item(application=application, line_no=line_no, **fields)
    item.full_clean(exclude=["application"])
    item.save()
    return item


def assign_receipt_no(application):
    application.receipt_no = numbering.next_number(numbering.RECEIPT,
                                                   application.document_type)
    application.save(update_fields=["receipt_no"])


def assign_registration_no(application):
    # A 登錄編號 is the number of a registered end-use assurance (保證書編號, DOMAIN.md §0),
    # whatever case registers it (an SHTC export case in 9-1-1, SHTC-1): numbered as the
    # document type 最終用途保證書 (EEU…), so that the number says what it registers.
    application.registration_no = numbering.next_number(numbering.REGISTRATION,
                                                        DocumentType.END_USE)
    application.save(update_fields=["registration_no"])


def permit_issue(*, application, at):
    """Issue the permit of an approved case (called by transition() on 准件結案).

    A new case gets a new permit number; a change kind adds the next version to the permit
    it changes (PERMIT-2), never touching the versions before it.
    """
    from permits import changes, workflow

    procedure = procedures.get(application.document_type)
    valid_from, valid_until, partial = procedure.validity(application, timezone.localdate(at))
    if application.kind != Kind.NEW:
        # PERMIT-3, SHTC-8 to SHTC-11 again at approval, under the permit's row lock (taken
        # by check_change): a clearance recorded or another change approved since the change
        # was filed refuses it, and transition() rolls the whole move back.
        try:
            changes.check_change(application)
        except ValidationError as error:
            raise workflow.TransitionNotAllowed(" ".join(error.messages),
                                                "change_refused") from error
    # What the case does: a 補正 does what the case it amends did (SHTC-8).
    kind, changed = changes.origin(application)
    # 新申請 and 餘額重簽 (the balance of a cancelled permit, SHTC-11) get a new number.
    if kind in (Kind.NEW, Kind.BALANCE_REISSUE):
        permit = Permit.objects.create(
            permit_no=numbering.next_number(numbering.PERMIT, application.document_type, at),
            document_type=application.document_type, holder=application.applicant,
            verification_code=Permit.new_verification_code(), created_at=at)
        version = 1
    else:
        # Locked by check_change: two approved changes of one permit cannot both be n+1.
        permit = Permit.objects.select_for_update().get(pk=changed.permit_id)
        version = permit.versions.count() + 1
        # A change keeps the validity of the version it changes.
        valid_from = changed.valid_from
        valid_until = changed.valid_until
    issued = PermitVersion.objects.create(
        permit=permit, version=version, application=application, issued_at=at,
        valid_from=valid_from, valid_until=valid_until, partial_shipment=partial)
    signals.permit_version_issued.send(sender=PermitVersion, version=issued)
    # The bureau's archive copy (PDF/A-3b and PDF/UA-1, permits.pdf.archive_permit_version),
    # printed by a worker once the approval has committed; a failure there is logged and
    # leaves the approval as it is.
    transaction.on_commit(lambda: _archive_enqueue(issued.pk), robust=True)
    return issued


def _archive_enqueue(version_id):
    from permits.tasks import archive_permit_version
    from portal.tasks import enqueue

    enqueue(archive_permit_version, version_id)

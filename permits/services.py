"""Writes on cases and permits. Views, the admin and tasks call these; see workflow.py for
status changes, which only transition() makes."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from permits import numbering, procedures, signals
from permits.models import (
    Application,
    Draft,
    Item,
    Kind,
    Permit,
    PermitVersion,
    Status,
)

PARTY_FIELDS = ("applicant_name", "applicant_name_en", "applicant_address", "contact_person",
                "contact_phone", "company_email", "destination_country")


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


def _create(*, document_type, applicant, actor, kind=Kind.NEW, changes=None, items=(),
            client_token=None, **data):
    """`actor` is the applicant or the agent filing for them; the parties' identifiers come
    from the accounts."""
    agent = actor if actor.is_agent and actor.pk != applicant.pk else None
    if actor.pk != applicant.pk and agent is None:
        raise ValidationError(_("Only the applicant or a filing agent may file this case."),
                              code="not_entitled")
    fields = party_defaults(applicant=applicant, agent=agent)
    fields.update({k: v for k, v in data.items() if k in PARTY_FIELDS or k in (
        "change_description",)})
    application = Application.objects.create(
        document_type=document_type, kind=kind, changes=changes, applicant=applicant,
        agent=agent, client_token=client_token, **fields)
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
        fields["amount"] = (Decimal(fields["quantity"]) * Decimal(fields["unit_price"])
                            ).quantize(Decimal("0.0001"))
    item = Item(application=application, line_no=line_no, **fields)
    item.full_clean(exclude=["application"])
    item.save()
    return item


def assign_receipt_no(application):
    application.receipt_no = numbering.next_number(numbering.RECEIPT,
                                                   application.document_type)
    application.save(update_fields=["receipt_no"])


def assign_registration_no(application):
    application.registration_no = numbering.next_number(numbering.REGISTRATION,
                                                        application.document_type)
    application.save(update_fields=["registration_no"])


def permit_issue(*, application, at):
    """Issue the permit of an approved case (called by transition() on 准件結案).

    A new case gets a new permit number; a change kind adds the next version to the permit
    it changes (PERMIT-2), never touching the versions before it.
    """
    procedure = procedures.get(application.document_type)
    valid_from, valid_until, partial = procedure.validity(application, timezone.localdate(at))
    # 新申請 and 餘額重簽 (the balance of a cancelled permit, SHTC-11) get a new number.
    if application.kind in (Kind.NEW, Kind.BALANCE_REISSUE):
        permit = Permit.objects.create(
            permit_no=numbering.next_number(numbering.PERMIT, application.document_type, at),
            document_type=application.document_type, holder=application.applicant,
            verification_code=Permit.new_verification_code(), created_at=at)
        version = 1
    else:
        # Lock the permit: two approved changes of one permit get versions n+1 and n+2.
        permit = Permit.objects.select_for_update().get(pk=application.changes.permit_id)
        version = permit.versions.count() + 1
        # A change keeps the validity of the version it changes.
        valid_from = application.changes.valid_from
        valid_until = application.changes.valid_until
    issued = PermitVersion.objects.create(
        permit=permit, version=version, application=application, issued_at=at,
        valid_from=valid_from, valid_until=valid_until, partial_shipment=partial)
    signals.permit_version_issued.send(sender=PermitVersion, version=issued)
    return issued


def draft_save(*, user, document_type, data):
    """PERMIT-6: keep only the last case the user entered per document type."""
    Draft.objects.update_or_create(user=user, document_type=document_type,
                                   defaults={"data": data})


def draft_load(*, user, document_type):
    draft = Draft.objects.filter(user=user, document_type=document_type).first()
    return draft.data if draft else None

"""9-1-1 without an end-use assurance (SHTC-5, Article 18(1); the SHTC manual §1.1.1.2.2, §2.2
item 9, §2.4 item 8): one reason ticked, the end use in English, 申請 gives the 收件編號 and
初審中 at once, the red-flag affidavit only, the documents after 申請; for exhibition goods
the re-import obligation on the case and the permit, the proof uploaded on the approved case,
and the reminders by e-mail while it is outstanding."""

import datetime
import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from permits import workflow
from permits.models import Application, Attachment, OutboundEmail, Status
from shtc import reimport
from shtc.models import (
    AssuranceRoute,
    Port,
    ReimportReminder,
    ReimportReminderStep,
    ShtcApplication,
)
from tests import services as test_services
from tests.approvals import approve
from tests.permits.test_attachments import pdf_bytes
from tests.permits.test_pdf import pdftotext
from tests.shtc.assurance import BASIC, enter, url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_root")]

RECEIPT_NO_RE = re.compile(r"RSE[0-9]{3}[0-9]{8}")
END_USE = "Demonstration at SEMICON West 2026, San Francisco; returned after the show."
EXHIBITION = {"assurance_route": AssuranceRoute.EXHIBITION, "end_use": END_USE}
SPECIAL = {"assurance_route": AssuranceRoute.SPECIAL_APPROVAL,
           "end_use": "Calibration of the buyer's test bench under the bureau's approval."}
Step = ReimportReminderStep



def case_page(client, case):
    return client.get(reverse("permits:application_detail", args=[case.pk]))


def apply(client, basic=EXHIBITION):
    """The whole of 9-1-1 without an assurance: enter, then 申請. The case, filed."""
    draft = enter(client, basic=basic)
    response = client.post(url("submit", draft.pk))
    assert response.status_code == 302
    return Application.objects.get(pk=draft.pk)


def upload(client, case, kind, name="proof.pdf"):
    return client.post(reverse("permits:attachment_upload", args=[case.pk]), {
        "document_kind": kind, "file": SimpleUploadedFile(name, pdf_bytes())})


def field_codes(response, name):
    return [error.code for error in response.context["form"].errors.as_data().get(name, [])]


@pytest.fixture
def exhibition_permit(client, applicant, reviewer):
    """An exhibition case filed by the applicant and approved: (case, permit version)."""
    client.force_login(applicant)
    case = apply(client)
    approve(case, reviewer)
    case = Application.objects.get(pk=case.pk)
    OutboundEmail.objects.all().delete()  # the case's own status mail
    return case, case.issued_version


# --- 步驟4: the route and the end use ---------------------------------------------------------


def test_it_stores_the_route_and_shows_it_back(client, applicant):
    client.force_login(applicant)
    basic = client.get(url("basic"))
    html = basic.content.decode()
    # The choice with its help beside it, shown without script.
    assert 'name="assurance_route"' in html and 'name="end_use"' in html
    assert 'data-testid="route-help-exhibition"' in html
    assert 'data-testid="route-help-special_approval"' in html
    assert "shtc/assurance_route.js" in html
    draft = enter(client, basic=EXHIBITION)
    shtc = ShtcApplication.objects.get(application=draft)
    assert (shtc.assurance_route, shtc.end_use) == (AssuranceRoute.EXHIBITION, END_USE)
    review = client.get(url("review", draft.pk))
    rows = {str(label): str(value) for label, value in review.context["basic_rows"]}
    assert END_USE in rows.values()
    assert review.context["entry_buttons"]["submit"] == review.context["entry"].buttons_for(
        draft)["submit"]
    assert 'data-testid="apply"' in review.content.decode()
    # Back on the basic page: the route ticked, the end use in its box.
    again = client.get(url("edit", draft.pk))
    form = again.context["form"]
    assert form.initial["assurance_route"] == AssuranceRoute.EXHIBITION
    assert form.initial["end_use"] == END_USE
    assert re.search(r'value="exhibition"[^>]*checked', again.content.decode())


def test_it_requires_the_end_use_without_an_assurance(client, applicant):
    client.force_login(applicant)
    for route in (AssuranceRoute.EXHIBITION, AssuranceRoute.SPECIAL_APPROVAL):
        response = client.post(url("basic"), {**BASIC, "assurance_route": route,
                                              "end_use": "  "})
        assert response.status_code == 400
        assert field_codes(response, "end_use") == ["required"]
        # The typing is kept, and the route ticked.
        assert response.context["form"].data["buyer-name"] == BASIC["buyer-name"]
        assert re.search(rf'value="{route}"[^>]*checked', response.content.decode())
    assert not Application.objects.exists()


def test_it_takes_the_end_use_in_english_only(client, applicant):
    client.force_login(applicant)
    response = client.post(url("basic"), {**BASIC, "assurance_route": "exhibition",
                                          "end_use": "參展展示用 demo"})
    assert response.status_code == 400
    assert field_codes(response, "end_use") == ["not_english"]
    assert "參展展示用 demo" in response.content.decode()  # kept in its box
    too_long = client.post(url("basic"), {**BASIC, "assurance_route": "exhibition",
                                          "end_use": "a" * 100_000})
    assert too_long.status_code == 400 and field_codes(too_long, "end_use") == ["max_length"]
    assert not Application.objects.exists()


def test_it_ignores_the_end_use_box_with_an_assurance(client, applicant):
    client.force_login(applicant)
    draft = enter(client, basic={"assurance_route": "assurance", "end_use": "參展"})
    shtc = ShtcApplication.objects.get(application=draft)
    assert (shtc.assurance_route, shtc.end_use) == (AssuranceRoute.WITH_ASSURANCE, "")


def test_it_forgets_the_end_use_when_the_assurance_is_ticked_again(client, applicant):
    client.force_login(applicant)
    draft = enter(client, basic=EXHIBITION)
    response = client.post(url("edit", draft.pk), {**BASIC, "assurance_route": "assurance",
                                                   "end_use": END_USE})
    assert response.status_code == 302
    shtc = ShtcApplication.objects.get(application=draft)
    assert (shtc.assurance_route, shtc.end_use) == (AssuranceRoute.WITH_ASSURANCE, "")
    review = client.get(url("review", draft.pk))
    assert review.context["entry_buttons"] == review.context["entry"].buttons


def test_it_refuses_an_unknown_route(client, applicant):
    client.force_login(applicant)
    response = client.post(url("basic"), {**BASIC, "assurance_route": "registered",
                                          "end_use": END_USE})
    assert response.status_code == 400
    assert field_codes(response, "assurance_route") == ["invalid_choice"]


# --- 步驟5: 申請 --------------------------------------------------------------------------------


@pytest.mark.parametrize("basic", [EXHIBITION, SPECIAL], ids=["exhibition", "special"])
def test_it_files_the_case_with_apply(client, applicant, basic):
    client.force_login(applicant)
    draft = enter(client, basic=basic)
    review = client.get(url("review", draft.pk))
    entry = review.context["entry"]
    assert review.context["entry_buttons"]["submit"] != entry.buttons["submit"]  # 申請
    assert str(review.context["entry_buttons"]["submit"]) in review.content.decode()
    response = client.post(url("submit", draft.pk))
    case = Application.objects.get(pk=draft.pk)
    assert response.url == reverse("permits:application_detail", args=[case.pk])
    assert case.status == Status.INITIAL_REVIEW
    assert RECEIPT_NO_RE.fullmatch(case.receipt_no) and case.registration_no is None
    assert case.submitted_at is not None
    assert [(c.old, c.new) for c in case.status_changes.all()] == [
        (Status.DRAFT, Status.INITIAL_REVIEW)]
    assert OutboundEmail.objects.get(application=case).to == BASIC["company_email"]
    # The documents follow in 9-1-2: the case page lists what is missing.
    page = case_page(client, case)
    missing = [code for code, _label, uploaded in page.context["required_documents"]
               if not uploaded]
    assert "red_flag_affidavit" in missing
    assert ("booth_plan" in missing) == (basic is EXHIBITION)
    assert ("special_approval" in missing) == (basic is SPECIAL)
    assert case.receipt_no in page.content.decode()


def test_it_still_needs_an_item(applicant, client):
    client.force_login(applicant)
    draft = enter(client, basic=EXHIBITION, items=())
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.transition(application=draft, to=Status.INITIAL_REVIEW, actor=applicant)


def test_it_still_waits_for_the_documents_with_an_assurance(applicant, client):
    client.force_login(applicant)
    draft = enter(client)
    with pytest.raises(workflow.TransitionNotAllowed) as refused:
        workflow.transition(application=draft, to=Status.INITIAL_REVIEW, actor=applicant)
    assert refused.value.code == "procedure"


def test_it_takes_the_documents_after_apply(client, applicant, other_applicant):
    client.force_login(applicant)
    case = apply(client)
    page = case_page(client, case)
    kinds = [code for code, _label in page.context["attachment_form"]
             .fields["document_kind"].choices if code]
    assert "booth_plan" in kinds and "reimport_proof" not in kinds
    assert upload(client, case, "booth_plan").status_code == 302
    assert upload(client, case, "reimport_proof").status_code == 302  # refused: not yet
    assert list(case.attachments.values_list("document_kind", flat=True)) == ["booth_plan"]
    client.force_login(other_applicant)
    assert upload(client, case, "exhibition_brief").status_code == 404
    assert case.attachments.count() == 1


# --- 步驟6: the red-flag affidavit, not the assurance ------------------------------------------


def test_it_offers_the_affidavit_only(client, applicant, tmp_path):
    client.force_login(applicant)
    case = apply(client)
    links = case_page(client, case).context["procedure_links"]
    assert [link["code"] for link in links if link["code"] != "filing"] == [
        "red-flag-affidavit"]
    for slug in ("assurance-buyer", "assurance-consignee"):
        assert client.get(reverse("shtc:case_document", args=[case.pk, slug])).status_code \
            == 404
    response = client.get(reverse("shtc:case_document", args=[case.pk, "red-flag-affidavit"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    path = tmp_path / "affidavit.pdf"
    path.write_bytes(response.content)
    text = re.sub(r"\s+", "", pdftotext(path))
    assert f"收件編號{case.receipt_no}" in text and "登錄編號" not in text
    assert "本案申請所填具體最終用途" in text and "所附最終用途保證書" not in text


# --- SHTC-5 (1): the re-import obligation ----------------------------------------------------


def test_it_shows_the_obligation_on_the_case(client, applicant, exhibition_permit):
    case, version = exhibition_permit
    rows = {row["code"]: str(row["value"]) for row in
            case_page(client, case).context["procedure_rows"]}
    assert rows["assurance-route"] and rows["end-use"] == END_USE
    from portal.templatetags.roc import roc

    assert roc(version.valid_until) in rows["reimport"]


def test_it_shows_no_obligation_for_a_special_approval(client, applicant):
    client.force_login(applicant)
    case = apply(client, basic=SPECIAL)
    codes = [row["code"] for row in case_page(client, case).context["procedure_rows"]]
    assert "assurance-route" in codes and "reimport" not in codes


def test_it_prints_the_obligation_on_the_permit(client, applicant, exhibition_permit,
                                                tmp_path):
    from permits import pdf
    from portal.templatetags.roc import roc

    _case, version = exhibition_permit
    assert 'data-testid="procedure-row-reimport"' in pdf.permit_html(version)
    path = tmp_path / "permit.pdf"
    path.write_bytes(pdf.render_permit(version))
    text = re.sub(r"\s+", "", pdftotext(path))
    # The obligation's own sentence, with the last day of validity in it.
    assert f"by{roc(version.valid_until)}" in text or roc(version.valid_until) in text
    assert END_USE.replace(" ", "")[:30] in text


def test_it_takes_the_proof_of_reimport_on_the_approved_case(client, applicant,
                                                             exhibition_permit):
    case, _version = exhibition_permit
    page = case_page(client, case)
    kinds = [code for code, _label in page.context["attachment_form"]
             .fields["document_kind"].choices if code]
    assert kinds == ["reimport_proof"]
    assert upload(client, case, "catalogue").status_code == 302  # refused
    assert upload(client, case, "reimport_proof", "再輸入報單.pdf").status_code == 302
    assert list(case.attachments.filter(document_kind__in=("catalogue", "reimport_proof"))
                .values_list("document_kind", flat=True)) == ["reimport_proof"]
    after = {row["code"]: str(row["value"]) for row in
             case_page(client, case).context["procedure_rows"]}
    before = {row["code"]: str(row["value"]) for row in page.context["procedure_rows"]}
    assert after["reimport"] != before["reimport"]  # received, on this day
    from django.utils import timezone

    from portal.templatetags.roc import roc

    assert roc(timezone.localdate()) in after["reimport"]


def test_it_takes_no_proof_on_an_approved_case_with_an_assurance(make_case, applicant,
                                                                 reviewer):
    from django.core.exceptions import ValidationError

    from permits.attachments import attachment_add

    case = make_case(applicant, document_type="SE", status=Status.APPROVED, reviewer=reviewer)
    ShtcApplication.objects.create(application=case)
    with pytest.raises(ValidationError) as refused:
        attachment_add(application=case, actor=applicant, document_kind="reimport_proof",
                       upload=SimpleUploadedFile("p.pdf", pdf_bytes()))
    assert refused.value.code == "not_open"


# --- the reminders ------------------------------------------------------------------------------


def days(version, offset):
    return version.valid_until + datetime.timedelta(days=offset)


def test_it_reminds_30_and_7_days_before_and_once_after(exhibition_permit):
    case, version = exhibition_permit
    assert reimport.reminders_send(today=days(version, -31)) == 0
    assert reimport.reminders_send(today=days(version, -30)) == 1
    assert reimport.reminders_send(today=days(version, -30)) == 0
    assert reimport.reminders_send(today=days(version, -8)) == 0
    assert reimport.reminders_send(today=days(version, -7)) == 1
    assert reimport.reminders_send(today=days(version, 0)) == 0
    assert reimport.reminders_send(today=days(version, 1)) == 1
    assert reimport.reminders_send(today=days(version, 2)) == 0
    assert list(ReimportReminder.objects.order_by("step").values_list("step", flat=True)) == [
        Step.DAYS_30, Step.DAYS_7, Step.EXPIRED]
    mails = list(OutboundEmail.objects.order_by("pk"))
    assert [mail.to for mail in mails] == [case.company_email] * 3
    assert all(version.permit.permit_no in mail.subject + mail.body for mail in mails)
    reminder = ReimportReminder.objects.get(step=Step.DAYS_30)
    assert reminder.email == mails[0] and reminder.valid_until == version.valid_until


def test_it_sends_only_the_latest_step_due(exhibition_permit):
    _case, version = exhibition_permit
    assert reimport.reminders_send(today=days(version, -5)) == 1
    assert reimport.reminders_send(today=days(version, -4)) == 0  # the 30-day one: never
    assert list(ReimportReminder.objects.values_list("step", flat=True)) == [Step.DAYS_7]


def test_it_stops_when_the_proof_arrives(client, exhibition_permit):
    case, version = exhibition_permit
    assert reimport.reminders_send(today=days(version, -30)) == 1
    upload(client, case, "reimport_proof")
    assert Attachment.objects.filter(document_kind="reimport_proof").exists()
    for offset in (-7, 1):
        assert reimport.reminders_send(today=days(version, offset)) == 0
    assert ReimportReminder.objects.count() == 1


def test_it_reminds_no_permit_cancelled_or_long_expired(exhibition_permit):
    from django.utils import timezone

    _case, version = exhibition_permit
    assert reimport.reminders_send(today=days(version, 31)) == 0  # beyond the window
    version.permit.revoked_at = timezone.now()
    version.permit.save(update_fields=["revoked_at"])
    assert reimport.reminders_send(today=days(version, -7)) == 0


def test_it_reminds_no_permit_with_an_assurance(make_case, applicant, reviewer):
    case = make_case(applicant, document_type="SE", status=Status.APPROVED, reviewer=reviewer)
    ShtcApplication.objects.create(application=case)
    version = Application.objects.get(pk=case.pk).issued_version
    assert reimport.reminders_send(today=days(version, -7)) == 0


def test_it_reads_a_fixed_number_of_queries_per_batch(client, applicant, reviewer,
                                                      django_assert_max_num_queries):
    client.force_login(applicant)
    versions = []
    for _n in range(3):
        case = apply(client)
        approve(case, reviewer)
        versions.append(Application.objects.get(pk=case.pk).issued_version)
    today = days(versions[0], -7)
    # Three permits in batches of one: 3 × (read, savepoint, 2 inserts, release) + the
    # empty read at the end, whatever the batch holds.
    with django_assert_max_num_queries(3 * 5 + 1):
        assert reimport.reminders_send(today=today, batch_size=1) == 3


def test_it_is_run_daily_by_beat():
    from portal.celery import app

    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values()
               if entry["task"] == "shtc.tasks.send_reimport_reminders"]
    assert len(entries) == 1
    app.loader.import_default_modules()
    assert "shtc.tasks.send_reimport_reminders" in app.tasks


def test_the_task_calls_the_service(exhibition_permit):
    from shtc.tasks import send_reimport_reminders

    assert send_reimport_reminders.apply().get() in (0, 1)  # today: maybe in a window


@pytest.fixture
def reference_tables(transactional_db):
    """The reference tables as the migrations fill them: a transactional test run before
    this one (a browser test, a race) flushed them at its end. Loaded before the worker
    starts (see below), and this process's cached copy dropped."""
    from permits.fields import reference_rows_forget
    from tests.services import seed_shtc

    seed_shtc()  # countries, currencies, regimes, controlled areas
    Port.objects.get_or_create(code=BASIC["transit_port"], defaults={
        "country": "US", "name": "Los Angeles", "edition": "test"})
    reference_rows_forget()


@pytest.fixture
def seeded_worker(reference_tables, celery_worker):
    """The worker, started only once the reference tables are back: its process keeps its
    own copy of them for permits.fields.REFERENCE_TTL seconds from its first read, which
    must not be of the flushed tables."""
    return celery_worker


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_it_delivers_the_reminder_through_a_real_worker(client, applicant, reviewer,
                                                        seeded_worker, smtp_sink):
    test_services.require_postgres()
    client.force_login(applicant)
    case = apply(client)
    approve(case, reviewer)
    version = Application.objects.get(pk=case.pk).issued_version
    smtp_sink.wait_for(2, timeout=60)  # the status mails of 申請 and 准件結案
    assert reimport.reminders_send(today=days(version, -7)) == 1
    messages = smtp_sink.wait_for(3, timeout=60)
    reminder = messages[-1]
    assert reminder["To"] == BASIC["company_email"]
    assert version.permit.permit_no in reminder.get_body(("plain",)).get_content()

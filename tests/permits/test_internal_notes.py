"""Internal notes (issue 14, point 5; permits/review_notes.py): a reviewer adds a note on the
admin's case page; the 內部註記 panel lists the case's internal history (notes and
assignments, author and time, oldest first) in the page's one round trip; a refused note is
the page again with the message next to the field and the typing kept; the applicant never
sees any of it (case page, summary PDF, e-mail)."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from permits import pdf
from permits.models import OutboundEmail, ReviewEvent, Status
from tests.permits.test_admin_case import change_url

pytestmark = pytest.mark.django_db
NOTE = "電話詢問最終使用者：實驗室確有此需求（內部）"


@pytest.fixture
def case(make_case, applicant, agent):
    return make_case(applicant, actor=agent, status=Status.INITIAL_REVIEW)


def note_url(case):
    return reverse("admin:permits_application_note", args=[case.pk])


def panel(html):
    found = re.search(r'<section[^>]*data-testid="internal-notes".*?</section>', html, re.S)
    assert found
    return found.group(0)


def test_it_adds_a_note_and_lists_it_with_its_author_and_time(client, case, reviewer):
    client.force_login(reviewer)
    response = client.post(note_url(case), {"text": NOTE})
    assert response.status_code == 302
    assert response.url.startswith(change_url(case))
    event = ReviewEvent.objects.get(application=case)
    assert (event.kind, event.actor, event.text) == ("note", reviewer, NOTE)
    shown = panel(client.get(change_url(case)).content.decode())
    assert NOTE in shown and reviewer.name in shown
    assert f'datetime="{event.created_at.isoformat()}"' in shown


def test_it_lists_notes_and_assignments_oldest_first(client, case, reviewer, make_user):
    now = timezone.now()
    ReviewEvent.objects.create(application=case, kind="note", actor=reviewer, text="第二則",
                               created_at=now)
    ReviewEvent.objects.create(application=case, kind="assigned", actor=reviewer,
                               assignee=reviewer, created_at=now - datetime.timedelta(hours=1))
    ReviewEvent.objects.create(application=case, kind="note", actor=reviewer, text="第一則",
                               created_at=now - datetime.timedelta(hours=2))
    client.force_login(reviewer)
    shown = panel(client.get(change_url(case)).content.decode())
    assert shown.count('data-testid="review-event"') == 3
    assert shown.index("第一則") < shown.index("review-event-assigned") < shown.index("第二則")


def test_the_panel_reads_no_query_per_entry(client, case, reviewer):
    """The history is read in the page's round trip with its authors: one entry or twenty,
    the same queries."""
    client.force_login(reviewer)

    def count():
        client.get(change_url(case))  # caches warm
        with CaptureQueriesContext(connection) as queries:
            client.get(change_url(case))
        return len(queries)

    ReviewEvent.objects.create(application=case, kind="note", actor=reviewer, text="一")
    one = count()
    for number in range(19):
        ReviewEvent.objects.create(application=case, kind="assigned", actor=reviewer,
                                   assignee=reviewer if number % 2 else None)
    assert count() == one


@pytest.mark.parametrize("text", ["", "   ", "a\x00b", "長" * 2001, "a\x07b"])
def test_it_refuses_a_bad_note_next_to_the_field_keeping_the_typing(client, case, reviewer,
                                                                   text):
    client.force_login(reviewer)
    response = client.post(note_url(case), {"text": text})
    assert response.status_code == 400
    assert not ReviewEvent.objects.exists()
    refused_in_place(response, "text", "id_internal_note", text)


def refused_in_place(response, name, field_id, typed):
    """The case page drawn again (400) with the refused form's error on field `name` next to
    its textarea `field_id`, tied to it, and what was `typed` kept (unless the text rule
    refused a character of it)."""
    assert response.status_code == 400
    assert response.context["refused_form"].errors[name]
    html = response.content.decode()
    field = re.search(rf'<textarea name="{name}" id="{field_id}"[^>]*>(.*?)</textarea>', html,
                      re.S)
    assert 'aria-invalid="true"' in field.group(0)
    assert f'id="{field_id}_error"' in html
    assert f"{field_id}_error" in field.group(0)  # the message tied to the field
    if typed.strip() and "\x00" not in typed and "\x07" not in typed:
        assert field.group(1).strip() == typed  # what was typed, kept


def test_it_keeps_other_users_out(client, case, applicant, agent, make_user):
    staff = make_user("A223456781", identifier_type="national_id", is_staff=True)
    client.force_login(staff)  # staff outside the reviewers group
    assert client.post(note_url(case), {"text": NOTE}).status_code == 403
    for user in (applicant, agent):
        client.force_login(user)
        response = client.post(note_url(case), {"text": NOTE})
        assert response.status_code == 302 and "/admin/login/" in response.url
    assert not ReviewEvent.objects.exists()


def test_a_missing_case_is_not_found(client, reviewer):
    client.force_login(reviewer)
    assert client.post(reverse("admin:permits_application_note", args=[2 ** 63]),
                       {"text": NOTE}).status_code == 404


def test_the_applicant_never_sees_a_note(client, case, reviewer, applicant, agent):
    client.force_login(reviewer)
    client.post(note_url(case), {"text": NOTE})
    assert ReviewEvent.objects.filter(text=NOTE).exists()
    for user in (applicant, agent):
        client.force_login(user)
        response = client.get(reverse("permits:application_detail", args=[case.pk]))
        assert response.status_code == 200
        assert NOTE not in response.content.decode()
    summary = pdf.document_html(template="pdf/case_summary.html",
                                context=pdf.case_context(case), language="zh-hant")
    assert case.applicant_name in summary and NOTE not in summary
    assert not OutboundEmail.objects.filter(body__contains=NOTE).exists()

"""The reviewer's decision on a risk flag (issue 14, point 4; shtc/admin_risk.py,
shtc.risk.risk_flag_decide): recorded once from the 風險標示 panel of the case page, with who
and when, shown afterwards in place of the form; a second decision is refused with a message;
a bad note is the page again with the message next to the field and the typing kept."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from shtc import risk
from shtc.models import RiskFlag
from tests.approvals import second_reviewer
from tests.permits.test_admin_case import change_url
from tests.permits.test_internal_notes import refused_in_place

pytestmark = pytest.mark.django_db
DECISION = "Cleared: the end user is a university laboratory we have exported to via 2023."


@pytest.fixture
def flag(shtc_case):
    case = shtc_case(destination="CN")  # 中國大陸: watched_destination
    return RiskFlag.objects.get(application=case, kind="watched_destination")


def decide_url(flag):
    return reverse("admin:shtc_riskflag_decide", args=[flag.pk])


def flag_item(html, flag):
    found = re.search(rf'<li[^>]*data-testid="risk-{flag.kind}".*?</li>', html, re.S)
    assert found
    return found.group(0)


def test_the_panel_offers_a_form_for_an_open_flag(client, flag, reviewer):
    client.force_login(reviewer)
    item = flag_item(client.get(change_url(flag.application)).content.decode(), flag)
    assert f'action="{decide_url(flag)}"' in item and 'name="note"' in item


def test_it_records_the_decision_with_who_and_when(client, flag, reviewer):
    client.force_login(reviewer)
    response = client.post(decide_url(flag), {"note": DECISION})
    assert response.status_code == 302
    assert response.url.startswith(change_url(flag.application))
    flag.refresh_from_db()
    assert (flag.decided_by, flag.decision_note) == (reviewer, DECISION)
    assert flag.decided_at is not None
    item = flag_item(client.get(change_url(flag.application)).content.decode(), flag)
    assert 'data-testid="risk-decision"' in item and "risk-decided" in item
    assert DECISION in item and reviewer.name in item
    assert "<form" not in item  # decided: no form any more


def test_it_refuses_a_second_decision_with_a_message(client, flag, reviewer):
    client.force_login(reviewer)
    client.post(decide_url(flag), {"note": DECISION}, follow=True)
    client.force_login(second_reviewer())
    response = client.post(decide_url(flag), {"note": "Another view."}, follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    flag.refresh_from_db()
    assert (flag.decided_by, flag.decision_note) == (reviewer, DECISION)


def test_the_service_refuses_a_decided_flag(flag, reviewer):
    risk.risk_flag_decide(flag=flag, actor=reviewer, note=DECISION)
    with pytest.raises(ValidationError) as error:
        risk.risk_flag_decide(flag=flag, actor=second_reviewer(), note="again")
    assert error.value.code == "decided"


@pytest.mark.parametrize("note", ["", "  ", "a\x00b", "x" * 2001, "a\x07b"])
def test_it_refuses_a_bad_note_next_to_the_field_keeping_the_typing(client, flag, reviewer,
                                                                   note):
    client.force_login(reviewer)
    response = client.post(decide_url(flag), {"note": note})
    refused_in_place(response, "note", f"id_risk_decision_{flag.pk}", note)
    flag.refresh_from_db()
    assert flag.decided_at is None


def test_it_keeps_other_users_out(client, flag, applicant, make_user):
    staff = make_user("A223456781", identifier_type="national_id", is_staff=True)
    client.force_login(staff)
    assert client.post(decide_url(flag), {"note": DECISION}).status_code == 403
    client.force_login(applicant)
    response = client.post(decide_url(flag), {"note": DECISION})
    assert response.status_code == 302 and "/admin/login/" in response.url
    flag.refresh_from_db()
    assert flag.decided_at is None


def test_a_missing_flag_is_not_found(client, reviewer):
    client.force_login(reviewer)
    assert client.post(reverse("admin:shtc_riskflag_decide", args=[2 ** 63]),
                       {"note": DECISION}).status_code == 404

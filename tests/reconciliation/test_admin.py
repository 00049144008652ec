"""The bureau's back office for the customs feed (ACC-5, RECON-1…5): what reviewers see, the
re-run of matching, the file upload, and the customs service accounts (superusers only)."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reconciliation.models import CustomsClient, Declaration, InboundMessage, MatchResult
from tests.reconciliation.helpers import declaration, release

CHANGELIST = reverse("admin:reconciliation_declaration_changelist")
UPLOAD = reverse("admin:reconciliation_declaration_upload")
CLIENTS = reverse("admin:reconciliation_customsclient_changelist")


def number(n):
    return f"AA115{n:08d}B"


@pytest.fixture
def staff(make_user):
    """Bureau staff outside the reviewers group."""
    return make_user("A223456781", identifier_type="national_id", is_staff=True)


@pytest.fixture
def superuser(make_user):
    return make_user("B123456708", identifier_type="national_id", is_staff=True,
                     is_superuser=True)


def levels(response):
    return [m.level_tag for m in response.context["messages"]]


def rerun(client, declarations):
    return client.post(CHANGELIST, {"action": "rematch", "index": 0,
                                    "_selected_action": [d.pk for d in declarations]},
                       follow=True)


def upload(client, name, content):
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, content.encode())},
                       follow=True)


def jsonl(*messages):
    return "\n".join(m if isinstance(m, str) else json.dumps(m) for m in messages) + "\n"


# --- what reviewers see ---------------------------------------------------------------------

@pytest.mark.django_db
def test_it_lists_declarations_in_a_constant_number_of_queries(client, reviewer, permit,
                                                                receive):
    receive(declaration(permit, number=number(1)))
    client.force_login(reviewer)
    with CaptureQueriesContext(connection) as few:
        assert client.get(CHANGELIST).status_code == 200
    receive(*[declaration(permit, number=number(n)) for n in range(2, 12)])
    with CaptureQueriesContext(connection) as many:
        response = client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 11
    assert len(many) == len(few)


@pytest.mark.django_db
def test_it_finds_declarations_by_permit_number_and_filters_by_result(
        client, reviewer, permit, receive):
    receive(declaration(permit, number=number(1)),
            declaration(permit, number=number(2), declarant="12345675"))
    client.force_login(reviewer)
    response = client.get(CHANGELIST, {"q": permit.permit_no})
    assert {d.number for d in response.context["cl"].result_list} == {number(1), number(2)}
    response = client.get(CHANGELIST, {"result__exact": "mismatch"})
    assert [d.number for d in response.context["cl"].result_list] == [number(2)]


@pytest.mark.django_db
def test_it_shows_a_declaration_with_its_reasons_and_write_offs_read_only(
        client, reviewer, permit, receive):
    receive(declaration(permit, declarant="12345675"), release())
    filed = Declaration.objects.get()
    client.force_login(reviewer)
    url = reverse("admin:reconciliation_declaration_change", args=[filed.pk])
    html = client.get(url).content.decode()
    assert "declarant_mismatch" in html  # the reason's code, with its sentence
    assert MatchResult.objects.get().reasons[0]["message"] in html
    assert "<td>4</td>" in html  # the released quantity, written off the permit
    client.post(url, {"number": "ZZ11500000001B"})
    assert Declaration.objects.get().number == filed.number  # nobody edits a declaration


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["inboundmessage", "matchresult", "ledgerentry"])
def test_it_shows_reviewers_the_feed_read_only(client, reviewer, permit, receive, model):
    receive(declaration(permit), release())
    client.force_login(reviewer)
    response = client.get(reverse(f"admin:reconciliation_{model}_changelist"),
                          {"q": permit.permit_no if model == "ledgerentry" else ""})
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) >= 1
    assert not response.context["has_add_permission"]


# --- re-run matching ------------------------------------------------------------------------

@pytest.mark.django_db
def test_it_reruns_matching_for_a_reviewer(client, reviewer, permit, receive,
                                           django_capture_on_commit_callbacks):
    receive(declaration(permit, number=number(1)), declaration(permit, number=number(2)))
    client.force_login(reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = rerun(client, Declaration.objects.all())
    assert levels(response) == ["success"]
    assert MatchResult.objects.count() == 4
    assert sorted(MatchResult.objects.values_list("seq", flat=True)) == [1, 2, 3, 4]


@pytest.mark.django_db
def test_it_does_not_match_a_cancelled_declaration_again(
        client, reviewer, permit, receive, django_capture_on_commit_callbacks):
    receive(declaration(permit))
    receive({"message_id": "c-1", "type": "cancellation", "declaration": number(1)})
    client.force_login(reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = rerun(client, Declaration.objects.all())
    assert levels(response) == ["warning"]
    assert MatchResult.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_the_rerun_to_staff_outside_the_reviewers_group(
        client, staff, permit, receive, django_capture_on_commit_callbacks):
    receive(declaration(permit))
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        assert rerun(client, Declaration.objects.all()).status_code == 403
    assert MatchResult.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_the_rerun_to_staff_who_may_only_look(
        client, staff, permit, receive, django_capture_on_commit_callbacks):
    staff.user_permissions.add(Permission.objects.get(codename="view_declaration"))
    receive(declaration(permit))
    client.force_login(staff)
    assert client.get(CHANGELIST).context["action_form"] is None  # no action offered
    with django_capture_on_commit_callbacks(execute=True):
        rerun(client, Declaration.objects.all())
    assert MatchResult.objects.count() == 1


# --- upload ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_it_loads_an_uploaded_file_for_a_reviewer(client, reviewer, permit,
                                                  django_capture_on_commit_callbacks):
    content = jsonl(declaration(permit, number=number(1), message_id="m-1"),
                    "not json",
                    declaration(permit, number=number(3), message_id="m-3", direction="x"),
                    declaration(permit, number=number(4), message_id="m-4"))
    client.force_login(reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, "feed.jsonl", content)
    assert response.redirect_chain[-1][0] == CHANGELIST
    assert levels(response) == ["warning", "error", "error"]  # summary, line 2, line 3
    assert set(Declaration.objects.values_list("number", "result")) == {
        (number(1), "match"), (number(4), "match")}
    assert set(InboundMessage.objects.values_list("message_id", "status", "source")) == {
        ("m-1", "accepted", "admin"), ("m-3", "rejected", "admin"),
        ("m-4", "accepted", "admin")}


@pytest.mark.django_db
def test_it_loads_an_uploaded_json_array(client, reviewer, permit,
                                         django_capture_on_commit_callbacks):
    content = json.dumps([declaration(permit, number=number(1)),
                          declaration(permit, number=number(2))])
    client.force_login(reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, "feed.json", content)
    assert levels(response) == ["success"]
    assert MatchResult.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "content", "code"), [
    ("feed.csv", "a,b\n", "extension"),
    ("feed.json", '[{"message_id": ', "malformed"),
    ("feed.jsonl", "\n\n", "empty"),
])
def test_it_refuses_a_file_it_cannot_read(client, reviewer, name, content, code):
    client.force_login(reviewer)
    response = upload(client, name, content)
    assert response.status_code == 400
    assert [e.code for e in response.context["form"].errors.as_data()["file"]] == [code]
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_it_refuses_the_upload_to_staff_outside_the_reviewers_group(client, staff, permit):
    client.force_login(staff)
    assert client.get(UPLOAD).status_code == 403
    response = upload(client, "feed.jsonl", jsonl(declaration(permit)))
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


# --- customs service accounts ---------------------------------------------------------------

@pytest.mark.django_db
def test_it_shows_a_new_accounts_token_once_and_keeps_only_its_hash(client, superuser):
    client.force_login(superuser)
    response = client.post(reverse("admin:reconciliation_customsclient_add"),
                           {"name": "關務署", "active": "on"})
    [(account, token)] = response.context["issued"]
    assert token in response.content.decode()
    stored = CustomsClient.objects.get(name="關務署")
    assert stored.token_hash == CustomsClient.hash(token)
    assert token not in {str(value) for value in vars(stored).values()}
    page = client.get(reverse("admin:reconciliation_customsclient_change", args=[stored.pk]))
    assert token not in page.content.decode()


@pytest.mark.django_db
def test_it_issues_a_new_token_and_the_old_one_stops_working(client, superuser):
    account = CustomsClient(name="關務署")
    old = account.new_token()
    account.save()
    client.force_login(superuser)
    response = client.post(CLIENTS, {"action": "issue_token", "index": 0,
                                     "_selected_action": [account.pk]})
    [(_account, new)] = response.context["issued"]
    results = reverse("reconciliation:api_results")
    assert client.get(results, headers={"Authorization": f"Token {old}"}).status_code == 401
    assert client.get(results, headers={"Authorization": f"Token {new}"}).status_code == 200


@pytest.mark.django_db
def test_it_keeps_customs_accounts_from_reviewers(client, reviewer):
    CustomsClient.objects.create(name="關務署", token_hash=CustomsClient.hash("t"))
    client.force_login(reviewer)
    assert client.get(CLIENTS).status_code == 403
    assert client.get(reverse("admin:reconciliation_customsclient_add")).status_code == 403
    index = client.get(reverse("admin:index"))
    models = {m["object_name"] for app in index.context["app_list"] for m in app["models"]}
    assert "CustomsClient" not in models and "Declaration" in models

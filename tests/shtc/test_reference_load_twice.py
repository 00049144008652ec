"""帶入參考資料 twice (a double click, or back and the same number again): the second load of
the same case by the same user opens the draft the first made, while that draft is not filed
(permits.entry.loaded_draft), also when both arrive at once; once filed, a load makes a new
draft again."""

import pytest
from django.test import Client

from permits.models import Application, Status
from shtc.models import Port
from tests import services
from tests.shtc.assurance import BASIC, register, url
from tests.shtc.test_reference_load import load


def drafts():
    return list(Application.objects.filter(status=Status.DRAFT).values_list("pk", flat=True))


@pytest.mark.django_db
def test_the_second_load_opens_the_first_draft(client, applicant):
    client.cookies["django_language"] = "en"
    client.force_login(applicant)
    source = register(client)
    first = load(client, registration_no=source.registration_no)
    [draft] = drafts()
    second = load(client, registration_no=source.registration_no)

    assert first.status_code == second.status_code == 302
    assert first.url == second.url == url("edit", draft)
    assert drafts() == [draft]
    said = " ".join(str(m) for m in client.get(second.url).context["messages"])
    assert f"{source.registration_no} was already loaded into a draft not yet filed" in said

    # Filed, it is no longer the draft to open: the next load starts another.
    assert client.post(url("edit", draft), BASIC).status_code == 302
    assert client.post(url("submit", draft)).status_code == 302
    third = load(client, registration_no=source.registration_no)
    [other] = drafts()
    assert other != draft and third.url == url("edit", other)


@pytest.mark.django_db
def test_another_users_load_of_the_same_case_is_its_own_draft(client, agent, applicant):
    from tests.shtc.assurance import AGENT

    client.force_login(agent)
    source = register(client, basic=AGENT)
    load(client, registration_no=source.registration_no)
    client.force_login(applicant)
    load(client, registration_no=source.registration_no)
    assert len(drafts()) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_loads_at_once_make_one_draft(applicant):
    # A transactional test before may have emptied the reference tables and the ports.
    services.seed_shtc()
    Port.objects.get_or_create(code=BASIC["transit_port"], defaults={
        "country": "US", "name": "Los Angeles", "edition": "test"})
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(applicant)
    source = register(clients[0])

    first, second = services.run_concurrently(
        *[lambda c=c: load(c, registration_no=source.registration_no) for c in clients])
    assert first.status_code == second.status_code == 302
    assert first.url == second.url and len(drafts()) == 1


@pytest.mark.django_db
def test_a_second_change_load_opens_the_first_draft(client, applicant, shtc_case):
    """帶入原始資料 of a 更正 twice: one draft, the second load opens it."""
    from tests.shtc.test_changes import loaded, start
    from tests.shtc.test_changes import url as change_url

    permit = shtc_case(status=Status.APPROVED).issued_version.permit
    client.cookies["django_language"] = "en"
    client.force_login(applicant)
    fields = {"permit_no": permit.permit_no, "change_description": "更正買主地址。"}
    first = loaded(start(client, "correction", **fields))
    second = start(client, "correction", **fields)
    assert second.status_code == 302 and second.url == change_url("edit", first.pk)
    assert drafts() == [first.pk]
    said = " ".join(str(m) for m in client.get(second.url).context["messages"])
    assert f"{permit.permit_no} was already loaded into a draft not yet filed" in said

"""申請 (MASK-3, MASK-4): the checks run again, the case is filed and the permit issued at
once; its number is on the page and e-mailed to the address given. A double-clicked 申請
issues one permit."""

import pytest

from masks import services
from masks.models import MaskApplication
from permits.models import Application, OutboundEmail, Permit, Status
from tests import services as test_services
from tests.masks.conftest import AGENT, BASIC, item

pytestmark = pytest.mark.django_db


def enter(client, url, *items, **basic):
    """下一步 and 確認 of each item: the draft being entered."""
    client.post(url("masks:application_basic"), {**BASIC, **AGENT, **basic})
    draft = Application.objects.filter(status=Status.DRAFT).latest("pk")
    for fields in items or [{}]:
        client.post(url("masks:application_item_add", draft.pk), item(**fields))
    return draft


def apply(client, url, draft=None):
    draft = draft or Application.objects.latest("pk")
    return client.post(url("masks:application_submit", draft.pk))


def test_it_issues_the_permit_at_once(client, url, applicant):
    client.force_login(applicant)
    enter(client, url, {}, {"category": "non_medical", "quantity": "50"})
    response = apply(client, url)
    application = Application.objects.get()
    assert response.url == url("masks:application_issued", application.pk)
    assert application.status == Status.APPROVED and application.document_type == "MK"
    assert application.applicant == applicant and application.agent is None
    assert [(i.line_no, i.category) for i in application.items.all()] == [
        (1, "medical"), (2, "non_medical")]
    assert application.issued_version.version == 1
    assert application.mask.route == "postal"
    assert application.status_changes.get().actor == applicant


def test_it_shows_the_permit_number_on_the_page(client, url, applicant):
    client.force_login(applicant)
    enter(client, url)
    page = client.get(apply(client, url).url)
    permit = Permit.objects.get()
    assert page.status_code == 200
    assert f'data-testid="permit-no">{permit.permit_no}<' in page.content.decode()


def test_it_mails_the_permit_number_to_the_address_given(client, url, applicant):
    client.force_login(applicant)
    enter(client, url)
    apply(client, url)
    email = OutboundEmail.objects.get()
    assert email.to == BASIC["company_email"] != applicant.email
    assert Permit.objects.get().permit_no in email.body


def test_it_leaves_no_draft_once_issued(client, url, applicant):
    client.force_login(applicant)
    draft = enter(client, url)
    issued = apply(client, url).url
    assert not Application.objects.filter(status=Status.DRAFT).exists()
    # The steps of a filed case lead to the case, never to a change of it.
    response = client.get(url("masks:application_review", draft.pk))
    assert response.url == issued
    response = client.post(url("masks:application_item_add", draft.pk), item())
    assert response.url == issued and draft.items.count() == 1


@pytest.mark.parametrize(("route", "linked"), [("declaration", False), ("postal", True),
                                               ("passenger", True), ("other", True)])
def test_it_links_to_the_write_off_for_imports_without_a_declaration(client, url, applicant,
                                                                     route, linked):
    client.force_login(applicant)
    enter(client, url, route=route)
    page = client.get(apply(client, url).url)
    assert page.context["needs_write_off"] is linked
    assert (url("masks:write_off_add") in page.content.decode()) is linked


def test_it_issues_one_permit_for_a_double_clicked_apply(client, url, applicant):
    client.force_login(applicant)
    draft = enter(client, url)
    first = apply(client, url, draft)
    second = apply(client, url, draft)  # the case is no longer a draft
    assert first.url == second.url
    assert Application.objects.count() == 1 and Permit.objects.count() == 1


def test_it_issues_one_permit_when_the_service_is_called_twice(applicant):
    items = [item()]
    first = services.application_submit(actor=applicant, applicant=applicant, route="postal",
                                        items=items, client_token="t")
    second = services.application_submit(actor=applicant, applicant=applicant, route="postal",
                                         items=items, client_token="t")
    assert first.pk == second.pk
    assert Permit.objects.count() == 1 and MaskApplication.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_issues_one_permit_when_two_requests_race(applicant):
    test_services.require_postgres()

    def submit():
        return services.application_submit(
            actor=applicant, applicant=applicant, route="postal", items=[item()],
            client_token="double-click", **{k: v for k, v in BASIC.items() if k != "route"}).pk

    results = test_services.run_concurrently(submit, submit)
    assert len(set(results)) == 1
    assert Permit.objects.count() == 1 and OutboundEmail.objects.count() == 1


def test_it_refuses_to_apply_without_items(client, url, applicant):
    client.force_login(applicant)
    client.post(url("masks:application_basic"), BASIC)
    draft = Application.objects.get()
    response = apply(client, url, draft)
    assert response.url == url("masks:application_review", draft.pk)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and not Permit.objects.exists()


def test_it_says_no_items_in_the_service(applicant):
    with pytest.raises(services.ValidationError) as error:
        services.application_submit(actor=applicant, applicant=applicant, route="postal",
                                    items=[])
    assert error.value.code == "no_items"


def test_it_checks_the_items_again_on_apply(client, url, applicant):
    from masks.models import MaskCode

    client.force_login(applicant)
    draft = enter(client, url)
    MaskCode.objects.update(active=False)  # retired by the bureau meanwhile
    response = apply(client, url, draft)
    assert response.status_code == 400
    assert response.context["form"].errors.as_data()["tariff_code"][0].code == "invalid_choice"
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and not Permit.objects.exists()


def test_it_checks_the_applicant_account_again_on_apply(client, url, agent, applicant):
    client.force_login(agent)
    draft = enter(client, url, applicant_identifier=applicant.identifier)
    applicant.is_active = False  # the account was closed meanwhile
    applicant.save()
    response = apply(client, url, draft)
    assert response.status_code == 400
    assert response.context["form"].errors.as_data()["applicant_identifier"][0].code == \
        "unknown_applicant"
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and not Permit.objects.exists()


def test_it_gives_404_for_apply_of_a_case_that_does_not_exist(client, url, applicant):
    client.force_login(applicant)
    assert client.post(url("masks:application_submit", 9999)).status_code == 404
    assert not Application.objects.exists()


# --- An agent files for an applicant (ACC-4) --------------------------------------------------


def test_it_files_an_agents_case_for_the_applicant_named(client, url, agent, applicant):
    client.force_login(agent)
    enter(client, url, applicant_identifier=applicant.identifier)
    apply(client, url)
    application = Application.objects.get()
    assert application.applicant == applicant and application.agent == agent
    assert application.applicant_identifier == applicant.identifier
    assert application.agent_identifier == agent.identifier
    assert application.applicant_name == BASIC["applicant_name"]
    assert application.status == Status.APPROVED


def test_it_shows_the_agents_case_to_the_agent_and_the_applicant(client, url, agent, applicant,
                                                                 other_applicant):
    client.force_login(agent)
    enter(client, url, applicant_identifier=applicant.identifier)
    issued = apply(client, url).url
    assert client.get(issued).status_code == 200
    client.force_login(applicant)
    assert client.get(issued).status_code == 200
    client.force_login(other_applicant)
    assert client.get(issued).status_code == 404


# --- The confirmation page from both sides ----------------------------------------------------


def test_it_hides_the_confirmation_page_from_another_applicant(client, url, applicant,
                                                               other_applicant,
                                                               make_mask_permit):
    permit = make_mask_permit(applicant)
    client.force_login(other_applicant)
    page = url("masks:application_issued", permit.current.application.pk)
    assert client.get(page).status_code == 404
    client.force_login(applicant)
    assert client.get(page).status_code == 200

"""What an importer holding the mask manual hit (issue 9, points 13, 14, 15 and 18): the
flow and return start pages list what can be opened, 我的案件 shows the stock, the case page
and the PDF show 進口狀況 and link on, the issue mail says the permit was issued, the 稽催信
reaches the filing agent too, a pending flow is deleted only after asking, and the 稽催信 has
a management command."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.template.loader import render_to_string
from django.utils import translation

from masks import services
from masks.models import Flow, StockReminder, StockReport
from permits import pdf
from permits.models import OutboundEmail
from tests.masks.conftest import item
from tests.masks.test_flows import cleared_declaration, written_off_permit

pytestmark = pytest.mark.django_db

D = Decimal
MONDAY = datetime.date(2026, 3, 2)


def numbers(response):
    return [source["number"] for source in response.context["sources"]]


def own_use(applicant, report, quantity):
    return services.flow_register(actor=applicant, report=report, category="own_use",
                                  quantity=D(quantity), date=datetime.date(2026, 3, 2))


# --- 13: the start pages list what can be opened --------------------------------------------


def test_it_lists_the_declarations_and_permits_with_stock(client, url, make_mask_permit,
                                                          applicant, other_applicant):
    declaration = cleared_declaration(make_mask_permit, applicant, quantity="10")
    permit = written_off_permit(make_mask_permit, applicant, medical="50")
    cleared_declaration(make_mask_permit, applicant, released="0")  # nothing cleared
    cleared_declaration(make_mask_permit, other_applicant)  # someone else's
    client.force_login(applicant)
    response = client.get(url("masks:flow_start"))
    assert response.status_code == 200
    rows = {source["number"]: source for source in response.context["sources"]}
    assert set(rows) == {declaration.number, permit.permit_no}
    assert (rows[declaration.number]["menu"], rows[declaration.number]["stock"]) == ("2", D(10))
    assert (rows[permit.permit_no]["menu"], rows[permit.permit_no]["stock"]) == ("3", D(50))
    # The number boxes stay.
    assert "declaration_form" in response.context and "permit_form" in response.context
    assert not StockReport.objects.exists()  # listing writes nothing


def test_it_opens_a_listed_source_with_one_click(client, url, make_mask_permit, applicant):
    declaration = cleared_declaration(make_mask_permit, applicant)
    client.force_login(applicant)
    page = client.get(url("masks:flow_start")).content.decode()
    assert f'data-testid="open-{declaration.number}"' in page
    # The row's button posts what the number box would.
    response = client.post(url("masks:flow_start"),
                           {"menu": "2", "d-declaration_no": declaration.number})
    assert response.status_code == 302
    assert response.url == url("masks:flow_report", StockReport.objects.get().pk)


def test_it_lists_a_source_with_flows_not_declared_until_they_are(client, url,
                                                                  make_mask_permit,
                                                                  applicant):
    declaration = cleared_declaration(make_mask_permit, applicant, quantity="10")
    report = services.stock_report_load(declaration=declaration)
    own_use(applicant, report, "10")  # no stock left, but the flow is not declared
    client.force_login(applicant)
    assert numbers(client.get(url("masks:flow_start"))) == [declaration.number]
    services.flows_declare(actor=applicant, report=report)
    assert numbers(client.get(url("masks:flow_start"))) == []


def test_it_shows_the_agent_the_sources_of_the_cases_it_filed(client, url, make_mask_permit,
                                                              applicant, agent):
    permit = make_mask_permit(applicant, actor=agent, route="postal",
                              items=[item(quantity="100")])
    services.write_off_record(actor=agent, permit=permit, route="postal",
                              medical_quantity=D(5), non_medical_quantity=D(0))
    client.force_login(agent)
    assert numbers(client.get(url("masks:flow_start"))) == [permit.permit_no]


def test_it_reads_the_list_in_the_same_few_queries_however_long(
        client, url, make_mask_permit, applicant, django_assert_max_num_queries):
    cleared_declaration(make_mask_permit, applicant)
    written_off_permit(make_mask_permit, applicant)
    client.force_login(applicant)
    with django_assert_max_num_queries(8) as few:
        client.get(url("masks:flow_start"))
    for _n in range(4):
        cleared_declaration(make_mask_permit, applicant)
        written_off_permit(make_mask_permit, applicant)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(numbers(client.get(url("masks:flow_start")))) == 10


def test_it_caps_the_list(client, url, make_mask_permit, applicant, monkeypatch):
    monkeypatch.setattr(services, "SOURCES_SHOWN", 2)
    for _n in range(3):
        cleared_declaration(make_mask_permit, applicant)
    client.force_login(applicant)
    response = client.get(url("masks:flow_start"))
    assert len(response.context["sources"]) == 2 and response.context["more_sources"]


def test_it_lists_the_sources_with_declared_flows_to_return(client, url, make_mask_permit,
                                                            applicant):
    returnable = services.stock_report_load(
        declaration=cleared_declaration(make_mask_permit, applicant, quantity="10"))
    own_use(applicant, returnable, "4")
    services.flows_declare(actor=applicant, report=returnable)
    pending = services.stock_report_load(
        declaration=cleared_declaration(make_mask_permit, applicant, quantity="10"))
    own_use(applicant, pending, "4")  # not declared: nothing to return yet
    all_back = services.stock_report_load(
        declaration=cleared_declaration(make_mask_permit, applicant, quantity="10"))
    flow = own_use(applicant, all_back, "3")
    services.flows_declare(actor=applicant, report=all_back)
    services.return_register(actor=applicant, flow=Flow.objects.get(pk=flow.pk),
                             quantity=D(3))
    client.force_login(applicant)
    response = client.get(url("masks:return_start"))
    assert response.status_code == 200
    assert numbers(response) == [returnable.number]
    assert f'data-testid="open-{returnable.number}"' in response.content.decode()


def test_it_shows_the_stock_in_my_cases(client, url, make_mask_permit, applicant, make_case,
                                        django_assert_max_num_queries):
    declaration = cleared_declaration(make_mask_permit, applicant, quantity="10")
    make_case(applicant)  # another procedure's case: no note
    client.force_login(applicant)
    response = client.get(url("permits:dashboard"))
    notes = {case.pk: getattr(case, "dashboard_note", "")
             for case in response.context["page"].object_list}
    case = declaration.permit.current.application
    assert "10" in notes[case.pk]
    assert [pk for pk, note in notes.items() if note] == [case.pk]
    assert 'data-testid="dashboard-note"' in response.content.decode()
    with django_assert_max_num_queries(30) as few:
        client.get(url("permits:dashboard"))
    for _n in range(3):
        cleared_declaration(make_mask_permit, applicant)
        written_off_permit(make_mask_permit, applicant)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("permits:dashboard"))


def test_my_cases_prints_what_it_printed_with_the_drafts_and_notes_read_as_before(
        client, url, make_mask_permit, applicant, agent, make_case, monkeypatch):
    """我的案件 (stop 25): its drafts read in two branches (entry.draft_branches) and its
    stock notes by NOTE_PERMITS ids (services._sources_of_page) print the page byte for byte
    as the drafts read by drafts_of()'s one branch and the notes by one array did, in both
    languages, for the applicant (notes, its drafts and its agent's) and the agent."""
    import re

    from django.conf import settings

    from permits import entry

    for quantity in ("10", "7", "3"):
        cleared_declaration(make_mask_permit, applicant, quantity=quantity)
    make_case(applicant)
    make_case(applicant, actor=agent)
    written_off_permit(make_mask_permit, applicant)

    def pages():
        shown = []
        for user in (applicant, agent):
            client.force_login(user)
            for language in ("zh-hant", "en"):
                client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
                response = client.get(url("permits:dashboard"))
                shown.append(re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "",
                                    response.content.decode()))
        return shown

    now = pages()
    assert 'data-testid="dashboard-note"' in now[0] and "data-testid=\"draft-" in now[0]
    assert now[0] != now[1]  # the two languages
    monkeypatch.setattr(entry, "draft_branches", None)
    if connection.vendor == "postgresql":
        monkeypatch.setattr(services, "_sources_of_page",
                            lambda ids: list(services._sources_of(ids)))
    assert pages() == now


def test_it_sums_in_my_cases_what_the_stock_page_lists_per_source(make_mask_permit, applicant):
    """我的案件's totals (permit_stock: two grouped queries, one round trip) equal the sums
    of the stock page's sources (_sources: one UNION), whatever state each source is in."""
    untouched = cleared_declaration(make_mask_permit, applicant, quantity="10")
    partly = services.stock_report_load(
        declaration=cleared_declaration(make_mask_permit, applicant, quantity="10"))
    own_use(applicant, partly, "4")  # 6 in stock, 4 in flows not declared
    declared = services.stock_report_load(
        declaration=cleared_declaration(make_mask_permit, applicant, quantity="10"))
    own_use(applicant, declared, "10")
    services.flows_declare(actor=applicant, report=declared)  # nothing left: not listed
    written = written_off_permit(make_mask_permit, applicant)
    sources, _more = services.stock_sources(user=applicant, limit=100)
    expected = {}
    for source in sources:
        total = expected.setdefault(source["permit_id"], {"stock": D(0), "pending": D(0)})
        total["stock"] += source["stock"]
        total["pending"] += source["pending"]
    permits = {untouched.permit_id, partly.permit_id, declared.permit_id, written.pk}
    assert services.permit_stock(permits) == expected
    # Both queries' rows, as _sources_of reads them at once on PostgreSQL.
    assert sorted(services._ledger_by_source(list(permits))) == sorted(
        row[:3] for row in services._sources_of(list(permits)) if row[2] is not None)
    assert sorted(services._stock_by_source(list(permits))) == sorted(
        (*row[:2], *row[3:]) for row in services._sources_of(list(permits)) if row[2] is None)
    assert expected[partly.permit_id] == {"stock": D(6), "pending": D(4)}
    assert declared.permit_id not in expected and untouched.permit_id in expected
    if connection.vendor == "postgresql":
        # 我的案件's statement of NOTE_PERMITS ids, the page's repeated to fill it (masks.
        # services._NOTES_OF): _sources_of's rows, one of the page's ids or more than fill it.
        for ids in ([written.pk], list(permits),
                    [*range(10**9, 10**9 + services.NOTE_PERMITS), *permits]):
            assert sorted(map(repr, services._sources_of_page(ids))) == sorted(
                repr(row) for row in services._sources_of(list(permits)) if row[0] in ids)


def test_it_hides_the_stock_of_a_fully_declared_permit_in_my_cases(client, url,
                                                                   make_mask_permit,
                                                                   applicant):
    declaration = cleared_declaration(make_mask_permit, applicant, quantity="10")
    report = services.stock_report_load(declaration=declaration)
    own_use(applicant, report, "10")
    services.flows_declare(actor=applicant, report=report)
    client.force_login(applicant)
    response = client.get(url("permits:dashboard"))
    assert not any(getattr(case, "dashboard_note", "")
                   for case in response.context["page"].object_list)


# --- 14: the case page and the PDF ------------------------------------------------------------


def test_it_shows_the_route_and_links_on_the_case_page(client, url, make_mask_permit,
                                                       applicant):
    permit = make_mask_permit(applicant, route="postal")
    client.force_login(applicant)
    response = client.get(url("permits:application_detail",
                              permit.current.application.pk))
    page = response.content.decode()
    assert response.status_code == 200
    assert [row["code"] for row in response.context["procedure_rows"]] == ["postal"]
    assert 'data-testid="link-write-off"' in page
    assert f"{url('masks:write_off_add')}?permit_no={permit.permit_no}" in page
    assert 'data-testid="link-flows"' in page


def test_it_gives_a_declaration_import_no_write_off_link(client, url, make_mask_permit,
                                                         applicant):
    permit = make_mask_permit(applicant, route="declaration")
    client.force_login(applicant)
    response = client.get(url("permits:application_detail",
                              permit.current.application.pk))
    page = response.content.decode()
    assert [row["code"] for row in response.context["procedure_rows"]] == ["declaration"]
    assert 'data-testid="link-write-off"' not in page
    assert 'data-testid="link-flows"' in page


def test_it_gives_the_reviewer_the_route_without_the_users_links(client, url,
                                                                 make_mask_permit,
                                                                 applicant, reviewer):
    permit = make_mask_permit(applicant, route="postal")
    client.force_login(reviewer)
    response = client.get(url("permits:application_detail",
                              permit.current.application.pk))
    assert response.status_code == 200  # reviewers see cases (ACC-5)
    assert [row["code"] for row in response.context["procedure_rows"]] == ["postal"]
    assert 'data-testid="link-write-off"' not in response.content.decode()


def test_it_prints_the_route_and_no_partial_shipments_on_the_mask_permit(make_mask_permit,
                                                                        applicant):
    permit = make_mask_permit(applicant, route="passenger")
    with translation.override("zh-hant"):
        context = pdf.permit_context(permit.current)
        html = render_to_string("pdf/permit.html", context)
    assert context["shows_partial_shipment"] is False
    assert [row["code"] for row in context["procedure_rows"]] == ["passenger"]
    assert 'data-testid="partial-shipments"' not in html
    assert 'data-testid="procedure-row-passenger"' in html


def test_it_still_prints_partial_shipments_for_other_procedures(make_case, applicant,
                                                                reviewer):
    case = make_case(applicant, status="approved", reviewer=reviewer)
    with translation.override("zh-hant"):
        context = pdf.permit_context(case.issued_version)
        html = render_to_string("pdf/permit.html", context)
    assert context["shows_partial_shipment"] is True
    assert 'data-testid="partial-shipments"' in html


# --- 15: the issue mail and the agent's 稽催信 ---------------------------------------------


def test_it_mails_an_immediate_issue_as_issued_with_the_number_in_the_subject(
        make_mask_permit, applicant):
    permit = make_mask_permit(applicant)
    email = OutboundEmail.objects.get(application=permit.current.application)
    assert permit.permit_no in email.subject
    with translation.override("zh-hant"):
        draft = str(services.Status.DRAFT.label)
    assert draft not in email.subject and draft not in email.body
    assert permit.permit_no in email.body


def test_it_still_mails_a_reviewed_case_its_status(make_case, applicant, reviewer):
    case = make_case(applicant, status="initial_review")
    email = OutboundEmail.objects.get(application=case)
    assert case.number in email.subject


@pytest.fixture
def filed_by_agent(make_mask_permit, applicant, other_applicant, agent):
    """Stock of two applicants whose permits the agent filed, and one the applicant filed
    itself."""
    mine = written_off_permit(make_mask_permit, applicant, medical="5")
    theirs = []
    for holder in (applicant, other_applicant):
        permit = make_mask_permit(holder, actor=agent, route="postal",
                                  items=[item(quantity="100")])
        services.write_off_record(actor=agent, permit=permit, route="postal",
                                  medical_quantity=D(7), non_medical_quantity=D(0))
        theirs.append(permit)
    OutboundEmail.objects.all().delete()
    return mine, theirs


def test_it_sends_the_filing_agent_a_copy_of_the_reminder(applicant, other_applicant,
                                                          agent, filed_by_agent):
    mine, (first, second) = filed_by_agent
    assert services.reminders_send(today=MONDAY) == 3
    mails = {email.to: email for email in OutboundEmail.objects.all()}
    assert set(mails) == {applicant.email, other_applicant.email, agent.email}
    agents = mails[agent.email]
    # One mail to the agent listing what it filed, not what the applicant filed itself.
    assert first.permit_no in agents.body and second.permit_no in agents.body
    assert mine.permit_no not in agents.body
    assert mine.permit_no in mails[applicant.email].body
    assert StockReminder.objects.filter(holder=agent, period=MONDAY).count() == 1


def test_it_mails_the_agent_once_per_period(agent, filed_by_agent):
    services.reminders_send(today=MONDAY)
    assert services.reminders_send(today=MONDAY + datetime.timedelta(days=3)) == 0
    assert OutboundEmail.objects.filter(to=agent.email).count() == 1
    assert services.reminders_send(today=MONDAY + datetime.timedelta(days=7)) == 3
    assert OutboundEmail.objects.filter(to=agent.email).count() == 2


def test_it_reminds_agents_in_the_same_few_queries_however_many(
        make_mask_permit, make_user, django_assert_max_num_queries):
    from portal.accounts.models import Role

    def filed(count, start):
        for n in range(count):
            agent = make_user(f"9{start + n:07d}", role=Role.AGENT)
            holder = make_user(f"8{start + n:07d}")
            permit = make_mask_permit(holder, actor=agent, route="postal",
                                      items=[item(quantity="100")])
            services.write_off_record(actor=agent, permit=permit, route="postal",
                                      medical_quantity=D(1), non_medical_quantity=D(0))
        services.stock_reports_refresh()

    filed(1, 0)
    with django_assert_max_num_queries(20) as few:
        assert services.reminders_send(today=MONDAY, refresh=False) == 2
    filed(4, 10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert services.reminders_send(today=MONDAY, refresh=False) == 8


# --- 18: deleting a pending flow asks first; the command ---------------------------------------


@pytest.fixture
def pending(make_mask_permit, applicant):
    report = services.stock_report_load(
        declaration=cleared_declaration(make_mask_permit, applicant, quantity="10"))
    return own_use(applicant, report, "4")


def test_it_asks_before_deleting_a_pending_flow(client, url, applicant, pending):
    client.force_login(applicant)
    response = client.get(url("masks:flow_delete", pending.report_id, pending.pk))
    assert response.status_code == 200
    assert response.context["flow"] == pending
    page = response.content.decode()
    assert 'data-testid="confirm-delete"' in page and 'data-testid="cancel"' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline script (CSP)
    assert " onclick=" not in page and " onsubmit=" not in page
    assert Flow.objects.filter(pk=pending.pk).exists()
    response = client.post(url("masks:flow_delete", pending.report_id, pending.pk))
    assert response.status_code == 302
    assert not Flow.objects.exists()
    assert StockReport.objects.get().allocated == 0


def test_it_links_the_delete_button_to_the_question(client, url, applicant, pending):
    client.force_login(applicant)
    page = client.get(url("masks:flow_report", pending.report_id)).content.decode()
    assert f'href="{url("masks:flow_delete", pending.report_id, pending.pk)}"' in page


def test_it_asks_nobody_else_and_nothing_declared(client, url, applicant, other_applicant,
                                                  pending):
    client.force_login(other_applicant)
    assert client.get(url("masks:flow_delete", pending.report_id,
                          pending.pk)).status_code == 404
    services.flows_declare(actor=applicant, report=pending.report)
    client.force_login(applicant)
    assert client.get(url("masks:flow_delete", pending.report_id,
                          pending.pk)).status_code == 404


def test_it_sends_the_reminders_from_the_command(make_mask_permit, applicant):
    cleared_declaration(make_mask_permit, applicant)
    OutboundEmail.objects.all().delete()
    out = io.StringIO()
    call_command("send_stock_reminders", "--today", "115/03/02", stdout=out)
    assert StockReminder.objects.get().period == MONDAY
    assert "1" in out.getvalue()
    call_command("send_stock_reminders", "--today", "2026-03-03", stdout=io.StringIO())
    assert StockReminder.objects.count() == 1


def test_it_can_skip_the_refresh_from_the_command(make_mask_permit, applicant):
    cleared_declaration(make_mask_permit, applicant)
    call_command("send_stock_reminders", "--no-refresh", "--today", "2026-03-02",
                 stdout=io.StringIO())
    assert not StockReport.objects.exists() and not StockReminder.objects.exists()


def test_it_refuses_a_bad_date_in_the_command(make_mask_permit):
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("send_stock_reminders", "--today", "115/13/40", stdout=io.StringIO())

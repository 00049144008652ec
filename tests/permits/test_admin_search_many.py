"""The reviewers' search for a word that finds many cases (more than permits.admin.FEW_FOUND,
issue 10, stop 25): the list's query asks only the branches the probe found cases by, and an
applicant's identifier's beginning that is one whole identifier as that identifier (`=`,
read in the list's order within a status by application_identifier_status, 0015); the same
page, byte for byte, as when every branch was asked by its pattern, in both languages."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from permits import admin as permits_admin
from permits.models import Application
from tests.permits.test_admin_list import (  # noqa: F401 (fixtures)
    CHANGELIST,
    cases,
    signed_in,
)
from tests.permits.test_admin_list_written import _TOKEN, busy  # noqa: F401 (fixture)
from tests.services import require_postgres

pytestmark = pytest.mark.django_db

WORDS = ["22099131", "2209", "04595252", "0459", "1234567", "醫材股份", "安心", "RSE",
         "22099131 04595252", "nothing-like-it"]
FILTERS = [{}, {"status__exact": "initial_review"}, {"status__exact": "approved"},
           {"status__exact": "initial_review", "o": "-5.1"}, {"queue": "mine"}]


_PROBED = permits_admin._probed  # noqa: SLF001


def every_branch(word):
    """permits.admin._probed as it was: every branch of the word, by its pattern."""
    found, _branches = _PROBED(word)
    return (found, None) if found is not None else (None, permits_admin.search_branches(word))


def page(client, params):
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return (_TOKEN.sub(b"TOKEN", response.content),
            [case.pk for case in response.context["cl"].result_list])


@pytest.fixture
def longer(busy, other_applicant, make_case):  # noqa: F811
    """A case of an applicant whose identifier is longer than 22099131 and starts so."""
    case = make_case(other_applicant)
    Application.objects.filter(pk=case.pk).update(applicant_identifier="220991310")
    return case


@pytest.mark.parametrize("language", ["zh-hant", "en"])
@pytest.mark.parametrize("with_longer", [False, True])
def test_the_page_is_every_branchs_byte_for_byte(signed_in, busy, language, with_longer,  # noqa: F811
                                                 request, monkeypatch):
    if with_longer:
        request.getfixturevalue("longer")
    signed_in.cookies["django_language"] = language
    monkeypatch.setattr(permits_admin, "FEW_FOUND", 0)  # a word that finds any finds "many"
    for word in WORDS:
        for filters in FILTERS:
            params = {"q": word, **filters}
            narrowed = page(signed_in, params)
            with monkeypatch.context() as patch:
                patch.setattr(permits_admin, "_probed", every_branch)
                assert page(signed_in, params) == narrowed, params
            with monkeypatch.context() as patch:  # the few, named by their ids
                patch.setattr(permits_admin, "FEW_FOUND", 1000)
                assert page(signed_in, params)[1] == narrowed[1], params


@pytest.mark.postgres
def test_a_whole_identifier_is_asked_by_equality(signed_in, busy, monkeypatch):  # noqa: F811
    require_postgres()
    monkeypatch.setattr(permits_admin, "FEW_FOUND", 0)
    assert permits_admin._probed("22099131") == (  # noqa: SLF001
        None, [{"applicant_identifier": "22099131"}])
    # A beginning that is no whole identifier, the agent's (no applicant's), a name.
    assert permits_admin._probed("2209") == (  # noqa: SLF001
        None, [{"applicant_identifier__startswith": "2209"}])
    assert permits_admin._probed("04595252") == (  # noqa: SLF001
        None, [{"agent_identifier__startswith": "04595252"}])
    assert permits_admin._probed("醫材股份") == (  # noqa: SLF001
        None, [{"applicant_name__icontains": "醫材股份"}])
    with CaptureQueriesContext(connection) as queries:
        signed_in.get(CHANGELIST, {"q": "22099131", "status__exact": "initial_review"})
    (rows,) = [q["sql"] for q in queries if 'ORDER BY "permits_application"."submitted_at"' in
               q["sql"]]
    assert '"permits_application"."applicant_identifier" = ' in rows
    assert "LIKE" not in rows and "agent_identifier" not in rows


@pytest.mark.postgres
def test_a_longer_identifier_keeps_the_beginning(longer, monkeypatch):
    require_postgres()
    monkeypatch.setattr(permits_admin, "FEW_FOUND", 0)
    assert permits_admin._probed("22099131") == (  # noqa: SLF001
        None, [{"applicant_identifier__startswith": "22099131"}])
    monkeypatch.setattr(permits_admin, "FEW_FOUND", 1000)
    found = permits_admin.few_found("22099131")
    assert longer.pk in found and len(found) == len(set(found)) == Application.objects.filter(
        applicant_identifier__startswith="22099131").count()


def test_many_elsewhere_asks_every_branch(busy, monkeypatch):  # noqa: F811
    """(Without arrays the probe is case_matches(), which tells no branch from another.)"""
    monkeypatch.setattr(permits_admin, "FEW_FOUND", 0)
    monkeypatch.setattr(permits_admin, "arrays_supported", lambda: False)
    assert permits_admin._probed("22099131") == (  # noqa: SLF001
        None, permits_admin.search_branches("22099131"))


@pytest.mark.parametrize(("start", "found"), [
    ("2209913", {"22099131", "220991310"}), ("22099131", {"220991310"}),
    ("220991310", set()), ("1234567", {"12345675"}), ("_", set()), ("%", set())])
def test_longer_is_a_longer_text_starting_so(longer, start, found):
    assert set(Application.objects.filter(applicant_identifier__longer=start).values_list(
        "applicant_identifier", flat=True)) == found


@pytest.mark.postgres
def test_the_index_of_an_applicants_cases_in_a_status(db):
    require_postgres()
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s",
                       ["application_identifier_status"])
        (definition,) = cursor.fetchone()
    assert definition.endswith("(applicant_identifier, status, submitted_at DESC NULLS LAST, "
                               "id DESC)"), definition

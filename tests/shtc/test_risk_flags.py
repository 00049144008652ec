"""Risk flags of SHTC cases (issue 14, point 4; shtc/risk.py): each raised and not raised,
computed when the case is submitted (申請) through the real submit paths, never blocking it,
and stored with what they name; the screening list matched fuzzily at a constant number of
queries whatever its size."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rapidfuzz import fuzz

from permits import workflow
from permits.models import Status
from shtc import risk
from shtc.models import RiskFlag, RiskFlagKind, ScreeningEntry
from tests.shtc import assurance
from tests.shtc.review_cases import ITEM

K = RiskFlagKind


def kinds(case):
    return sorted(RiskFlag.objects.filter(application=case).values_list("kind", flat=True))


def only(case, kind):
    [flag] = RiskFlag.objects.filter(application=case, kind=kind)
    return flag


def english(flag):
    with translation.override("en"):
        return flag.text


def listed(name, *, aliases="", source="UNSC", country=""):
    return ScreeningEntry.objects.create(name=name, aliases=aliases, source_list=source,
                                         country=country)


# --- names as they are matched ----------------------------------------------------------------


def test_names_are_normalised_before_matching():
    assert risk.normalise("ＡＣＭＥ  Trading Co., Ltd.") == "acme trading"
    assert risk.normalise("Acme Trading Company Limited") == "acme trading"
    assert risk.normalise("ACME TRADING, INC.") == "acme trading"
    assert risk.normalise("安心科技股份有限公司") == "安心科技"
    assert risk.normalise("Trading Acme Corp.") == "acme trading"  # word order
    assert risk.normalise("Co., Ltd.") == ""


# --- each flag raised and not raised ----------------------------------------------------------


@pytest.mark.django_db
def test_an_ordinary_first_case_is_flagged_only_as_a_first_export(shtc_case):
    case = shtc_case(destination="US")
    assert case.status == Status.INITIAL_REVIEW
    assert kinds(case) == [K.FIRST_EXPORT]
    assert "Sierra Photonics LLC" in english(only(case, K.FIRST_EXPORT))


@pytest.mark.django_db
def test_a_second_export_to_the_same_end_user_is_not_a_first(shtc_case):
    shtc_case(destination="US")
    # The same end user typed differently: case, punctuation, suffix.
    again = shtc_case(destination="US", end_user={
        "name": "SIERRA PHOTONICS, L.L.C.", "address": "5 Mesa Road", "country": "US"})
    assert K.FIRST_EXPORT not in kinds(again)
    # Another end user, or the same name in another country, is a first export.
    other = shtc_case(destination="US", end_user={
        "name": "Mesa Optics LLC", "address": "5 Mesa Road", "country": "US"})
    assert K.FIRST_EXPORT in kinds(other)
    elsewhere = shtc_case(destination="JP", end_user={
        "name": "Sierra Photonics LLC", "address": "1 Chome", "country": "JP"})
    assert K.FIRST_EXPORT in kinds(elsewhere)


@pytest.mark.django_db
def test_a_registered_case_not_yet_submitted_is_not_an_earlier_export(shtc_case):
    shtc_case(destination="US", status=Status.REGISTERED)  # 登錄中: not submitted
    assert K.FIRST_EXPORT in kinds(shtc_case(destination="US"))


@pytest.mark.django_db
def test_another_applicants_export_to_the_end_user_does_not_count(shtc_case, make_user):
    from django.utils import timezone

    other = make_user("12345675", name="別家公司")
    from permits import parties, services
    from permits.models import DocumentType
    from shtc.models import ShtcApplication

    case = services.application_create(document_type=DocumentType.SHTC_EXPORT, applicant=other,
                                       actor=other, items=[dict(ITEM)], destination_country="US")
    parties.parties_replace(application=case, parties={
        "buyer": {"name": "B", "address": "A", "country": "US"},
        "consignee": {"same_as_buyer": True},
        "end_user": {"name": "Sierra Photonics LLC", "address": "5 Mesa Road",
                     "country": "US"}})
    ShtcApplication.objects.create(application=case, end_use="x")
    type(case).objects.filter(pk=case.pk).update(status=Status.INITIAL_REVIEW,
                                                  submitted_at=timezone.now())
    assert K.FIRST_EXPORT in kinds(shtc_case(destination="US"))


@pytest.mark.django_db
def test_iran_is_flagged_without_a_trade_ban(shtc_case):
    case = shtc_case(destination="IR")
    flag = only(case, K.CONTROLLED_DESTINATION)
    assert flag.params == {"country": "IR", "trade_banned_since": None}
    assert "trade ban" not in english(flag)
    assert K.WATCHED_DESTINATION not in kinds(case)


@pytest.mark.django_db
def test_north_korea_is_flagged_with_its_total_trade_ban(shtc_case):
    case = shtc_case(destination="KP")
    flag = only(case, K.CONTROLLED_DESTINATION)
    assert flag.params["trade_banned_since"] == "2017-09-26"
    assert "Total trade ban since 106/09/26" in english(flag)
    with translation.override("zh-hant"):
        assert "106/09/26" in flag.text


@pytest.mark.django_db
@pytest.mark.parametrize("destination", ["CN", "AE"])
def test_mainland_china_and_the_uae_are_flagged(shtc_case, destination):
    case = shtc_case(destination=destination)
    assert only(case, K.WATCHED_DESTINATION).params == {"country": destination}
    assert K.CONTROLLED_DESTINATION not in kinds(case)


@pytest.mark.django_db
@pytest.mark.parametrize("destination", ["US", "JP", "HK"])
def test_other_destinations_are_not_flagged(shtc_case, destination):
    case = shtc_case(destination=destination)
    assert not {K.WATCHED_DESTINATION, K.CONTROLLED_DESTINATION} & set(kinds(case))


@pytest.mark.django_db
def test_a_reexport_of_goods_from_one_of_the_ten_countries_is_flagged(shtc_case):
    items = [{**ITEM, "origin_country": "US"}, {**ITEM, "origin_country": "DE"},
             {**ITEM, "origin_country": "TW"}, {**ITEM, "origin_country": "US"}]
    case = shtc_case(destination="JP", items=items)
    flag = only(case, K.REEXPORT)
    assert flag.params == {"origins": ["DE", "US"]}
    assert "Germany" in english(flag) and "United States" in english(flag)


@pytest.mark.django_db
def test_goods_going_back_to_their_country_or_from_elsewhere_are_not_a_reexport(shtc_case):
    back = shtc_case(destination="US", items=[{**ITEM, "origin_country": "US"}])
    assert K.REEXPORT not in kinds(back)
    japanese = shtc_case(destination="SG", items=[{**ITEM, "origin_country": "JP"}])
    assert K.REEXPORT not in kinds(japanese)


@pytest.mark.django_db
def test_a_transit_port_in_a_controlled_area_is_flagged(shtc_case):
    case = shtc_case(destination="CN", transit_port="KPNAM")
    flag = only(case, K.TRANSIT_PORT)
    assert flag.params == {"port": "KPNAM", "country": "KP"}
    assert "KPNAM" in english(flag)
    assert K.TRANSIT_PORT not in kinds(shtc_case(destination="US", transit_port="USLAX"))
    assert K.TRANSIT_PORT not in kinds(shtc_case(destination="US"))


# --- the screening list -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_buyer_matching_an_entry_fuzzily_is_flagged_with_score_and_entry(shtc_case):
    entry = listed("Acme Trading Company Limited", source="UNSC 1718", country="KP")
    case = shtc_case(destination="US", buyer="ACME Trading Co., Ltd.")
    flag = only(case, K.SCREENING_MATCH)
    assert flag.matched_entry == entry and flag.score == 100
    assert flag.params["role"] == "buyer" and flag.params["source_list"] == "UNSC 1718"
    text = english(flag)
    assert "ACME Trading Co., Ltd." in text and "Acme Trading Company Limited" in text
    assert "100" in text


@pytest.mark.django_db
def test_a_misspelt_name_matches_above_the_threshold(shtc_case):
    entry = listed("Sierra Photonics LLC")
    case = shtc_case(destination="US")  # end user "Sierra Photonics LLC"
    assert only(case, K.SCREENING_MATCH).params["role"] == "end_user"
    entry.name = "Siera Photonic Inc."
    entry.save()
    flag = only(shtc_case(destination="US"), K.SCREENING_MATCH)
    assert risk.MATCH_THRESHOLD <= flag.score < 100


@pytest.mark.django_db
def test_a_name_scoring_below_the_threshold_is_not_flagged(shtc_case):
    listed("Acme Holdings Ltd.")
    listed("Apex Tooling Co., Ltd.")
    buyer = "ACME Trading Co., Ltd."
    best = max(fuzz.ratio(risk.normalise(buyer), risk.normalise(name))
               for name in ("Acme Holdings Ltd.", "Apex Tooling Co., Ltd."))
    assert 50 < best < risk.MATCH_THRESHOLD  # close, but not close enough
    assert K.SCREENING_MATCH not in kinds(shtc_case(destination="US", buyer=buyer))


@pytest.mark.django_db
def test_an_alias_matches_and_an_entry_no_longer_in_use_does_not(shtc_case):
    entry = listed("Korea Ryonbong General Corporation", aliases="Lion City Semiconductors")
    flag = only(shtc_case(destination="US"), K.SCREENING_MATCH)  # buyer: the alias
    assert flag.matched_entry == entry and flag.params["listed"] == "Lion City Semiconductors"
    ScreeningEntry.objects.filter(pk=entry.pk).update(active=False)
    entry.refresh_from_db()
    entry.save()  # (an update() alone is seen through its updated_at only when saved)
    assert K.SCREENING_MATCH not in kinds(shtc_case(destination="US"))


@pytest.mark.django_db
def test_an_entry_added_after_the_list_was_read_is_matched_at_the_next_submission(shtc_case):
    assert K.SCREENING_MATCH not in kinds(shtc_case(destination="US"))  # the list is read
    ScreeningEntry.objects.bulk_create([ScreeningEntry(name="Lion City Semiconductors",
                                                       source_list="UNSC")])  # no signal
    assert K.SCREENING_MATCH in kinds(shtc_case(destination="US"))


@pytest.mark.django_db
def test_the_consignee_is_screened_when_it_is_not_the_buyer(client, applicant):
    listed("Harbour Freight Forwarding Pte Ltd")
    client.force_login(applicant)
    case = assurance.register(client, basic={
        "consignee-same_as_buyer": "", "consignee-name": "HARBOUR FREIGHT FORWARDING PTE. LTD.",
        "consignee-address": "2 Quay, Long Beach", "consignee-country": "US"})
    case = assurance.file(case, applicant)
    assert only(case, K.SCREENING_MATCH).params["role"] == "consignee"


@pytest.mark.django_db
def test_the_screening_costs_the_same_queries_at_any_list_size(shtc_case, applicant):
    ScreeningEntry.objects.bulk_create(
        ScreeningEntry(name=f"Listed Entity {n:05d} Trading", aliases=f"Alias {n:05d} Works",
                       source_list="UNSC") for n in range(5000))
    listed("Acme Trading Company Limited")
    first = shtc_case(destination="US", status=Status.REGISTERED, buyer="ACME Trading Ltd")
    second = shtc_case(destination="US", status=Status.REGISTERED, buyer="Nobody Listed Ltd")
    risk.flag_case(first)  # reads the list into this process
    RiskFlag.objects.all().delete()
    with CaptureQueriesContext(connection) as big:
        started = time.perf_counter()
        risk.flag_case(first)
        seconds = time.perf_counter() - started
    ScreeningEntry.objects.exclude(name__startswith="Acme").delete()
    risk.flag_case(second)  # the list changed: read again
    RiskFlag.objects.all().delete()
    with CaptureQueriesContext(connection) as small:
        risk.flag_case(first)
    with CaptureQueriesContext(connection) as unmatched:
        risk.flag_case(second)
    assert len(big) == len(small) == 7, [q["sql"] for q in big]
    assert len(unmatched) == len(big) - 1  # no entry to read the list of
    assert kinds(first) == [K.FIRST_EXPORT, K.SCREENING_MATCH]
    assert kinds(second) == [K.FIRST_EXPORT]
    assert seconds < 1.0


# --- at submission, through the real paths, never blocking ------------------------------------


@pytest.mark.django_db
def test_flags_are_computed_at_apply_through_9_1_2_and_not_at_registration(client, applicant):
    listed("Pacific Optics Incorporated")
    client.force_login(applicant)
    case = assurance.register(client, basic={"destination_country": "CN",
                                             "buyer-country": "CN",
                                             "end_user-country": "CN",
                                             "end_user-name_zh": "太平洋光學有限公司"})
    assert case.status == Status.REGISTERED and not kinds(case)
    case = assurance.file(case, applicant)
    assert case.status == Status.INITIAL_REVIEW
    assert kinds(case) == sorted([K.WATCHED_DESTINATION, K.FIRST_EXPORT, K.SCREENING_MATCH])


@pytest.mark.django_db
def test_a_case_raising_every_flag_is_still_submitted_and_flagged_once(shtc_case, reviewer):
    listed("Acme Trading Company Limited")
    items = [{**ITEM, "origin_country": "US"}]
    case = shtc_case(destination="KP", buyer="Acme Trading Co., Ltd.", items=items,
                     transit_port="IRBND")
    assert case.status == Status.INITIAL_REVIEW and case.receipt_no
    assert kinds(case) == sorted([K.CONTROLLED_DESTINATION, K.REEXPORT, K.FIRST_EXPORT,
                                  K.SCREENING_MATCH, K.TRANSIT_PORT])
    # 補件 and back: the case is not submitted again, its flags stay as they were.
    case = workflow.transition(application=case, to=Status.SUPPLEMENT, actor=reviewer,
                               note="請補上型錄")
    case = workflow.transition(application=case, to=Status.INITIAL_REVIEW,
                               actor=case.applicant)
    assert len(kinds(case)) == 5


@pytest.mark.django_db
def test_a_flag_stays_with_its_case_and_records_the_decision_fields(shtc_case, reviewer):
    flag = only(shtc_case(destination="AE"), K.WATCHED_DESTINATION)
    assert flag.decided_by is None and flag.decided_at is None and flag.decision_note == ""
    assert flag.created_at is not None


@pytest.mark.django_db
def test_a_page_of_cases_reads_its_flags_in_one_query_and_shows_them_escaped(
        shtc_case, django_assert_num_queries):
    listed("<b>Acme</b> Trading Co")
    flagged = shtc_case(destination="CN", buyer="<b>Acme</b> Trading Co")
    other = shtc_case(destination="AE")
    with django_assert_num_queries(1):
        found = risk.flags_of([flagged.pk, other.pk])
    assert [flag.kind for flag in found[other.pk]] == [K.WATCHED_DESTINATION, K.FIRST_EXPORT]
    with translation.override("en"):
        html = risk.flags_html(found[flagged.pk])
    assert "<b>" not in html and "&lt;b&gt;Acme&lt;/b&gt;" in html
    assert 'data-testid="risk-screening_match"' in html and "risk-open" in html
    assert risk.flags_html([]) == ""

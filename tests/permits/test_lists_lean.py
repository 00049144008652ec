"""What 我的案件 and the entry pages read and write now that they cost less (issue 10, second
pass): the drafts read by the first page's own query are the drafts the ORM reads; cases made
without Model.__init__ are from_db()'s; a one-to-one row read with the list is
select_related()'s; links reversed once a list are reverse()'s; choice labels are
get_FOO_display()'s; the compiled check of a new case's kept input is unsaved_get()'s; the
fast escape is conditional_escape(); the country select is Django's select."""

import datetime

import pytest
from django import forms
from django.contrib import messages
from django.contrib.messages import get_messages
from django.db import connection
from django.db.models import signals
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from permits import autosave, entry
from permits.fields import CodeSelect
from permits.listing import (
    CASE_COLUMNS,
    LINK_KEY,
    Drafts,
    VisibleCases,
    choice_labels,
    key_link,
)
from permits.models import Application, DocumentType, Kind, Status, UnsavedInput
from permits.prepared import made as make_plainly
from portal.escaping import escaped
from shtc.models import ShtcApplication

pytestmark = pytest.mark.django_db

MY_CASES = ("-created_at", "-id")


def filed_cases():
    return Application.objects.exclude(status=Status.DRAFT)


def listed(user, *, drafts=None, related=(), prepared="test_lists_lean"):
    return VisibleCases(filed_cases(), user=user, ordering=MY_CASES, prepared=prepared,
                        drafts=drafts, related=related)


@pytest.fixture
def drafts_and_cases(make_case, applicant, other_applicant, agent):
    """Filed cases and drafts of an applicant, its own and its agent's (only the agent
    continues those), another applicant's, with 0 to 3 items, saved at distinct moments."""
    for _n in range(3):
        make_case(applicant, status=Status.INITIAL_REVIEW)
        make_case(applicant, actor=agent, status=Status.INITIAL_REVIEW)
    made = [make_case(applicant, items=[]), make_case(applicant),
            make_case(applicant, actor=agent), make_case(other_applicant),
            make_case(applicant, items=[{**item, "description": f"Item {n}"}
                                        for n, item in enumerate([ITEM] * 3)]),
            make_case(other_applicant, actor=agent)]
    start = timezone.now() - datetime.timedelta(days=2)
    for number, draft in enumerate(made):
        Application.objects.filter(pk=draft.pk).update(
            updated_at=start + datetime.timedelta(minutes=number))
    return made


ITEM = {"tariff_code": "85423100003", "description": "FPGA", "quantity": "1.0000",
        "unit": "PCE", "unit_price": "10.0000", "currency": "USD", "origin_country": "TW"}


@pytest.mark.parametrize("branches", [None, entry.draft_branches])
@pytest.mark.parametrize("limit", [2, 11])
def test_the_first_page_reads_the_drafts_the_orm_reads(drafts_and_cases, applicant, agent,
                                                        other_applicant, limit, branches):
    drafts = Drafts(entry.drafts_of, limit, branches)
    for user in (applicant, agent, other_applicant):
        for prepared in ("test_lists_lean", None):
            cases = listed(user, drafts=drafts, prepared=prepared)
            page = cases[0:4]
            assert cases.drafts_shown == drafts.rows(user)
            assert len(cases.drafts_shown) == min(limit, entry.drafts_of(user).count())
            # The page's cases are those of the list without drafts.
            assert page == listed(user, prepared=prepared)[0:4]
            assert [case.permit_version for case in page] == \
                [case.permit_version for case in listed(user, prepared=prepared)[0:4]]
            # A later page reads no drafts.
            later = listed(user, drafts=drafts, prepared=prepared)
            assert later[4:8] == listed(user, prepared=prepared)[4:8]
            assert later.drafts_shown is None
    # Each draft with when it was saved and how many items it has.
    cases = listed(applicant, drafts=Drafts(entry.drafts_of, 11))
    cases[0:1]
    for pk, _type, _kind, _name, updated_at, item_count in cases.drafts_shown:
        stored = Application.objects.get(pk=pk)
        assert (updated_at, item_count) == (stored.updated_at, stored.items.count())
    assert sorted(row[-1] for row in cases.drafts_shown) == [0, 1, 3]


def test_the_draft_branches_are_drafts_of_once_each(drafts_and_cases, applicant, agent,
                                                    other_applicant, reviewer):
    # 我的案件 reads drafts_of() in two branches (Drafts.branches): together they are its
    # drafts, and no draft is in both.
    for user in (applicant, agent, other_applicant, reviewer):
        filed, own = (list(branch.values_list("pk", flat=True))
                      for branch in entry.draft_branches(user))
        assert not set(filed) & set(own)
        assert sorted(filed + own) == sorted(entry.drafts_of(user).values_list("pk", flat=True))
    assert entry.draft_branches(agent)[0].exists() and entry.draft_branches(applicant)[1].exists()


def test_only_my_cases_pages_keep_their_plan(applicant):
    # Its branches are index ranges cut at the page, one plan good for every user (bench/
    # README.md "Stop 25"); a deep page is one statement with its OFFSET a parameter
    # ("Stop 26", tests/permits/test_deep_pages.py); drafts read with drafts_of's OR are
    # planned for each request, as the query pages are (their criteria decide the plan).
    with_branches = Drafts(entry.drafts_of, 11, entry.draft_branches)
    assert listed(applicant, drafts=with_branches)._prepared(0, 26).keep_plan
    assert listed(applicant)._prepared(0, 9).keep_plan
    assert listed(applicant)._prepared(25, 51).keep_plan
    assert not listed(applicant, drafts=Drafts(entry.drafts_of, 11))._prepared(0, 26).keep_plan


@pytest.mark.parametrize("branches", [None, entry.draft_branches])
def test_the_drafts_of_a_user_without_filed_cases_are_read(make_case, applicant, branches):
    draft = make_case(applicant)
    cases = listed(applicant, drafts=Drafts(entry.drafts_of, 11, branches))
    assert cases[0:26] == []
    assert [row[0] for row in cases.drafts_shown] == [draft.pk]


def test_the_orm_reads_the_drafts_for_the_bureau(drafts_and_cases, reviewer):
    # Staff see every case (the plain path): their own drafts, none here.
    cases = listed(reviewer, drafts=Drafts(entry.drafts_of, 11))
    assert len(cases[0:5]) == 5
    assert cases.drafts_shown == []


@pytest.mark.postgres
def test_the_dashboard_reads_its_cases_and_drafts_in_one_query(client, drafts_and_cases,
                                                                applicant):
    client.force_login(applicant)
    client.get(reverse("permits:dashboard"))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("permits:dashboard"))
    reads = [query["sql"] for query in captured.captured_queries
             if "permits_application" in query["sql"]]
    assert len(reads) == 1, reads
    shown = {row["pk"] for row in response.context["drafts"]}
    assert shown == set(entry.drafts_of(applicant).values_list("pk", flat=True))
    assert len(response.context["page"].object_list) == 6


def test_cases_made_plainly_are_from_dbs(make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    values = Application.objects.filter(pk=case.pk).values_list(*CASE_COLUMNS).get()
    made = make_plainly(Application, connection.alias, CASE_COLUMNS, values)
    orm = Application.from_db(connection.alias, CASE_COLUMNS, values)
    assert vars(made).keys() == vars(orm).keys()
    assert {k: v for k, v in vars(made).items() if k != "_state"} == \
        {k: v for k, v in vars(orm).items() if k != "_state"}
    assert (made._state.adding, made._state.db) == (orm._state.adding, orm._state.db)
    assert made.get_deferred_fields() == orm.get_deferred_fields()
    assert made == orm and made.number == orm.number


def test_a_model_that_reacts_to_being_made_is_made_by_from_db(make_case, applicant):
    case = make_case(applicant)
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    signals.post_init.connect(receiver, sender=Application)
    try:
        made = make_plainly(Application, connection.alias, ("id",), (case.pk,))
    finally:
        signals.post_init.disconnect(receiver, sender=Application)
    assert seen == [made]


def test_a_one_to_one_row_read_with_the_list_is_select_relateds(make_case, applicant,
                                                                reviewer,
                                                                django_assert_num_queries):
    with_row = make_case(applicant, status=Status.INITIAL_REVIEW)
    without = make_case(applicant, status=Status.INITIAL_REVIEW)
    ShtcApplication.objects.create(application=with_row, transit_port="USLAX",
                                   end_use="Testing <equipment>")
    for user, prepared in ((applicant, "test_lists_lean"), (applicant, None), (reviewer, None)):
        cases = listed(user, related=("shtc",), prepared=prepared)[0:10]
        orm = {case.pk: case for case in Application.objects.select_related("shtc")}
        with django_assert_num_queries(0):
            for case in cases:
                try:
                    shtc = case.shtc
                except ShtcApplication.DoesNotExist:
                    shtc = None
                want = getattr(orm[case.pk], "shtc", None)
                if want is None:
                    assert shtc is None and case.pk == without.pk
                else:
                    assert {k: v for k, v in vars(shtc).items() if k != "_state"} == \
                        {k: v for k, v in vars(want).items() if k != "_state"}


def test_links_reversed_once_are_reverses():
    link = key_link(reverse("permits:application_detail", args=[LINK_KEY]))
    for pk in (1, 42, 9_999_999_999):
        assert link(pk) == reverse("permits:application_detail", args=[pk])
    with pytest.raises(ValueError):
        link("1/../2")


def test_the_continue_links_are_the_entries_pages(make_case, applicant):
    mask = make_case(applicant, document_type=DocumentType.MASK_IMPORT)
    shtc = make_case(applicant)  # 9-1-1, 9-2-1 and 9-2-2 share its type and kind
    nobody = Application(pk=10**12, document_type=DocumentType.MASK_IMPORT, kind="none")
    urls = entry.continue_links([mask, shtc, nobody])
    assert urls[mask.pk] == entry.entry_of(mask).url("edit", mask.pk)
    assert urls[shtc.pk] == reverse("permits:draft_continue", args=[shtc.pk])
    assert urls[nobody.pk] is None


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_choice_labels_are_get_display(language):
    with translation.override(language):
        for name, values in (("status", [*Status.values, "unknown"]),
                             ("kind", Kind.values), ("document_type", DocumentType.values)):
            label = choice_labels(Application, name)
            for value in values:
                want = getattr(Application(**{name: value}), f"get_{name}_display")()
                assert label(value) == want
                assert label(value) == want  # and again, from its list's own copy


def unsaved(user, **fields):
    return UnsavedInput.objects.create(user=user, data={"x": ["1"]}, **fields)


def test_the_compiled_check_of_kept_input_is_unsaved_gets(make_case, applicant,
                                                          other_applicant, settings):
    from masks.entry import APPLICATION as MASK
    from shtc.entry import APPLICATION as SHTC

    key = autosave.entry_key

    def both(user, entry_):
        return (autosave.unsaved_kept(user=user, entry=entry_, step=autosave.BASIC),
                autosave.unsaved_get(user=user, entry=entry_, application=None,
                                     step=autosave.BASIC) is not None)

    assert both(applicant, SHTC) == (False, False)
    unsaved(applicant, entry=key(MASK), step=autosave.BASIC)  # another entry's
    unsaved(other_applicant, entry=key(SHTC), step=autosave.BASIC)  # another user's
    unsaved(applicant, entry=key(SHTC), step=autosave.NEW_ITEM)  # another step
    unsaved(applicant, entry=key(SHTC), step=autosave.BASIC,  # a draft's
            application=make_case(applicant))
    assert both(applicant, SHTC) == (False, False)
    old = unsaved(applicant, entry=key(SHTC), step=autosave.BASIC)
    UnsavedInput.objects.filter(pk=old.pk).update(
        saved_at=timezone.now() - datetime.timedelta(days=settings.DRAFT_MAX_AGE_DAYS, hours=1))
    assert both(applicant, SHTC) == (False, False)
    UnsavedInput.objects.filter(pk=old.pk).update(saved_at=timezone.now())
    assert both(applicant, SHTC) == (True, True)
    assert both(applicant, MASK) == (True, True)
    assert both(other_applicant, SHTC) == (True, True)


def test_a_new_cases_page_says_its_input_was_kept(client, applicant):
    from shtc.entry import APPLICATION as SHTC

    def said(response):
        return [str(message) for message in get_messages(response.wsgi_request)
                if message.level == messages.INFO]

    client.force_login(applicant)
    page = reverse("shtc:application_basic")
    assert said(client.get(page)) == []
    unsaved(applicant, entry=autosave.entry_key(SHTC), step=autosave.BASIC)
    response = client.get(page)
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        assert said(response) == [gettext("Input not yet saved before the logout was kept: "
                                          "“Import saved draft” brings it back.")]


def test_the_fast_escape_is_conditional_escape():
    lazy_text = lazy(lambda: "<b>lazy</b> & 'q'", str)()
    lazy_safe = lazy(lambda: mark_safe("<b>safe</b>"), SafeString)()  # noqa: S308
    values = ["", "plain", "安心醫材", "a&b", "<script>", '"quoted"', "it's", "&amp;", 0, 12,
              -3.5, None, True, mark_safe("<i>kept</i>"), lazy_text, lazy_safe,  # noqa: S308
              SafeString("&"), b"bytes"]
    for value in values:
        assert escaped(value) == str(conditional_escape(value)), value


COLOURS = [("", "---"), ("RD", "Red & <b>"), ("GN", "Green"), ("RD", "Red again"),
           ("BL", 'Blue "navy"')]


@pytest.mark.parametrize("value", [None, "", "RD", "rd", "gn", "BL", "XX", ["GN", "RD"]])
def test_the_code_select_prints_djangos_select(value):
    ours, django_select = CodeSelect(choices=COLOURS), forms.Select(choices=COLOURS)
    wanted = value.upper() if isinstance(value, str) else value
    assert ours.render("colour", value, {"id": "id_colour"}) == \
        django_select.render("colour", wanted, {"id": "id_colour"})



"""The reviewers' case list written from its page query's rows (issue 10, stop 24: the list's
rows as tuples): no instances made for the list's page, the same rows as from the page's
instances, in both languages; a column the rows cannot give, or a list Django draws, reads
the instances (admin_list.PageRows)."""

import pytest
from django.db import connection
from django.utils import timezone, translation

from permits import admin as permits_admin
from permits import admin_list
from permits.models import Application
from tests.permits.test_admin_list import (  # noqa: F401 (fixtures)
    CHANGELIST,
    cases,
    signed_in,
)
from tests.permits.test_admin_list_written import busy  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

PAGES = ({}, {"queue": "mine"}, {"queue": "overdue"}, {"q": "22099131"},
         {"status__exact": "initial_review", "q": "22099131"}, {"submitted_at__year": "2026"})


def made_counted(monkeypatch):
    """A list that grows by the instances of each PageRows whose instances are made."""
    made = []
    original = admin_list.PageRows.instances.fget

    def instances(self):
        if self._made is None:
            made.extend(original(self))
        return original(self)

    monkeypatch.setattr(admin_list.PageRows, "instances", property(instances))
    return made


def rows_both_ways(cl, language):
    """The rows case_rows() writes from the page's rows, then from its instances."""
    columns = [permits_admin._column(cl, name, index)
               for index, name in enumerate(cl.list_display)]
    with translation.override(language), timezone.override("Asia/Taipei"):
        from_rows = list(permits_admin.case_rows(cl, columns))
        page = cl.result_list
        cl.result_list = list(page)  # its instances
        try:
            from_instances = list(permits_admin.case_rows(cl, columns))
        finally:
            cl.result_list = page
    return from_rows, from_instances


def test_the_list_makes_no_instance_for_its_rows(signed_in, busy, monkeypatch):  # noqa: F811
    made, shown = made_counted(monkeypatch), 0
    for params in PAGES:
        response = signed_in.get(CHANGELIST, params)
        assert response.status_code == 200
        # (On SQLite the search's cases are found by a query of another shape: instances.)
        assert isinstance(response.context["cl"].result_list, admin_list.PageRows) or (
            connection.vendor != "postgresql" and "q" in params), params
        assert (b"<th class=\"field-number" in response.content) == bool(
            response.context["cl"].result_list), params
        shown += len(response.context["cl"].result_list)
    assert shown > 10
    # (On SQLite the clocks are counted from the instances: workdays.clocks().)
    assert made == [] or connection.vendor != "postgresql"


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_rows_are_the_instances_rows_byte_for_byte(signed_in, busy, language,  # noqa: F811
                                                       reviewer):
    signed_in.cookies["django_language"] = language
    Application.objects.filter(pk=busy["filed"].pk).update(assignee=reviewer)
    for params in PAGES:
        cl = signed_in.get(CHANGELIST, params).context["cl"]
        from_rows, from_instances = rows_both_ways(cl, language)
        assert from_rows == from_instances and len(from_rows) == len(cl.result_list), params
        assert from_rows or params.get("queue") == "overdue", params
        if not params:  # every kind of cell: a permit number, an assignee, a clock, a flag
            shown = "".join(from_rows)
            assert " v1</td>" in shown and "case-clock-overdue" in shown
            assert "risk-badge" in shown and 'class="field-assigned_to"></td>' in shown
            assert f'class="field-assigned_to">{reviewer.name}</td>' in shown


def test_a_column_the_rows_cannot_give_reads_the_instances(signed_in, busy,  # noqa: F811
                                                            monkeypatch):
    expected = signed_in.get(CHANGELIST).content
    made = made_counted(monkeypatch)
    # permit_number without its row_value: the page's rows are written from its instances.
    monkeypatch.delattr(permits_admin.ApplicationAdmin.permit_number, "row_value")
    response = signed_in.get(CHANGELIST)
    assert made and _masked(response.content) == _masked(expected)


def test_a_popups_page_gives_its_instances_with_their_clocks(signed_in, busy):  # noqa: F811
    response = signed_in.get(CHANGELIST, {"_popup": "1"})
    assert response.status_code == 200
    page = response.context["cl"].result_list
    assert isinstance(page, admin_list.PageRows)
    instances = list(page)
    assert [case.pk for case in instances] == [row[page.at["id"]] for row in page.rows]
    assert any(case.list_clock is not None for case in instances)


def test_a_popups_page_shows_its_rows(signed_in, busy):  # noqa: F811
    """A popup's list is drawn by Django's loop in the app's change_list_results.html (it
    has no `body`): its rows are there, each a link that answers the opener (it showed an
    empty table)."""
    plain = signed_in.get(CHANGELIST).content.decode()
    response = signed_in.get(CHANGELIST, {"_popup": "1"})
    popup = response.content.decode()
    shown = response.context["cl"].result_list
    assert len(shown) >= len(busy)
    body = popup[popup.index("<tbody>"):popup.index("</tbody>")]
    assert body.count("<tr>") == len(shown) == plain.count("<tr>") - 1
    assert body.count("data-popup-opener=") == len(shown)
    for case in busy.values():
        assert f'data-popup-opener="{case.pk}"' in body


def test_page_rows_slices_and_annotations(busy):  # noqa: F811
    queryset = Application.objects.select_related("assignee").order_by("pk")
    page = admin_list.page_rows(queryset, 0, 10)
    assert isinstance(page, admin_list.PageRows) and len(page) == len(busy) + 4
    pk = page.getter("id")
    page.annotate("list_clock", [f"clock {pk(row)}" for row in page.rows])
    head = page[:2]
    assert len(head) == 2 and [case.list_clock for case in head] == [
        f"clock {case.pk}" for case in head]
    assert head.getter("list_clock")(head.rows[1]) == f"clock {head[1].pk}"
    made = list(page)
    page.annotate("list_flags", list(range(len(made))))  # after the instances: set on them
    assert [case.list_flags for case in made] == list(range(len(made)))
    assert [case.pk for case in made] == list(queryset.values_list("pk", flat=True)[:10])
    assert page[0] is made[0]
    assert page.getter("assignee__name")(page.rows[0]) == (
        made[0].assignee.name if made[0].assignee else None)
    with pytest.raises(KeyError):
        page.getter("no_such_field")


def _masked(content):
    from tests.permits.test_admin_list_written import _TOKEN

    return _TOKEN.sub(b"TOKEN", content)

"""The 轉口港代碼 look-up's count of a country's codes ("page n of N", shtc/port_views.py),
read on PostgreSQL from `shtc_port_country_count`, which triggers on the port table keep
(shtc migration 0011) in the same transaction as every write: each way a code is written
(the admin's add and change, its UN/LOCODE upload, manage.py load_locode, the ORM's bulk
writes and deletes, raw SQL, TRUNCATE) shows the new count at the next request, and a write
rolled back leaves it as it was. On SQLite the look-up counts."""

import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from shtc.models import Port
from tests.shtc.test_locode import RELEASE, write
from tests.shtc.test_port_admin import csv_file, post

LOOKUP = reverse("shtc:port_lookup")
postgresql = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="the kept counts are PostgreSQL's")


@pytest.fixture
def bureau(client, reviewer):
    client.force_login(reviewer)
    return client


def shown(client, country):
    """The count the look-up pages `country`'s codes by, and the number of its pages."""
    page = client.get(LOOKUP, {"country": country}).context["page"]
    return page.paginator.count, page.paginator.num_pages


def unmasked(html):
    """The page's HTML, its CSRF token (new on each response) left out."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", html)


def kept_counts():
    with connection.cursor() as cursor:
        cursor.execute("SELECT country, n FROM shtc_port_country_count WHERE n <> 0")
        return dict(cursor.fetchall())


def counted():
    from django.db.models import Count
    return dict(Port.objects.order_by().values_list("country").annotate(n=Count("code")))


def codes(country, count, edition="test"):
    Port.objects.bulk_create(Port(code=f"{country}{number:03d}", country=country,
                                  name=f"Place {number}", edition=edition)
                             for number in range(count))


@pytest.mark.django_db
def test_the_page_shows_the_countrys_count(bureau):
    codes("QQ", 200)
    assert shown(bureau, "QQ") == (200, 1)
    Port.objects.create(code="QQZZZ", country="QQ", name="One more", edition="test")
    assert shown(bureau, "QQ") == (201, 2)
    us = Port.objects.filter(country="US").count()
    assert shown(bureau, "US") == (us, -(-us // 200))


@postgresql
@pytest.mark.django_db
def test_the_kept_counts_are_the_tables_after_the_migrations():
    assert kept_counts() == counted()


@postgresql
@pytest.mark.django_db
def test_the_admins_add_and_change_keep_the_count(bureau):
    codes("QQ", 200)
    response = bureau.post(reverse("admin:shtc_port_add"), {
        "code": "QQADD", "name": "Added", "name_ascii": "", "subdivision": "",
        "function": "1-------", "status": "AI", "iata": "", "coordinates": "",
        "edition": "2024-2"})
    assert response.status_code == 302, response.content
    assert Port.objects.get(code="QQADD").country == "QQ"
    assert shown(bureau, "QQ") == (201, 2)
    port = Port.objects.get(code="QQADD")
    response = bureau.post(reverse("admin:shtc_port_change", args=[port.pk]), {
        "name": "Renamed", "name_ascii": "", "subdivision": "", "function": "1-------",
        "status": "AI", "iata": "", "coordinates": ""})
    assert response.status_code == 302, response.content
    assert Port.objects.get(code="QQADD").name == "Renamed"
    assert shown(bureau, "QQ") == (201, 2)
    assert kept_counts() == counted()


@postgresql
@pytest.mark.django_db
def test_the_admins_upload_keeps_the_count(bureau):
    before = shown(bureau, "ZW")[0]
    response = post(bureau, csv_file(RELEASE))
    assert response.status_code == 302
    assert shown(bureau, "ZW")[0] == before + 2 == Port.objects.filter(country="ZW").count()
    post(bureau, csv_file(RELEASE))  # the same again: nothing new
    assert shown(bureau, "ZW")[0] == before + 2
    assert kept_counts() == counted()


@postgresql
@pytest.mark.django_db
def test_load_locode_keeps_the_count(bureau, tmp_path):
    before = shown(bureau, "AD")[0]
    call_command("load_locode", str(write(tmp_path, RELEASE)))
    assert shown(bureau, "AD")[0] == before + 1 == Port.objects.filter(country="AD").count()
    # A later release changing a name: an update, no new code.
    call_command("load_locode", str(write(tmp_path, RELEASE.replace(
        "Andorra la Vella", "Andorra-la-Vella"), name="2025-1 UNLOCODE CodeListPart1.csv")))
    assert Port.objects.get(code="ADALV").name.startswith("Andorra-la")
    assert shown(bureau, "AD")[0] == before + 1
    assert kept_counts() == counted()


@postgresql
@pytest.mark.django_db
def test_bulk_writes_deletes_and_raw_sql_keep_the_count(bureau):
    codes("QQ", 201)
    assert shown(bureau, "QQ") == (201, 2)
    Port.objects.filter(code="QQ200").delete()
    assert shown(bureau, "QQ") == (200, 1)
    Port.objects.bulk_create([Port(code="QQ000", country="QQ", name="Again", edition="x"),
                              Port(code="QQ201", country="QQ", name="New", edition="x")],
                             update_conflicts=True, unique_fields=["code"],
                             update_fields=["name", "edition"])
    assert shown(bureau, "QQ") == (201, 2)
    # A code moved to another country (raw SQL): one less here, one more there.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE shtc_port SET country = 'QR' WHERE code IN ('QQ201', 'QQ199')")
    assert shown(bureau, "QQ") == (199, 1)
    assert shown(bureau, "QR")[0] == 2
    Port.objects.filter(country="QQ").update(name="Same country")
    assert shown(bureau, "QQ") == (199, 1)
    assert kept_counts() == counted()


@postgresql
@pytest.mark.django_db
def test_a_write_rolled_back_leaves_the_count(bureau):
    codes("QQ", 200)
    with pytest.raises(RuntimeError), transaction.atomic():
        Port.objects.create(code="QQZZZ", country="QQ", name="Gone", edition="x")
        assert shown(bureau, "QQ") == (201, 2)  # the writer's own transaction sees it
        raise RuntimeError
    assert shown(bureau, "QQ") == (200, 1)
    assert kept_counts() == counted()


@postgresql
@pytest.mark.django_db
def test_truncate_empties_the_counts():
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE shtc_port CASCADE")
    assert kept_counts() == {} == counted()
    codes("QQ", 3)
    assert kept_counts() == {"QQ": 3}


@pytest.mark.django_db
def test_a_search_is_counted(bureau):
    codes("QQ", 250)
    page = bureau.get(LOOKUP, {"country": "QQ", "q": "Place 1"}).context["page"]
    assert page.paginator.count == Port.objects.filter(
        country="QQ", name__icontains="Place 1").count() == 111


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hant", "en"])
@pytest.mark.parametrize("params", [
    {"country": "US"}, {"country": "US", "page": "2"}, {"country": "US", "page": "92"},
    {"country": "US", "page": "x"}, {"country": "US", "page": "500"}, {"country": "TW"},
    {"country": "US", "q": "los"}, {"letter": "U"}, {"country": "QQ"},
    {"country": "US", "field": "id_transit_port", "next": "/shtc/"}])
def test_the_page_is_the_counted_ones_byte_for_byte(bureau, monkeypatch, language, params):
    codes("QQ", 3)
    bureau.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    kept = unmasked(bureau.get(LOOKUP, params).content)
    assert (b"<html lang=\"en\">" in kept) == (language == "en")
    monkeypatch.setattr("shtc.port_views._kept_count", lambda country: None)
    assert unmasked(bureau.get(LOOKUP, params).content) == kept

"""The bureau uploads the screening list as CSV in the admin (shtc/admin_screening.py,
shtc/screening.py): a good file loaded (UTF-8 with or without its byte-order mark, Big5), a
source list replaced by its next upload, and every bad file refused on the form with its
reason and line, nothing of it loaded, never a server error."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shtc import risk, screening
from shtc.models import ScreeningEntry

UPLOAD = reverse("admin:shtc_screeningentry_upload")
CHANGELIST = reverse("admin:shtc_screeningentry_changelist")
GOOD = ("name,aliases,country,source_list,note\n"
        "Korea Ryonbong General Corporation,Ryonbong; 연봉,KP,UNSC 1718,2017 designation\n"
        "Acme Trading Company Limited,,,UNSC 1718,\n"
        "安心國際貿易有限公司,Anxin International Trading,HK,BOFT,\n")


def csv_file(data, name="screening.csv"):
    return SimpleUploadedFile(name, data if isinstance(data, bytes) else data.encode(),
                              content_type="text/csv")


@pytest.fixture
def bureau(client, reviewer):
    client.force_login(reviewer)
    client.cookies["django_language"] = "en"
    return client


def post(client, data, *, encoding="utf-8", name="screening.csv"):
    return client.post(UPLOAD, {"file": csv_file(data, name), "encoding": encoding})


def refused(response):
    """The file field's messages of a refused upload (400, the form shown again)."""
    assert response.status_code == 400, response.status_code
    assert ScreeningEntry.objects.count() == 0
    return " ".join(str(error) for error in response.context["form"].errors["file"])


@pytest.mark.django_db
def test_the_list_page_offers_the_upload(bureau):
    response = bureau.get(CHANGELIST)
    assert response.status_code == 200 and UPLOAD in response.content.decode()
    assert bureau.get(UPLOAD).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("data", [GOOD.encode("utf-8"), b"\xef\xbb\xbf" + GOOD.encode("utf-8")],
                         ids=["utf-8", "utf-8 with BOM"])
def test_a_good_file_is_loaded_and_reported(bureau, data):
    response = bureau.post(UPLOAD, {"file": csv_file(data), "encoding": "utf-8"}, follow=True)
    assert response.redirect_chain[-1][0] == CHANGELIST
    entry = ScreeningEntry.objects.get(name="Korea Ryonbong General Corporation")
    assert entry.alias_list == ["Ryonbong", "연봉"] and entry.country == "KP"
    assert entry.source_list == "UNSC 1718" and entry.note == "2017 designation"
    assert ScreeningEntry.objects.count() == 3
    text = " ".join(str(m) for m in response.context["messages"])
    assert "3 entries read; 3 added" in text


@pytest.mark.django_db
def test_a_big5_file_is_loaded_when_its_encoding_is_chosen(bureau):
    data = GOOD.replace("Ryonbong; 연봉", "Ryonbong").encode("cp950")
    assert post(bureau, data, encoding="cp950").status_code == 302
    assert ScreeningEntry.objects.filter(name="安心國際貿易有限公司").exists()


@pytest.mark.django_db
def test_a_big5_file_read_as_utf8_is_refused_with_its_line(bureau):
    data = GOOD.replace("Ryonbong; 연봉", "Ryonbong").encode("cp950")
    text = refused(post(bureau, data))
    assert "Line 4 is not UTF-8 text" in text and "Big5" in text


@pytest.mark.django_db
def test_a_second_upload_replaces_its_source_list_and_keeps_the_others(bureau):
    post(bureau, GOOD)
    post(bureau, "name,source_list,country\nAcme Trading Company Limited,UNSC 1718,\n"
                 "New Listed Entity,UNSC 1718,IR\n")
    active = set(ScreeningEntry.objects.filter(active=True).values_list("name", flat=True))
    assert active == {"Acme Trading Company Limited", "New Listed Entity",
                      "安心國際貿易有限公司"}  # BOFT's list was not in the file: kept
    retired = ScreeningEntry.objects.get(name="Korea Ryonbong General Corporation")
    assert not retired.active  # kept, not deleted: a flag may name it


@pytest.mark.django_db
@pytest.mark.parametrize("data, message", [
    ("nom,source\nAcme,UNSC\n", "Line 1 must name the columns"),
    ("name,aliases\nAcme,\n", "Line 1 must name the columns"),  # no source_list
    ("name,name,source_list\nA,B,C\n", "Line 1 must name the columns"),
    ("name,source_list\n", "The file holds no entry"),
    (b"name,source_list\nAc\x00me,UNSC\n", "Line 2 holds a NUL byte"),
    ("name,source_list\n" + "A" * 301 + ",UNSC\n", "Line 2: name is longer than 300"),
    ("name,source_list,note\nAcme,UNSC," + "n" * 1001 + "\n", "note is longer than 1000"),
    ("name,source_list\nAcme,UNSC\n,UNSC\n", "Line 3: name is empty"),
    ("name,source_list,country\nAcme,UNSC,Korea\n", "country must be two letters"),
    ("name,source_list\nAcme,UNSC,extra\n", "Line 2: 3 values for 2 columns"),
    ("name,source_list\nAcme,UNSC\nACME,UNSC\nAcme,UNSC\n", "the same entry as line 2"),
    ("name,source_list\n\"" + "x" * 200000 + "\",UNSC\n", "cannot be read as CSV"),
], ids=["header", "required column", "repeated column", "no entry", "NUL", "long name",
        "long note", "empty name", "country", "cells", "duplicate", "field limit"])
def test_a_bad_file_is_refused_with_its_reason_and_nothing_loaded(bureau, data, message):
    text = refused(post(bureau, data))
    assert message in text, text
    assert "Nothing of the file was loaded" in text


@pytest.mark.django_db
def test_a_file_with_many_bad_rows_lists_each_up_to_a_limit(bureau):
    rows = "".join(f"Entity {n},\n" for n in range(80))
    text = refused(post(bureau, "name,source_list\n" + rows))
    assert "Line 2: source_list is empty" in text and "Line 51:" in text
    assert "Line 52:" not in text and "30 more lines" in text


@pytest.mark.django_db
def test_more_than_50000_rows_are_refused(bureau):
    rows = "".join(f"Entity {n},UNSC\n" for n in range(screening.MAX_ROWS + 1))
    text = refused(post(bureau, "name,source_list\n" + rows))
    assert "more than 50,000 entries" in text


@pytest.mark.django_db
def test_50000_rows_are_loaded(bureau):
    rows = "".join(f"Entity {n} Trading,Alias {n},KP,UNSC,\n" for n in range(screening.MAX_ROWS))
    response = post(bureau, "name,aliases,country,source_list,note\n" + rows)
    assert response.status_code == 302
    assert ScreeningEntry.objects.count() == screening.MAX_ROWS
    # Screening against them (shtc.risk): the list read once, then each name matched.
    started = time.perf_counter()
    risk.best_match("Nobody Listed Ltd")
    loaded = time.perf_counter()
    found = [risk.best_match(f"ENTITY {n} TRADING CO., LTD.") for n in (7, 49999)]
    matched = time.perf_counter()
    print(f"50,000 entries: list read in {loaded - started:.2f} s, "
          f"a name matched in {(matched - loaded) / 2 * 1000:.1f} ms")
    assert [score for score, _entry, _listed in found] == [100, 100]
    assert (matched - loaded) / 2 < 0.5


@pytest.mark.django_db
@pytest.mark.parametrize("name, message", [("screening.xlsx", "Choose a .csv file"),
                                           ("empty.csv", "file is empty")])
def test_a_file_that_is_not_a_csv_is_refused(bureau, name, message):
    data = b"" if name == "empty.csv" else b"PK\x03\x04"
    assert message in refused(post(bureau, data, name=name))


@pytest.mark.django_db
def test_staff_outside_the_reviewers_may_not_upload(client, make_user):
    from portal.accounts.models import IdentifierType

    staff = make_user("B123456780", identifier_type=IdentifierType.NATIONAL_ID, is_staff=True)
    client.force_login(staff)
    assert client.post(UPLOAD, {"file": csv_file(GOOD), "encoding": "utf-8"}).status_code == 403
    assert not ScreeningEntry.objects.exists()

"""The bureau loads a UN/LOCODE release from the admin's location list (shtc/admin.py): the
same loading as load_locode, a file that cannot be read refused on the form with its reason,
never a server error."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shtc.models import Port
from tests.shtc.test_locode import RELEASE

UPLOAD = reverse("admin:shtc_port_upload")
CHANGELIST = reverse("admin:shtc_port_changelist")


def csv_file(text, name="2024-2 UNLOCODE CodeListPart1.csv", encoding="utf-8"):
    data = text if isinstance(text, bytes) else text.encode(encoding)
    return SimpleUploadedFile(name, data, content_type="text/csv")


def post(client, upload, *, follow=False, **data):
    return client.post(UPLOAD, {"file": upload, "encoding": "utf-8", **data}, follow=follow)


@pytest.fixture
def bureau(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.mark.django_db
def test_it_offers_the_upload_on_the_location_list(bureau):
    response = bureau.get(CHANGELIST)
    assert response.status_code == 200
    assert UPLOAD in response.content.decode()


@pytest.mark.django_db
def test_it_loads_a_release_and_says_what_it_did(bureau):
    response = post(bureau, csv_file(RELEASE), follow=True)
    assert response.redirect_chain[-1][0] == CHANGELIST
    assert Port.objects.get(code="ADALV").edition == "2024-2"
    text = " ".join(str(m) for m in response.context["messages"])
    assert "2024-2" in text and "4" in text


@pytest.mark.django_db
def test_it_loads_the_same_file_twice_to_the_same_table(bureau):
    post(bureau, csv_file(RELEASE))
    first = list(Port.objects.order_by("code").values())
    post(bureau, csv_file(RELEASE))
    assert list(Port.objects.order_by("code").values()) == first


@pytest.mark.django_db
def test_it_lists_the_rows_it_skipped(bureau):
    text = RELEASE + ',"Z1","BAD","Bad country",,,,,,,,\n'
    response = post(bureau, csv_file(text), follow=True)
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1 and "7" in errors[0] and "Z1BAD" in errors[0]
    assert Port.objects.filter(code="ADALV").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("upload", "field", "code"), [
    (csv_file(b"\xff\xfe" + "Göteborg".encode("utf-16-le")), "file", "unreadable"),
    (csv_file(RELEASE.encode("iso-8859-1")), "file", "unreadable"),
    (csv_file(RELEASE + ',"ZW","QB2","Unterminated\n'), "file", "unreadable"),
    (csv_file(RELEASE + "\x00"), "file", "unreadable"),
    (csv_file("just some text\nnot a code list\n"), "file", "no_locations"),
    (csv_file(b""), "file", "empty"),
    (csv_file(RELEASE, name="release.xlsx"), "file", "extension"),
    (csv_file(RELEASE, name="code-list.csv"), "edition", "edition"),
])
def test_it_refuses_a_file_it_cannot_read_with_a_message(bureau, upload, field, code):
    before = Port.objects.count()
    response = post(bureau, upload)
    assert response.status_code == 400
    assert response.context["form"].has_error(field, code)
    assert Port.objects.count() == before


@pytest.mark.django_db
def test_it_refuses_a_file_over_the_size_bound(bureau, monkeypatch):
    from shtc.admin import LocodeFileForm

    monkeypatch.setattr(LocodeFileForm, "MAX_BYTES", 100)
    response = post(bureau, csv_file(RELEASE))
    assert response.context["form"].has_error("file", "too_large")


@pytest.mark.django_db
def test_it_says_which_line_is_not_utf8(bureau):
    response = post(bureau, csv_file(RELEASE.encode("iso-8859-1")))
    assert "4" in response.context["form"].errors["file"][0]  # Göteborg is on line 4
    response = post(bureau, csv_file(RELEASE.encode("iso-8859-1")), encoding="iso-8859-1")
    assert response.status_code == 302
    assert Port.objects.get(code="SEGOT").name == "Göteborg"


@pytest.mark.django_db
def test_it_takes_the_edition_typed_over_the_file_name(bureau):
    post(bureau, csv_file(RELEASE, name="code-list.csv"), edition="2024-2")
    assert Port.objects.get(code="ADALV").edition == "2024-2"


@pytest.mark.django_db
def test_it_lets_only_reviewers_load_a_release(client, make_user):
    staff = make_user("A123456789", is_staff=True)
    client.force_login(staff)
    assert post(client, csv_file(RELEASE)).status_code == 403
    assert not Port.objects.filter(code="ADALV").exists()


@pytest.mark.django_db
def test_it_never_deletes_a_location(bureau):
    port = Port.objects.get(code="USLAX")
    response = bureau.post(reverse("admin:shtc_port_delete", args=[port.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Port.objects.filter(code="USLAX").exists()

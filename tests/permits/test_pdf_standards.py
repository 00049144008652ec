"""Issue 15, point 2: the permit and the case documents are tagged PDFs for people (PDF/UA-1)
and archival PDFs for the bureau (PDF/A-3b), one file being both (permits.pdf.PDF_OPTIONS),
with a title, the document's language and the layout's reading order; the archive copy is
stored when a permit version is issued. Rendered for real by WeasyPrint, read back with
poppler (pdfinfo, pdffonts, pdftotext) and pikepdf (tests/permits/pdf_standards.py)."""

import datetime

import pytest
from django.utils import translation
from django.utils.translation import gettext as _

from permits import pdf, workflow
from permits.models import Status
from permits.parties import parties_replace
from permits.storage import private_storage
from tests.approvals import approve
from tests.permits.pdf_standards import check_accessible_and_archival, pdfinfo
from tests.permits.test_pdf import (
    ITEMS,
    PARTIES,
    assert_one_face_subset,
    page_count,
    pdftotext,
    summary_procedure,  # noqa: F401 (a fixture)
    write_case_document,
    write_pdf,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(make_case, applicant, reviewer):
    case = make_case(applicant, items=[dict(item) for item in ITEMS])
    parties_replace(application=case, parties=PARTIES)
    workflow.transition(application=case, to=Status.INITIAL_REVIEW, actor=applicant)
    return approve(case, reviewer).issued_version


def set_language(user, language):
    user.language = language
    user.save(update_fields=["language"])


def in_order(text, words):
    """Whether every one of `words` occurs in `text`, each after the one before it."""
    at = 0
    for word in words:
        found = text.find(word, at)
        if found < 0:
            return False
        at = found + len(word)
    return True


def headings(language, *extra):
    with translation.override(language):
        return [_("Trade Bureau"), _("Permit"), _("Permit number"), _("Applicant"),
                *extra, _("Goods items"), _("Total")]


@pytest.mark.parametrize(("language", "lang"), [("zh-hant", "zh-Hant"), ("en", "en")])
def test_the_permit_is_tagged_titled_and_archival_in_the_holders_language(
        version, tmp_path, language, lang):
    set_language(version.permit.holder, language)
    path = write_pdf(version, tmp_path)
    with translation.override(language):
        title = f"{version.permit.permit_no} · {version.application.get_document_type_display()}"
    types = check_accessible_and_archival(path, title=title, lang=lang)
    # The structure a screen reader walks: the document's heading first, then a heading
    # before each table; the QR code a figure with its words; data tables with header
    # cells; the masthead no table (it is layout).
    assert types.index("H1") < types.index("H2") < types.index("Table")
    assert types.count("H1") == 1 and types.count("H2") >= 4
    assert types.count("Figure") == 1
    assert {"TH", "TD", "THead", "TBody"} <= set(types)
    assert types.index("Figure") < types.index("Table")


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_permits_text_keeps_the_reading_order_of_its_layout(version, tmp_path, language):
    set_language(version.permit.holder, language)
    text = pdftotext(write_pdf(version, tmp_path))
    with translation.override(language):
        parties = [str(party["role"]) for party in pdf.case_context(version.application)
                   ["parties"]]
    assert in_order(text, headings(language, *parties)), text
    # The 參考用聯 watermark is outlines in the page's background (an artifact): none of its
    # characters lands alone between the rows, as they did while it was text.
    assert not [line for line in text.splitlines() if line.strip() in set("參考用聯")], text
    # A cell's text stays on its row: the number beside its label, the figures in order.
    assert in_order(text, ["現場可程式閘陣列", "雷射干涉儀"])
    assert version.permit.permit_no in next(line for line in text.splitlines()
                                            if version.permit.permit_no in line)


def test_the_tagged_permit_stays_within_issue_10s_bounds(make_case, applicant, reviewer,
                                                         tmp_path):
    # Tags, the XMP packet and the sRGB profile cost a few KB: one page, one face, ≤ 300 KB.
    case = make_case(applicant, items=[dict(ITEMS[0])], status=Status.APPROVED,
                     reviewer=reviewer)
    path = write_pdf(case.issued_version, tmp_path)
    assert page_count(path) == 1
    assert path.stat().st_size <= 300 * 1024
    assert_one_face_subset(path)


@pytest.mark.usefixtures("summary_procedure")
def test_a_case_document_is_tagged_and_archival(make_case, applicant, tmp_path):
    case = make_case(applicant, items=[dict(item) for item in ITEMS])
    parties_replace(application=case, parties=PARTIES)
    set_language(applicant, "en")
    path = write_case_document(case, tmp_path)
    with translation.override("en"):
        title = f"Case data · {case.get_document_type_display()}"
    types = check_accessible_and_archival(path, title=title, lang="en")
    assert "Figure" not in types  # no QR code on a case document
    assert in_order(pdftotext(path), ["Trade Bureau", "Case data", "Applicant",
                                      "Goods items", "Printed on"])


# --- The archive copy ---------------------------------------------------------------------

def test_issuing_a_permit_stores_its_archive_copy_after_commit(
        make_case, applicant, reviewer, private_root, django_capture_on_commit_callbacks,
        tmp_path):
    set_language(applicant, "en")  # the archive is printed in the bureau's language anyway
    case = make_case(applicant, items=[dict(ITEMS[0])], status=Status.INITIAL_REVIEW)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = approve(case, reviewer)
    version = case.issued_version
    name = pdf.archive_name(version)
    assert not private_storage.exists(name)  # nothing before the approval commits
    for callback in callbacks:
        callback()
    assert private_storage.exists(name)
    assert (private_root / name).is_file()  # in the private folder, outside every web root
    path = tmp_path / "archive.pdf"
    path.write_bytes(private_storage.open(name, "rb").read())
    with translation.override("zh-hant"):
        title = f"{version.permit.permit_no} · {case.get_document_type_display()}"
    check_accessible_and_archival(path, title=title, lang="zh-Hant")
    assert version.permit.verification_code in pdftotext(path)


def test_the_archive_copy_is_written_once(version, private_root, monkeypatch):
    name = pdf.archive_permit_version(version)
    stored = private_storage.open(name, "rb").read()
    monkeypatch.setattr(pdf, "render_document", lambda **kwargs: pytest.fail("rendered"))
    assert pdf.archive_permit_version(version) == name
    assert private_storage.open(name, "rb").read() == stored
    assert [p.name for p in (private_root / name).parent.iterdir()] == [name.split("/")[-1]]


def test_the_archive_copy_is_named_by_permit_version_and_issue_time(version):
    # Version 2 of the same permit is a file of its own; a permit of a database started
    # afresh under the same number and version (its issue time differs) too.
    name = pdf.archive_name(version)
    assert name.startswith(f"archive/permits/{version.permit.permit_no}/v1-")
    version.version = 2
    assert pdf.archive_name(version).startswith(f"archive/permits/{version.permit.permit_no}/v2-")
    version.version = 1
    version.issued_at += datetime.timedelta(microseconds=1)
    assert pdf.archive_name(version) != name


def test_the_archive_task_stores_the_copy(version, private_root):
    from permits.tasks import archive_permit_version

    name = archive_permit_version.delay(version.pk).get()
    assert name == pdf.archive_name(version)
    assert pdfinfo(private_root / name)["Tagged"] == "yes"


def test_a_broken_archive_leaves_the_approval(make_case, applicant, reviewer, private_root,
                                              django_capture_on_commit_callbacks,
                                              monkeypatch, caplog):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)

    def broken(version):
        raise RuntimeError("renderer down")

    monkeypatch.setattr(pdf, "archive_permit_version", broken)
    with django_capture_on_commit_callbacks(execute=True):
        case = approve(case, reviewer)
    case.refresh_from_db()
    assert case.status == Status.APPROVED and case.issued_version.permit.permit_no
    assert "renderer down" in caplog.text


def test_the_issue_queues_the_archive_once_per_version(make_case, applicant, reviewer,
                                                       django_capture_on_commit_callbacks,
                                                       monkeypatch):
    queued = []
    monkeypatch.setattr("permits.tasks.archive_permit_version.delay", queued.append)
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    with django_capture_on_commit_callbacks(execute=True):
        case = approve(case, reviewer)
    assert queued == [case.issued_version.pk]


def test_the_nightly_sweep_stores_a_copy_whose_task_was_lost(version, private_root):
    from permits.tasks import archive_missing_permit_versions

    # The fixture's approval never committed (a test transaction): no task ran, as if the
    # broker had been down.
    assert not private_storage.exists(pdf.archive_name(version))
    assert archive_missing_permit_versions.delay().get() == 1
    assert pdfinfo(private_root / pdf.archive_name(version))["Tagged"] == "yes"
    assert archive_missing_permit_versions.delay().get() == 0  # once


def test_the_nightly_sweep_is_scheduled(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "permits.tasks.archive_missing_permit_versions" in tasks

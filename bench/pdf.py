"""列印 (PERMIT-7): the permit PDF's size, fonts and time against bare WeasyPrint.

    DATABASE_URL=postgres://... .venv/bin/python bench/pdf.py [--rounds 40]

Issues (in a throwaway database, "bench_eportal_pdf") an SHTC permit with 1 item and one with
20 (Chinese goods names, brands, models, specifications, three parties, a filing agent) and
a mask permit. For the two SHTC permits, in the same run and rotating which goes first:
  portal  what permits.views.permit_print does: load the version, then
          permits.pdf.render_permit(version): context queries, QR code, template and
          WeasyPrint with the portal's options (PDF_OPTIONS: tagged PDF/UA-1 and PDF/A-3b
          in one file, issue 15);
  before  the same, with the options before issue 15 (untagged, no XMP, no PDF/A);
  bare    weasyprint.HTML(string=the same HTML).write_pdf() with WeasyPrint's defaults;
  bare+   the same with the portal's PDF_OPTIONS (what tagging costs WeasyPrint itself).
Prints p50 and p95 of each and the portal's ratios to bare and to bare+ (goal: at most 1.2),
the size of every PDF in KB (goal: at most 300 KB for a one-page permit), its pages, whether
it is tagged, and what pdffonts says about its fonts (goal: one family's subsets, all
embedded), also for the case summary (pdf/case_summary.html) and the mask permit, which go
through the same renderer. The archive copies stored when the permits are issued go to a
temporary folder.
"""

import argparse
import contextlib
import io
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    override_settings,
    setup_test_environment,
    teardown_test_environment,
)
from django.utils.translation import trans_real  # noqa: E402

from permits import pdf, procedures, services, workflow  # noqa: E402
from permits.models import DocumentType, PartyRole, PermitVersion, Status  # noqa: E402
from permits.parties import parties_replace  # noqa: E402
from portal.accounts.models import REVIEWERS_GROUP, IdentifierType, Role, User  # noqa: E402
from tests.approvals import approve  # noqa: E402

GOODS = [("現場可程式閘陣列", "Xilinx", "XCVU9P-2FLGB2104I", "85423100003"),
         ("雷射干涉儀", "Renishaw", "XL-80", "90318000903"),
         ("五軸工具機用數值控制器", "發那科", "31i-B5", "85371010007"),
         ("高速示波器", "Keysight", "UXR0594A", "90302000009"),
         ("碳纖維預浸布", "東麗", "T800S-24K", "68151900004")]
PARTIES = {
    "buyer": {"name": "Acme Trading Co., Ltd.", "address": "1 Harbour Rd, Wan Chai",
              "country": "HK"},
    "consignee": {"same_as_buyer": True},
    "end_user": {"name": "Shenzhen Precision Instruments Co., Ltd.",
                 "address": "88 Keji Rd, Nanshan District, Shenzhen", "country": "CN",
                 "name_zh": "深圳精密儀器有限公司"},
}


def items(count):
    return [{"tariff_code": code, "description": f"{name}（第 {n + 1} 批，含原廠配件）",
             "brand": brand, "model": model,
             "specification": "頻寬 59 GHz，取樣率 256 GSa/s\n含校正報告及原廠保固三年",
             "control_no": "3A001a" if n % 2 == 0 else "", "quantity": f"{n % 7 + 1}.5",
             "unit": "SET", "unit_price": f"{12345 + n * 1000}.75",
             "currency": "USD" if n % 3 else "EUR", "origin_country": "US"}
            for n, (name, brand, model, code) in
            ((n, GOODS[n % len(GOODS)]) for n in range(count))]


def chinese_catalogue():
    """Permits are printed in Chinese: without a compiled catalogue (make build compiles
    it) compile one into a temporary folder for this run, or the labels come out English."""
    if any(Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/django.mo")):
        return None
    folder = Path(tempfile.mkdtemp(prefix="bench_pdf_locale_"))
    for po in Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/django.po"):
        target = folder / po.relative_to(Path(settings.BASE_DIR, "locale"))
        target.parent.mkdir(parents=True)
        subprocess.run(["msgfmt", "-o", str(target.with_suffix(".mo")), str(po)],  # noqa: S603,S607
                       check=True)
    settings.LOCALE_PATHS = [folder, *settings.LOCALE_PATHS]
    trans_real._translations = {}  # noqa: SLF001 (none loaded yet; to be sure)
    print("(no compiled catalogue: compiled one for this run)")
    return folder


def make_user(identifier, **fields):
    defaults = {"name": f"公司 {identifier}", "address": "臺北市中正區重慶南路一段2號",
                "contact_person": "王小明", "phone": "02-2351-0000",
                "email": f"{identifier.lower()}@example.com"}
    return User.objects.create_user(identifier, None, **{**defaults, **fields})


def issue(applicant, agent, reviewer, item_count):
    case = services.application_create(
        document_type=DocumentType.SHTC_EXPORT, applicant=applicant, actor=agent,
        items=items(item_count), destination_country="HK")
    parties_replace(application=case, parties=PARTIES)
    workflow.transition(application=case, to=Status.INITIAL_REVIEW, actor=agent)
    case = approve(case, reviewer)
    return case


def mask_permit(applicant):
    from masks import services as mask_services

    case = mask_services.application_submit(
        actor=applicant, applicant=applicant, route="postal",
        applicant_name="安心醫材股份有限公司", applicant_name_en="Anxin Medical Co., Ltd.",
        applicant_address="臺北市中正區重慶南路一段2號", company_email="masks@anxin.example",
        contact_person="王小明", contact_phone="02-2351-0000",
        items=[{"category": "medical", "tariff_code": "63079050311", "description": "醫用口罩",
                "quantity": "1000", "unit": "PCE", "unit_price": "5", "currency": "TWD",
                "origin_country": "US"}])
    return case.issued_version


def pdf_fonts(data):
    """pdffonts' rows (name, type, emb, sub) and the page count, or None without poppler."""
    if not shutil.which("pdffonts"):
        return None, None
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(data)
        file.flush()
        fonts = subprocess.run(["pdffonts", file.name], check=True,  # noqa: S603,S607
                               capture_output=True, text=True).stdout
        info = subprocess.run(["pdfinfo", file.name], check=True,  # noqa: S603,S607
                              capture_output=True, text=True).stdout
    # Columns: name type encoding emb sub uni object ID; the type may be two words.
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    pages = f"{fields['Pages'].strip()} page(s), tagged {fields['Tagged'].strip()}"
    return [(row[0], " ".join(row[1:-6]), row[-5], row[-4]) for row in rows], pages


def describe(label, data):
    fonts, pages = pdf_fonts(data)
    print(f"{label:<28} {len(data) / 1024:7.1f} KB  {pages or '?'}")
    for name, kind, emb, sub in fonts or ():
        print(f"{'':<30}{name:<34} {kind:<16} emb {emb} sub {sub}")


def percentile(times, fraction):
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# What permits.pdf wrote before issue 15: no tags, no XMP, no PDF/A.
BEFORE_OPTIONS = {"full_fonts": False, "hinting": False}


@contextlib.contextmanager
def options_before_issue_15():
    options, finisher = pdf.PDF_OPTIONS, pdf._declare_pdf_ua  # noqa: SLF001
    pdf.PDF_OPTIONS, pdf._declare_pdf_ua = BEFORE_OPTIONS, lambda document, pdf_file: None  # noqa: SLF001
    try:
        yield
    finally:
        pdf.PDF_OPTIONS, pdf._declare_pdf_ua = options, finisher  # noqa: SLF001


def race(version, rounds):
    """Times render_permit (with the options of now and of before issue 15) and bare
    WeasyPrint on the same HTML (with its defaults and with the portal's options), rotating
    which goes first in each round so that none always runs on a warmer cache. Wall-clock
    and this process's CPU seconds: on a shared machine the CPU time is the steadier of the
    two (it leaves out PostgreSQL's few milliseconds, which the wall clock keeps)."""
    from weasyprint import HTML

    html = pdf.permit_html(version)
    base_url = str(settings.BASE_DIR)

    def portal():
        # Loaded afresh as permits.views.permit_print loads it: nothing cached between runs.
        fresh = PermitVersion.objects.select_related("permit", "application").get(
            pk=version.pk)
        return pdf.render_permit(fresh)

    def before():
        with options_before_issue_15():
            return portal()

    def bare():
        return HTML(string=html, base_url=base_url).write_pdf()

    def bare_tagged():
        return HTML(string=html, base_url=base_url).write_pdf(**pdf.PDF_OPTIONS)

    runs = {"portal": portal, "before": before, "bare": bare, "bare+": bare_tagged}
    for _ in range(2):  # warm up: fonts loaded, templates compiled
        for run in runs.values():
            run()
    with CaptureQueriesContext(connection) as queries:
        portal()
    wall, cpu = {name: [] for name in runs}, {name: [] for name in runs}
    names = list(runs)
    for n in range(rounds):
        for name in names[n % len(names):] + names[:n % len(names)]:
            started, started_cpu = time.perf_counter(), time.process_time()
            runs[name]()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    return {"wall": wall, "cpu": cpu, "queries": len(queries),
            "pdfs": {name: run() for name, run in runs.items()}}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()

    setup_test_environment()
    # WeasyPrint logs every layout step and Celery every eager task: keep the figures legible.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    logging.getLogger("celery").setLevel(logging.WARNING)
    catalogue = chinese_catalogue()
    # The archive copies written when the permits are issued (permits.pdf.
    # archive_permit_version) go to a folder of this run's own.
    archive = tempfile.mkdtemp(prefix="bench_pdf_private_")
    override_settings(PRIVATE_MEDIA_ROOT=archive).enable()
    # A database of the benchmark's own, so that a test run at the same time is not touched.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "bench_eportal_pdf"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True,
                                                  serialize=False)
    try:
        applicant = make_user("22099131", name="安心醫材股份有限公司")
        agent = make_user("04595252", role=Role.AGENT, name="順達報關股份有限公司")
        reviewer = make_user("A123456789", identifier_type=IdentifierType.NATIONAL_ID,
                             is_staff=True, name="貿易局審核員")
        reviewer.groups.add(Group.objects.get_or_create(name=REVIEWERS_GROUP)[0])
        cases = {count: issue(applicant, agent, reviewer, count) for count in (1, 20)}
        mask_version = mask_permit(applicant)
        # The test environment kept the issue mails in memory; it also instruments every
        # template render, which would slow the portal's side of the race alone.
        teardown_test_environment()

        print(f"{'document':<28} {'size':>10}  pages, then pdffonts: name, type, emb, sub")
        summary = procedures.Procedure(
            document_type=DocumentType.SHTC_EXPORT,
            parties=(PartyRole.BUYER, PartyRole.CONSIGNEE, PartyRole.END_USER),
            pdf_templates={"permit": "pdf/permit.html", "summary": "pdf/case_summary.html"})
        procedures._registry[DocumentType.SHTC_EXPORT] = summary  # noqa: SLF001
        describe("case summary, 1 item", pdf.render_case_document(cases[1], "summary"))
        describe("mask permit, 1 item", pdf.render_permit(mask_version))
        archived = Path(archive, pdf.archive_name(cases[1].issued_version))
        describe("archive copy, 1 item", archived.read_bytes())

        print(f"\n{'permit, clock':<16} p50/p95 ms: {'portal':>13} {'before':>13} "
              f"{'bare':>13} {'bare+':>13}   portal/bare p50 p95, portal/bare+ p50 p95")
        results = []
        for count, case in cases.items():
            result = race(case.issued_version, args.rounds)
            for clock in ("wall", "cpu"):
                times = result[clock]
                p50 = {name: statistics.median(values) for name, values in times.items()}
                p95 = {name: percentile(values, 0.95) for name, values in times.items()}
                cells = " ".join(f"{p50[name] * 1000:6.0f}/{p95[name] * 1000:6.0f}"
                                 for name in times)
                print(f"{count:>2} item(s), {clock:<4}             {cells}   "
                      f"{p50['portal'] / p50['bare']:4.2f} {p95['portal'] / p95['bare']:4.2f}, "
                      f"{p50['portal'] / p50['bare+']:4.2f} {p95['portal'] / p95['bare+']:4.2f}")
            print(f"   ({result['queries']} queries per print, {args.rounds} rounds)")
            results.append((count, result["pdfs"]))
        print()
        for count, pdfs in results:
            describe(f"permit, {count} item(s)", pdfs["portal"])
            for name in ("before", "bare", "bare+"):
                describe(f"  {name}, {count}", pdfs[name])
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(archive)
        if catalogue is not None:
            shutil.rmtree(catalogue)


if __name__ == "__main__":
    sys.stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", line_buffering=True)
    main()

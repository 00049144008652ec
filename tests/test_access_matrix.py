"""The access matrix (ACC-4, ACC-5): every URL pattern of the portal, the admin, the customs
API and the test procedure, requested by every kind of visitor, against the objects of one
applicant (the owner).

The patterns are walked from the URL configuration, so a pattern the MATRIX below does not
place fails test_it_places_every_url_pattern: every new URL (SHTC's too) must say here who may
open it. Each cell is the class of answer expected:

    ok        2xx, or a redirect to a page other than a login page
    login     a redirect to the portal's or the admin's login page
    notfound  200 or 400 whose form says the number looked up is not found (a lookup page:
              another user's number is answered as one that does not exist; LOOKUPS posts
              the owner's numbers to every page that looks one up)
    404 403 405 401 ...   that status

The roles, in the order of a MATRIX row:

    anonymous        not logged in
    owner            the applicant whose objects the URLs name
    other_applicant  another applicant
    agent            the filing agent that filed the owner's cases and permits
    other_agent      another filing agent
    reviewer         bureau staff in the `reviewers` group
    staff            bureau staff outside the group, holding no permission
    customs          customs' system: no session, `Authorization: Token <token>`

ACC-5: reviewers see every case; staff outside the group see nothing that is not theirs
unless a permission grants it (permits.view_application: Application.objects.visible_to).
Whatever a row says, another applicant or agent never gets "ok" on a URL naming an owner's
object, and no answer to anonymous, another applicant or agent or staff outside the reviewers
carries one of the owner's numbers or names (unless the request itself carried it).

POST-only views are posted (empty, unless POSTS says otherwise) and their GET must not
answer 2xx. Every request runs in a savepoint that is rolled back, so one set of objects
serves every cell.
"""

import datetime
import re
import time
from urllib.parse import urlencode, urlsplit

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.forms import BaseForm
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from permits.models import Application, Permit

ROLES = ("anonymous", "owner", "other_applicant", "agent", "other_agent", "reviewer", "staff",
         "customs")
# Roles that must never see the owner's data.
OUTSIDERS = ("anonymous", "other_applicant", "other_agent", "staff")


class Row:
    """One pattern's expectations (`classes`, one per role in ROLES order), the method it is
    requested with, and which World attribute fills each URL kwarg (and the query)."""

    def __init__(self, classes, method="GET", query=None, **kwargs):
        # method: "GET", "POST" (a POST-only view) or "BOTH" (each must answer the class).
        self.classes = dict(zip(ROLES, classes.split(), strict=True))
        self.method = method
        self.query = query  # a World attribute name giving the query string
        self.kwargs = kwargs


def post(classes, **kwargs):
    return Row(classes, method="POST", **kwargs)


# Shorthands for the common rows. Columns: anonymous owner other_applicant agent other_agent
# reviewer staff customs.
PUBLIC = "ok ok ok ok ok ok ok ok"
USERS = "login ok ok ok ok ok ok login"  # any logged-in user; lists only what they may see
FILERS = "login ok ok ok ok 403 403 login"  # applicants and agents; staff work in the admin
# An object the agent filed for the owner, on a page for filers.
FILED = "login ok 404 ok 404 403 403 login"
# A draft the owner is entering itself: nobody else continues it (permits.entry.drafts_of).
OWN_DRAFT = "login ok 404 404 404 403 403 login"
# An object the agent filed for the owner, on a page any logged-in user may open: reviewers
# see it (ACC-5), staff outside the reviewers do not.
SEEN = "login ok 404 ok 404 ok 404 login"
API = "401 401 401 401 401 401 401 ok"


MATRIX = {
    # --- portal ---------------------------------------------------------------------------
    "home": Row(USERS),
    "healthz": Row(PUBLIC),
    # ACC-3's idle notice: the seconds the caller's own session has left (0 without one);
    # POST (繼續使用) extends the caller's own session.
    "session_idle": Row(PUBLIC, method="BOTH"),
    "set_language": Row(PUBLIC),
    "accounts:signup": Row(PUBLIC),
    "accounts:login": Row(PUBLIC),
    # Django's LogoutView is POST-only; posting it would end the role's session: GET only.
    "accounts:logout": Row("405 405 405 405 405 405 405 405"),
    "accounts:profile": Row(USERS),
    "accounts:password_change": Row(USERS),
    "accounts:password_reset": Row(PUBLIC),
    "accounts:password_reset_done": Row(PUBLIC),
    # The link with a wrong token: the page says the link is invalid, to anyone.
    "accounts:password_reset_confirm": Row(PUBLIC, uidb64="owner_uid", token="bad_token"),
    "accounts:password_reset_complete": Row(PUBLIC),
    # --- permits: cases, attachments, permits ---------------------------------------------
    "permits:dashboard": Row(USERS),
    "permits:query": Row(USERS, query="case_query"),
    "permits:application_detail": Row(SEEN, pk="shtc_case"),
    # Reviewers may post it: transition() refuses them and the page says so.
    "permits:application_resubmit": post(SEEN, pk="shtc_case"),
    "permits:attachment_upload": post(SEEN, pk="shtc_case"),
    "permits:attachment_download": Row(SEEN, pk="attachment"),
    "permits:permit_print": Row(SEEN, pk="mask_version"),
    "permits:verify": Row(PUBLIC),
    "permits:cancellation": Row(FILERS),
    # ACC-3: what is typed on an entry page, kept for the user's own drafts only.
    "permits:autosave": post(OWN_DRAFT, query="autosave_query"),
    # 繼續 on 我的案件 for a draft whose entry its data decide (SHTC): the user's own only.
    "permits:draft_continue": Row(OWN_DRAFT, pk="shtc_draft"),
    # SHTC-17 (helper "bulkui"): 匯出 / 匯入 Excel or ODF on the owner's own draft, and an
    # import of it (refused: 確認 says so, 取消 drops it).
    "permits:items_export": Row(OWN_DRAFT, pk="shtc_draft", fmt="bulk_format"),
    "permits:items_import": Row(OWN_DRAFT, pk="shtc_draft", fmt="bulk_format"),
    "permits:item_import": Row(OWN_DRAFT, pk="shtc_draft", import_pk="item_import"),
    "permits:item_import_status": Row(OWN_DRAFT, pk="shtc_draft", import_pk="item_import"),
    "permits:item_import_confirm": post(OWN_DRAFT, pk="shtc_draft", import_pk="item_import"),
    "permits:item_import_cancel": post(OWN_DRAFT, pk="shtc_draft", import_pk="item_import"),
    # --- reconciliation -------------------------------------------------------------------
    "reconciliation:query": Row("login ok notfound ok notfound ok notfound login",
                                query="declaration_query"),
    "reconciliation:api_messages": post(API),
    "reconciliation:api_results": Row(API),
    # The API's OpenAPI document and its page: public (an integrator reads them before the
    # bureau hands over a token; they hold the format, no data).
    "reconciliation:api_openapi": Row(PUBLIC),
    "reconciliation:api_docs": Row(PUBLIC),
    # --- masks ----------------------------------------------------------------------------
    "masks:application_basic": Row(FILERS),
    "masks:application_edit": Row(OWN_DRAFT, pk="mask_draft"),
    "masks:application_review": Row(OWN_DRAFT, pk="mask_draft"),
    "masks:application_item": Row(OWN_DRAFT, pk="mask_draft", line_no="line"),
    "masks:application_item_add": Row(OWN_DRAFT, pk="mask_draft"),
    "masks:application_submit": post(OWN_DRAFT, pk="mask_draft"),
    "masks:application_item_delete": post(OWN_DRAFT, pk="mask_draft", line_no="line"),
    "masks:application_issued": Row(SEEN, pk="mask_application"),
    "masks:correction_start": Row(FILERS),
    "masks:correction_edit": Row(OWN_DRAFT, pk="correction_draft"),
    "masks:correction_review": Row(OWN_DRAFT, pk="correction_draft"),
    "masks:correction_item": Row(OWN_DRAFT, pk="correction_draft", line_no="line"),
    "masks:correction_submit": post(OWN_DRAFT, pk="correction_draft"),
    "masks:write_off_list": Row(FILERS),
    "masks:write_off_add": Row(FILERS),
    "masks:write_off_confirm": Row(FILERS),
    "masks:flow_start": Row(FILERS),
    "masks:flow_report": Row(FILED, pk="stock_report"),
    "masks:flow_add": Row(FILED, pk="stock_report"),
    "masks:flow_declare": post(FILED, pk="stock_report"),
    # GET asks first (確認刪除), POST deletes.
    "masks:flow_delete": Row(FILED, method="BOTH", pk="stock_report", flow_pk="pending_flow"),
    "masks:flow_document": Row(SEEN, pk="flow_document"),
    "masks:return_start": Row(FILERS),
    "masks:return_report": Row(FILED, pk="stock_report"),
    "masks:return_add": Row(FILED, pk="stock_report", flow_pk="declared_flow"),
    "masks:return_declare": post(FILED, pk="stock_report"),
    # --- shtc ------------------------------------------------------------------------------
    # 轉口港代碼 look-up (SHTC-15): reference data, for anyone logged in.
    "shtc:port_lookup": Row(USERS),
    # 9-1-1 非輸往伊朗北韓-最終用途保證書登錄 (SHTC-1): permits.entry pages.
    "shtc:application_basic": Row(FILERS),
    "shtc:application_edit": Row(OWN_DRAFT, pk="shtc_draft"),
    "shtc:application_review": Row(OWN_DRAFT, pk="shtc_draft"),
    "shtc:application_item": Row(OWN_DRAFT, pk="shtc_draft", line_no="line"),
    "shtc:application_item_add": Row(OWN_DRAFT, pk="shtc_draft"),
    "shtc:application_submit": post(OWN_DRAFT, pk="shtc_draft"),
    "shtc:application_item_delete": post(OWN_DRAFT, pk="shtc_draft", line_no="line"),
    # --- 9-1-1's 補正 / 更正 / 單證比對不符修正 (SHTC-8 to SHTC-10; helper "changes") ---
    # The start page (帶入原始資料: LOOKUPS posts the owner's permit number), then the
    # change's entry pages of a change the owner is entering.
    "shtc:change_start": Row(FILERS),
    "shtc:change_edit": Row(OWN_DRAFT, pk="shtc_change_draft"),
    "shtc:change_review": Row(OWN_DRAFT, pk="shtc_change_draft"),
    "shtc:change_item": Row(OWN_DRAFT, pk="shtc_change_draft", line_no="line"),
    "shtc:change_item_add": Row(OWN_DRAFT, pk="shtc_change_draft"),
    "shtc:change_submit": post(OWN_DRAFT, pk="shtc_change_draft"),
    "shtc:change_item_delete": post(OWN_DRAFT, pk="shtc_change_draft", line_no="line"),
    # --- end of changes ---
    # The assurance and the red-flag affidavit of a registered case (SHTC-3).
    "shtc:case_document": Row(SEEN, pk="shtc_registered", document="shtc_document"),
    # --- 9-1-2 附件上傳暨戰略性高科技輸出許可申請/取消作業 (SHTC-4, SHTC-12; helper "filing") ---
    # 查詢 by the owner's 登錄編號: another user's number is answered as an unknown one.
    "shtc:filing_query": Row("login ok notfound ok notfound 403 403 login",
                             query="filing_query"),
    # The upload page, 登錄最終用途並申請 → 案件申請, 取消申請 (GET: the confirmation).
    "shtc:filing_case": Row(FILED, pk="shtc_registered"),
    "shtc:filing_apply": Row(FILED, pk="shtc_registered"),
    "shtc:filing_cancel": Row(FILED, pk="shtc_registered"),
    # --- end of 9-1-2 ---
    # --- 9-2-1 輸往伊朗北韓-最終用途保證書登錄作業 (SHTC-6; helper "iran") ---
    # permits.entry pages of an assurance to Iran the owner is entering; once registered
    # they answer 403 to its filer (tests/shtc/test_iran_assurance.py), and its documents
    # are shtc:case_document's (slug iran-registration).
    "shtc:iran_assurance_basic": Row(FILERS),
    "shtc:iran_assurance_edit": Row(OWN_DRAFT, pk="iran_assurance_draft"),
    "shtc:iran_assurance_review": Row(OWN_DRAFT, pk="iran_assurance_draft"),
    "shtc:iran_assurance_item": Row(OWN_DRAFT, pk="iran_assurance_draft", line_no="line"),
    "shtc:iran_assurance_item_add": Row(OWN_DRAFT, pk="iran_assurance_draft"),
    "shtc:iran_assurance_submit": post(OWN_DRAFT, pk="iran_assurance_draft"),
    "shtc:iran_assurance_item_delete": post(OWN_DRAFT, pk="iran_assurance_draft",
                                            line_no="line"),
    # --- end of 9-2-1 ---
    # --- 9-2-2 輸往伊朗北韓-戰略性高科技輸出許可申請作業 (SHTC-7; helper "iran2") ---
    # 新申請 by the assurance's 登錄編號 only (LOOKUPS posts the owner's, registered by its
    # agent), then the entry pages of the application the owner is entering; its documents
    # go to the upload page above (shtc:filing_case). No item is added or deleted: no URL.
    "shtc:iran_application_basic": Row(FILERS),
    "shtc:iran_application_edit": Row(OWN_DRAFT, pk="iran_application_draft"),
    "shtc:iran_application_review": Row(OWN_DRAFT, pk="iran_application_draft"),
    "shtc:iran_application_item": Row(OWN_DRAFT, pk="iran_application_draft", line_no="line"),
    "shtc:iran_application_submit": post(OWN_DRAFT, pk="iran_application_draft"),
    # --- end of 9-2-2 ---
    # --- the framework's test procedure (tests/testproc) ----------------------------------
    "testproc:application_basic": Row(FILERS),
    "testproc:application_edit": Row(OWN_DRAFT, pk="testproc_draft"),
    "testproc:application_review": Row(OWN_DRAFT, pk="testproc_draft"),
    "testproc:application_item": Row(OWN_DRAFT, pk="testproc_draft", line_no="line"),
    "testproc:application_item_add": Row(OWN_DRAFT, pk="testproc_draft"),
    "testproc:application_submit": post(OWN_DRAFT, pk="testproc_draft"),
    "testproc:application_item_delete": post(OWN_DRAFT, pk="testproc_draft", line_no="line"),
}

# --- the admin (bureau back office) ----------------------------------------------------------
# Everyone not staff is sent to the admin's login page; staff outside the reviewers hold no
# permission and get 403 (the index, their password and the bare object redirects excepted).
STAFF_ONLY = "login login login login login ok ok login"  # the index, password change...
REVIEWERS = "login login login login login ok 403 login"
NOBODY = "login login login login login 403 403 login"
# The bare <object_id>/ URL redirects every staff member to the change page, which checks.
OBJECT_REDIRECT = "login login login login login ok ok login"

MATRIX.update({
    "admin:index": Row(STAFF_ONLY),
    "admin:login": Row(PUBLIC),
    # Django's admin logout is POST-only (posting it would end the role's session); the
    # admin sends whoever is not staff to its index, which sends them to its login.
    "admin:logout": Row("ok ok ok ok ok 405 405 ok"),
    "admin:password_change": Row(STAFF_ONLY),
    "admin:password_change_done": Row(STAFF_ONLY),
    # Without a field to complete, Django's autocomplete refuses every staff member.
    "admin:autocomplete": Row(NOBODY),
    "admin:jsi18n": Row(STAFF_ONLY),
    # No model has get_absolute_url: nothing to go to.
    "admin:view_on_site": Row("login login login login login 404 404 login",
                              content_type_id="application_type", object_id="shtc_case"),
    # An app of which the user may see no model is not found.
    "admin:app_list": Row("login login login login login ok 404 login", app_label="app_label"),
    "admin/(?P<url>.*)$": Row("login login login login login 404 404 login", url="no_page"),
    # Reviewers' own pages (permits/admin.py, reconciliation/admin.py).
    # Posted empty: the reviewer is told to choose a move; staff outside may not review.
    "admin:permits_application_move": post(REVIEWERS, pk="shtc_case"),
    "admin:permits_application_workflow": Row(REVIEWERS),
    # 指派給我 / 指派給… / 取消指派 (issue 14, permits/admin_queues.py). Posted empty: the
    # reviewer is sent back to the case with a message; staff outside may not review.
    "admin:permits_application_assign": post(REVIEWERS, pk="shtc_case"),
    # 匯出 Excel / 匯出 ODF of the case list as filtered (issue 14, permits/admin_export.py).
    "admin:permits_application_export_xlsx": Row(REVIEWERS),
    "admin:permits_application_export_ods": Row(REVIEWERS),
    "admin:reconciliation_declaration_upload": Row(REVIEWERS),
    "admin:shtc_port_upload": Row(REVIEWERS),
    # The screening list's CSV upload (issue 14 point 4, shtc/admin_screening.py).
    "admin:shtc_screeningentry_upload": Row(REVIEWERS),
    # 統計 (issue 14 point 7, permits/admin_stats.py): figures of every case, reviewers only.
    "admin:permits_application_statistics": Row(REVIEWERS),
    # Issue 14: an internal note on a case (permits/review_notes.py) and a decision on a risk
    # flag (shtc/admin_risk.py). Posted empty: the reviewer gets the case page again with the
    # refusal next to the field (400); staff outside may not review.
    "admin:permits_application_note": post("login login login login login 400 403 login",
                                           pk="shtc_case"),
    "admin:shtc_riskflag_decide": post("login login login login login 400 403 login",
                                       pk="risk_flag"),
    "admin:auth_user_password_change": Row(NOBODY, id="owner"),
})

# Each registered model's five admin views and its bare redirect, for the reviewer:
# changelist, add, history, delete, change (a column is the reviewer's class; every other
# role is as in REVIEWERS: login for non-staff, 403 for staff outside the group).
ADMIN_MODELS = {
    "auth_group": ("403 403 403 403 403", "reviewers_group"),
    "accounts_user": ("ok 403 ok 403 ok", "owner"),
    "permits_application": ("ok 403 ok 403 ok", "shtc_case"),
    "permits_permit": ("ok 403 ok 403 ok", "mask_permit"),
    "permits_outboundemail": ("ok 403 ok 403 ok", "email"),
    "permits_country": ("ok 403 ok 403 ok", "country"),
    "permits_currency": ("ok 403 ok 403 ok", "currency"),
    "masks_maskcode": ("ok ok ok 403 ok", "mask_code"),
    "masks_maskapplication": ("ok 403 ok 403 ok", "mask_application_row"),
    "masks_writeoff": ("ok 403 ok 403 ok", "write_off"),
    "masks_stockreport": ("ok 403 ok 403 ok", "stock_report"),
    "masks_flow": ("ok 403 ok 403 ok", "declared_flow"),
    "masks_flowreturn": ("ok 403 ok 403 ok", "flow_return"),
    "masks_stockreminder": ("ok 403 ok 403 ok", "stock_reminder"),
    "reconciliation_declaration": ("ok 403 ok 403 ok", "declaration"),
    "reconciliation_inboundmessage": ("ok 403 ok 403 ok", "inbound_message"),
    "reconciliation_matchresult": ("ok 403 ok 403 ok", "match_result"),
    "reconciliation_ledgerentry": ("ok 403 ok 403 ok", "ledger_entry"),
    "reconciliation_customsclient": ("403 403 403 403 403", "customs_client"),
    # SHTC reference tables: reviewers keep them, nothing is deleted (shtc/admin.py).
    "shtc_regimemembership": ("ok ok ok 403 ok", "regime_membership"),
    "shtc_controlledarea": ("ok ok ok 403 ok", "controlled_area"),
    "shtc_reexportapprovalcountry": ("ok ok ok 403 ok", "reexport_approval_country"),
    "shtc_port": ("ok ok ok 403 ok", "port"),
    # The screening list (issue 14 point 4): reviewers keep it, nothing is deleted.
    "shtc_screeningentry": ("ok ok ok 403 ok", "screening_entry"),
    # The risk flags (issue 14 point 4), seen only: a decision is posted from the case page.
    "shtc_riskflag": ("ok 403 ok 403 ok", "risk_flag"),
    # --- flow112: exhibition re-import reminders, seen only (shtc/admin.py) ---
    "shtc_reimportreminder": ("ok 403 ok 403 ok", "reimport_reminder"),
    # --- end of flow112 ---
    # The working-day clock's data (issue 14, permits/admin_workdays.py): reviewers read it;
    # changing it needs the models' own permissions.
    "permits_workdayadjustment": ("ok 403 ok 403 ok", "workday_adjustment"),
    "permits_reviewtarget": ("ok 403 ok 403 ok", "review_target"),
    "axes_accessattempt": ("403 403 403 403 403", "access_attempt"),
    "axes_accesslog": ("403 403 403 403 403", "access_log"),
    "axes_accessfailurelog": ("403 403 403 403 403", "access_failure_log"),
}
for _model, (_reviewer, _object) in ADMIN_MODELS.items():
    _app, _name = _model.split("_", 1)
    for _view, _class in zip(("changelist", "add", "history", "delete", "change"),
                             _reviewer.split(), strict=True):
        _cells = REVIEWERS.split()
        _cells[ROLES.index("reviewer")] = _class
        _kwargs = {} if _view in ("changelist", "add") else {"object_id": _object}
        MATRIX[f"admin:{_model}_{_view}"] = Row(" ".join(_cells), **_kwargs)
    MATRIX[f"admin/{_app}/{_name}/<path:object_id>/"] = Row(OBJECT_REDIRECT, object_id=_object)

# What the POST-only views are posted with (default: nothing).
POSTS = {"reconciliation:api_messages": ("[]", "application/json")}

# Pages that look an object up by the number typed in: each is also posted with the owner's
# number (a World attribute holding the form data). Another user's number is answered as an
# unknown one ("notfound"); the owner's is loaded.
LOOKUPS = {
    "permits:cancellation": ("cancellation_lookup", "login ok notfound ok notfound 403 403 login"),
    "masks:correction_start": ("correction_lookup", "login ok notfound ok notfound 403 403 login"),
    "masks:write_off_add": ("write_off_lookup", "login ok notfound ok notfound 403 403 login"),
    "masks:flow_start": ("stock_lookup", "login ok notfound ok notfound 403 403 login"),
    "masks:return_start": ("stock_lookup", "login ok notfound ok notfound 403 403 login"),
    # 9-1-1's 餘額註銷證號 + 帶入參考資料 (SHTC-11): the owner's cancelled SHTC permit.
    "shtc:application_basic": ("balance_lookup",
                               "login ok notfound ok notfound 403 403 login"),
    # 9-1-1's 更正 of the owner's SHTC permit (helper "changes").
    "shtc:change_start": ("change_lookup", "login ok notfound ok notfound 403 403 login"),
    # 9-2-2's 保證書編號 + 帶入參考資料 (helper "iran2"): the owner's Iran assurance.
    "shtc:iran_application_basic": ("iran_assurance_lookup",
                                    "login ok notfound ok notfound 403 403 login"),
}
NOT_FOUND_CODES = ("not_found", "declaration_not_found")


# --- walking the URL configuration ---------------------------------------------------------


def url_patterns(patterns=None, prefix="", namespace=""):
    """(key, route, pattern) of every URL pattern: the key is the namespaced name, or the
    whole route for an unnamed pattern."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = entry.namespace or ""
            yield from url_patterns(entry.url_patterns, route,
                                    ":".join(filter(None, (namespace, inner))))
        elif isinstance(entry, URLPattern):
            key = ":".join(filter(None, (namespace, entry.name))) if entry.name else route
            yield key, route, entry


def build_url(key, route, pattern, values):
    if pattern.name:
        return reverse(key, kwargs=values)
    # An unnamed pattern: fill the route's converters and regex groups.
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), path)
    return "/" + path.lstrip("^").rstrip("$")


def test_it_places_every_url_pattern():
    known = {key for key, _route, _pattern in url_patterns()}
    unknown = sorted(known - MATRIX.keys())
    stale = sorted(MATRIX.keys() - known)
    assert not unknown, (f"URL patterns not in tests/test_access_matrix.py's MATRIX: say who "
                         f"may open them: {unknown}")
    assert not stale, f"MATRIX rows of URL patterns that no longer exist: {stale}"
    assert set(ADMIN_MODELS) == {f"{m._meta.app_label}_{m._meta.model_name}"
                                 for m in admin.site._registry}


# --- the owner's objects -------------------------------------------------------------------



def pdf_bytes():
    """A minimal valid PDF: one empty A4 page, with its cross-reference table."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, content)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


MASK_BASIC = {"applicant_name": "安心醫材股份有限公司", "applicant_name_en": "Anxin Medical",
              "applicant_address": "臺北市中正區重慶南路一段2號",
              "company_email": "masks@anxin.example", "contact_person": "王小明",
              "contact_phone": "02-2351-0000"}
MASK_ITEM = {"category": "medical", "tariff_code": "63079050311", "description": "醫用口罩",
             "quantity": "100", "unit": "PCE", "unit_price": "5", "currency": "TWD",
             "origin_country": "US"}
TESTPROC_BASIC = {**MASK_BASIC, "destination_country": "DE", "buyer-name": "Berlin Optics",
                  "buyer-address": "Unter den Linden 1, Berlin", "buyer-country": "DE",
                  "end_user-same_as_buyer": "on"}
TESTPROC_ITEM = {"tariff_code": "85423100003", "description": "FPGA", "control_no": "3A001.a",
                 "quantity": "20", "unit": "PCE", "unit_price": "4200", "currency": "USD",
                 "origin_country": "US"}
SHTC_BASIC = {**TESTPROC_BASIC, "transit_port": "USLAX", "partial_shipment": "True",
              "consignee-same_as_buyer": "on"}
IRAN_BASIC = {**SHTC_BASIC, "destination_country": "IR", "transit_port": "",
              "buyer-name": "Tehran Optics Co.", "buyer-address": "12 Valiasr Street, Tehran",
              "buyer-country": "IR"}
SECRET_FILE = "owner-secret-catalogue.pdf"
SECRET_COUNTERPARTY = "祕密藥局甲"
DECLARATION_NO = "AM115000000777"


class World:
    """The owner's objects of every kind, filed by its agent unless the owner enters them."""

    def __init__(self, users, make_case, capture_on_commit):
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog
        from django.contrib.contenttypes.models import ContentType

        from masks import entry as mask_entry
        from masks import services as masks
        from masks.models import MaskCode, StockReminder
        from permits import changes, workflow
        from permits import entry as permit_entry
        from permits.attachments import attachment_add
        from permits.models import Country, Currency, OutboundEmail, Status
        from reconciliation import services as customs
        from reconciliation.models import (
            CustomsClient,
            Declaration,
            InboundMessage,
            LedgerEntry,
            MatchResult,
        )
        from shtc.models import ReimportReminder, ReimportReminderStep  # flow112

        owner, agent, reviewer = users["owner"], users["agent"], users["reviewer"]
        self.owner, self.reviewers_group = owner, Group.objects.get(name="reviewers")
        self.owner_uid = urlsafe_base64_encode(force_bytes(owner.pk))
        self.bad_token = "not-a-token"
        self.line = 1

        # A mask permit imported through a declaration, filed by the agent (masks.services,
        # as 申請 issues it), released by customs, with its stock, a declared flow with a
        # document and a return, and a pending flow.
        application = masks.application_submit(actor=agent, applicant=owner, route="declaration",
                                               items=[dict(MASK_ITEM)], **MASK_BASIC)
        self.mask_application = application
        self.mask_application_row = application.mask
        self.mask_version = application.issued_version
        self.mask_permit = self.mask_version.permit
        with capture_on_commit(execute=True):  # the matching runs after commit
            records = customs.receive([
                {"message_id": "MATRIX-1", "type": "declaration", "declaration": {
                    "number": DECLARATION_NO, "direction": "import",
                    "date": timezone.localdate().isoformat(), "declarant": owner.identifier,
                    "broker": agent.identifier, "permit_no": self.mask_permit.permit_no,
                    "items": [{"item_no": 1, "tariff_code": "63079050311",
                               "description": "醫用口罩", "quantity": "50", "unit": "PCE",
                               "value": "250", "currency": "TWD", "permit_item_no": 1}]}},
                {"message_id": "MATRIX-2", "type": "release", "declaration": DECLARATION_NO,
                 "items": [{"item_no": 1, "quantity": "50"}]},
            ], source="test")
        assert [r.status for r in records] == ["accepted", "accepted"], records
        self.declaration = Declaration.objects.get(number=DECLARATION_NO)
        self.stock_report = masks.stock_report_load(declaration=self.declaration)
        self.declared_flow = masks.flow_register(
            actor=agent, report=self.stock_report, category="pharmacy",
            quantity=10, date=timezone.localdate(), counterparty=SECRET_COUNTERPARTY,
            documents=[SimpleUploadedFile(SECRET_FILE, pdf_bytes())])
        self.flow_document = self.declared_flow.documents.get()
        masks.flows_declare(actor=agent, report=self.stock_report)
        self.declared_flow.refresh_from_db()
        self.flow_return = masks.return_register(actor=agent, flow=self.declared_flow,
                                                 quantity=1)
        self.pending_flow = masks.flow_register(
            actor=agent, report=self.stock_report, category="own_use", quantity=2,
            date=timezone.localdate())
        self.stock_reminder = StockReminder.objects.create(
            holder=owner, period=timezone.localdate(), sources=1, undeclared=37)

        # A mask permit imported by post, written off (非報單輸入口罩核銷).
        postal = masks.application_submit(actor=agent, applicant=owner, route="postal",
                                          items=[dict(MASK_ITEM)], **MASK_BASIC)
        self.postal_permit = postal.issued_version.permit
        self.write_off = masks.write_off_record(
            actor=agent, permit=self.postal_permit, route="postal", medical_quantity=5,
            non_medical_quantity=None)
        # A mask permit nothing was imported under yet: the one a 更正 may load.
        fresh = masks.application_submit(actor=agent, applicant=owner, route="postal",
                                         items=[dict(MASK_ITEM)], **MASK_BASIC)
        self.fresh_permit = fresh.issued_version.permit

        # An SHTC case in 補件 with an attachment, filed by the agent.
        self.shtc_case = make_case(owner, actor=agent, status=Status.SUPPLEMENT,
                                   reviewer=reviewer)
        self.attachment = attachment_add(application=self.shtc_case, actor=agent,
                                         document_kind="supplement",
                                         upload=SimpleUploadedFile(SECRET_FILE, pdf_bytes()))
        # Two SHTC permits, one of them cancelled (註銷).
        approved = make_case(owner, actor=agent, status=Status.APPROVED, reviewer=reviewer)
        self.revoked_permit = approved.issued_version.permit
        changes.permit_revoke(permit=self.revoked_permit, actor=agent, reason="不再出口")
        approved = make_case(owner, actor=agent, status=Status.APPROVED, reviewer=reviewer)
        self.shtc_permit = approved.issued_version.permit
        # flow112: a re-import reminder of an exhibition permit (SHTC-5 (1)), for the admin.
        self.reimport_reminder = ReimportReminder.objects.create(
            permit=self.shtc_permit, step=ReimportReminderStep.DAYS_30,
            valid_until=timezone.localdate())

        # An entry of the screening list (issue 14 point 4), for the admin.
        from shtc.models import ScreeningEntry

        self.screening_entry = ScreeningEntry.objects.create(
            name="Korea Ryonbong General Corporation", source_list="UNSC 1718", country="KP")
        # A risk flag of the SHTC case, not yet decided (issue 14 point 4).
        from shtc.models import RiskFlag

        self.risk_flag = RiskFlag.objects.create(application=self.shtc_case,
                                                 kind="watched_destination",
                                                 params={"country": "CN"})

        # Drafts the owner is entering: a mask application through the entry pages, a
        # correction of the mask permit, a case of the test procedure.
        client = Client()
        client.force_login(owner)
        client.post(reverse("masks:application_basic"), {**MASK_BASIC, "route": "postal"})
        self.mask_draft = Application.objects.get(applicant=owner, status=Status.DRAFT,
                                                  document_type="MK")
        client.post(reverse("masks:application_item_add", args=[self.mask_draft.pk]),
                    MASK_ITEM)
        assert self.mask_draft.items.exists()
        self.correction_draft = permit_entry.draft_from(
            entry=mask_entry.CORRECTION, actor=owner, source=application, kind="correction",
            changes=self.mask_version, change_description="更正口罩產地")
        client.post(reverse("testproc:application_basic"), TESTPROC_BASIC)
        self.testproc_draft = Application.objects.exclude(
            pk__in=[self.mask_draft.pk, self.correction_draft.pk]).get(
            applicant=owner, status=Status.DRAFT)
        client.post(reverse("testproc:application_item_add", args=[self.testproc_draft.pk]),
                    TESTPROC_ITEM)
        assert self.testproc_draft.items.exists()
        # 9-1-1: an SHTC draft the owner is entering, and a case its agent registered (登錄中).
        drafts = set(Application.objects.filter(status=Status.DRAFT).values_list("pk",
                                                                                 flat=True))
        client.post(reverse("shtc:application_basic"), SHTC_BASIC)
        self.shtc_draft = Application.objects.exclude(pk__in=drafts).get(
            applicant=owner, status=Status.DRAFT)
        client.post(reverse("shtc:application_item_add", args=[self.shtc_draft.pk]),
                    TESTPROC_ITEM)
        assert self.shtc_draft.items.exists()
        # SHTC-17 (helper "bulkui"): a refused import of that draft, naming a cell.
        from permits.models import ItemImport

        self.bulk_format = "xlsx"
        self.item_import = ItemImport.objects.create(
            application=self.shtc_draft, actor=owner, status="refused", format="xlsx",
            original_name=SECRET_FILE.replace(".pdf", ".xlsx"), error_count=1,
            errors=[{"sheet": "貨品明細", "row": 2, "column": "數量", "value": "ten",
                     "message": "Enter a number."}])
        registered = make_case(owner, actor=agent)
        self.shtc_registered = workflow.transition(application=registered,
                                                   to=Status.REGISTERED, actor=agent)
        self.shtc_document = "assurance-buyer"
        # 9-1-1's 更正 of the SHTC permit, the owner entering it (helper "changes").
        from shtc import changes as shtc_changes

        self.shtc_change_draft = permit_entry.change_draft_create(
            entry=shtc_changes.CHANGE, actor=owner, kind="correction", permit=self.shtc_permit,
            change_description="更正最終使用者地址")
        # Its basic data, parties and item as 9-1-1 takes them, so that 登錄 goes through.
        client.post(reverse("shtc:change_edit", args=[self.shtc_change_draft.pk]), SHTC_BASIC)
        client.post(reverse("shtc:change_item", args=[self.shtc_change_draft.pk, 1]),
                    TESTPROC_ITEM)

        # 9-2-2 (helper "iran2"): an Iran end-use assurance its agent registered (9-2-1, as
        # the services leave it), and an application the owner is entering from another.
        from shtc import iran_filing
        from tests.shtc.iran_cases import iran_assurance

        self.iran_assurance_for_lookup = iran_assurance(owner, actor=agent)
        self.iran_application_draft = permit_entry.reference_draft_create(
            entry=iran_filing.IRAN_APPLICATION, actor=owner, field="registration_no",
            number=iran_assurance(owner, actor=agent).registration_no)

        # 9-2-1 (helper "iran"): an assurance to Iran the owner is entering, with an item.
        drafts = set(Application.objects.filter(status=Status.DRAFT).values_list("pk",
                                                                                 flat=True))
        client.post(reverse("shtc:iran_assurance_basic"), IRAN_BASIC)
        self.iran_assurance_draft = Application.objects.exclude(pk__in=drafts).get(
            applicant=owner, status=Status.DRAFT)
        client.post(reverse("shtc:iran_assurance_item_add",
                            args=[self.iran_assurance_draft.pk]), TESTPROC_ITEM)
        assert self.iran_assurance_draft.items.exists()

        # Rows the admin shows.
        self.email = OutboundEmail.objects.filter(to__icontains="anxin").first() \
            or OutboundEmail.objects.first()
        self.country = Country.objects.get(code="DE")
        self.currency = Currency.objects.get(code="USD")
        self.mask_code = MaskCode.objects.first()
        self.inbound_message = InboundMessage.objects.get(message_id="MATRIX-1")
        self.match_result = MatchResult.objects.filter(declaration=self.declaration).first()
        self.ledger_entry = LedgerEntry.objects.filter(
            declaration_item__declaration=self.declaration).first()
        self.customs_client = CustomsClient.objects.get()
        from shtc.models import ControlledArea, Port, ReexportApprovalCountry, RegimeMembership

        self.regime_membership = RegimeMembership.objects.get(country="US", regime="nsg")
        self.controlled_area = ControlledArea.objects.get(country="KP")
        self.reexport_approval_country = ReexportApprovalCountry.objects.get(country="US")
        self.port = Port.objects.get(code="USLAX")
        from permits.models import ReviewTarget, WorkdayAdjustment

        self.workday_adjustment = WorkdayAdjustment.objects.create(
            date=datetime.date(2026, 12, 9), kind="day_off", note="颱風")
        self.review_target = ReviewTarget.objects.get_or_create(
            document_type="SE", stage="initial_review", defaults={"working_days": 7})[0]
        self.access_attempt = AccessAttempt.objects.create(
            username=owner.identifier, ip_address="192.0.2.1", user_agent="matrix",
            path_info="/accounts/login/", failures_since_start=1, get_data="", post_data="")
        self.access_log = AccessLog.objects.create(
            username=owner.identifier, ip_address="192.0.2.1", user_agent="matrix",
            path_info="/accounts/login/")
        self.access_failure_log = AccessFailureLog.objects.create(
            username=owner.identifier, ip_address="192.0.2.1", user_agent="matrix",
            path_info="/accounts/login/", locked_out=False)
        self.application_type = ContentType.objects.get_for_model(Application).pk
        self.app_label = "permits"
        self.no_page = "no-such-page/"
        for name in ("email", "mask_code", "match_result", "ledger_entry"):
            assert getattr(self, name) is not None, name

        # Lookups by number: the owner's declaration (單證比對查詢), the owner's mask permit
        # (申辦狀況查詢作業).
        self.declaration_query = urlencode({"number": DECLARATION_NO})
        self.case_query = urlencode({"document_type": "MK",
                                     "number": self.mask_permit.permit_no})
        self.autosave_query = urlencode({"entry": "masks:application",
                                         "case": self.mask_draft.pk, "step": "basic"})
        self.cancellation_lookup = {"action": "cancel", "load_reference": "1",
                                    "permit_no": self.shtc_permit.permit_no}
        self.correction_lookup = {"kind": "correction", "change_description": "更正產地",
                                  "permit_no": self.fresh_permit.permit_no}
        self.write_off_lookup = {"route": "postal", "permit_no": self.postal_permit.permit_no,
                                 "medical_quantity": "1"}
        self.stock_lookup = {"menu": "2", "d-declaration_no": DECLARATION_NO}
        self.balance_lookup = {"balance_permit_no": self.revoked_permit.permit_no,
                               "load_reference": "1"}
        self.change_lookup = {"kind": "correction", "change_description": "更正數量",
                              "permit_no": self.shtc_permit.permit_no}
        self.iran_assurance_lookup = {
            "registration_no": self.iran_assurance_for_lookup.registration_no,
            "load_reference": "1"}
        # 9-1-2 查詢 (helper "filing"): the owner's registered SHTC case by its 登錄編號.
        self.filing_query = urlencode({"document_type": "SE",
                                       "number": self.shtc_registered.registration_no})

        # What no outsider may read in any answer.
        self.secrets = {
            owner.name, SECRET_FILE, SECRET_COUNTERPARTY, DECLARATION_NO,
            *Permit.objects.filter(holder=owner).values_list("permit_no", flat=True),
            *Application.objects.filter(applicant=owner).exclude(receipt_no=None)
            .values_list("receipt_no", flat=True)}

    def value(self, name):
        value = getattr(self, name)
        return getattr(value, "pk", value)


# --- requesting ------------------------------------------------------------------------------


def says_not_found(response):
    """Whether a form on the page says the number typed is not found."""
    context = response.context
    if context is None:
        return False
    # One template's Context, or a ContextList (a list) of every rendered template's.
    contexts = context if isinstance(context, list) else [context]
    forms = [value for each in contexts for value in each.flatten().values()
             if isinstance(value, BaseForm)]
    return any(form.has_error(name, code) for form in forms for name in form.fields
               for code in NOT_FOUND_CODES)


def classify(response):
    code = response.status_code
    if 300 <= code < 400:
        target = urlsplit(response["Location"]).path
        return "login" if target in (reverse("accounts:login"), reverse("admin:login")) \
            else "ok"
    if code in (200, 400) and says_not_found(response):
        return "notfound"
    return "ok" if 200 <= code < 300 else str(code)


def body(response):
    if getattr(response, "streaming", False):
        # Consumed, not closed: the test client's wrapper then closes it without closing the
        # database connection (CONN_MAX_AGE = 0) in the middle of the test's transaction.
        b"".join(response.streaming_content)
        return ""
    return response.content.decode("utf-8", "replace")


def request(client, method, url, data=None):
    """One request whose effects are rolled back."""
    with transaction.atomic():
        if method == "POST":
            content, content_type = data or ({}, None)
            response = (client.post(url, content, content_type=content_type) if content_type
                        else client.post(url, content))
        else:
            response = client.get(url)
        transaction.set_rollback(True)
    return response


@pytest.fixture
def users(make_user, reviewer):
    from portal.accounts.models import IdentifierType, Role

    return {
        "owner": make_user("22099131", name="安心醫材股份有限公司"),
        "other_applicant": make_user("12345675", name="台灣精密科技股份有限公司"),
        "agent": make_user("04595252", role=Role.AGENT, name="順達報關股份有限公司"),
        "other_agent": make_user("53212539", role=Role.AGENT, name="遠東報關股份有限公司"),
        "reviewer": reviewer,
        "staff": make_user("B123456789", identifier_type=IdentifierType.NATIONAL_ID,
                           is_staff=True, name="貿易局其他同仁"),
    }


@pytest.fixture
def clients(users):
    from reconciliation.models import CustomsClient

    account = CustomsClient(name="關務署")
    token = account.new_token()
    account.save()
    # A 500 is a cell like any other: reported with the rest, not raised.
    clients = {"anonymous": Client(raise_request_exception=False),
               "customs": Client(raise_request_exception=False,
                                 HTTP_AUTHORIZATION=f"Token {token}")}
    for role, user in users.items():
        clients[role] = Client(raise_request_exception=False)
        clients[role].force_login(user)
    return clients



@pytest.mark.django_db
def test_it_answers_every_url_and_role_as_the_matrix_says(
        users, clients, make_case, private_root, django_capture_on_commit_callbacks):
    started = time.monotonic()
    world = World(users, make_case, django_capture_on_commit_callbacks)
    wrong, cells, requests = [], 0, 0

    def check(what, role, response, expected, *, owners_object, sent):
        nonlocal requests
        requests += 1
        got = classify(response)
        text = body(response)
        if got != expected:
            wrong.append(f"{what} as {role}: {got}, expected {expected}")
        if owners_object and got == "ok" and role in ("other_applicant", "other_agent"):
            wrong.append(f"{what}: {role} reached the owner's object")
        if role in OUTSIDERS:
            seen = sorted(secret for secret in world.secrets
                          if secret in text and secret not in sent)
            if seen:
                wrong.append(f"{what} as {role} shows the owner's {seen}")

    for key, route, pattern in url_patterns():
        row = MATRIX.get(key)
        if row is None:
            continue  # test_it_places_every_url_pattern names it
        url = build_url(key, route, pattern, {name: world.value(source)
                                     for name, source in row.kwargs.items()})
        if row.query:
            url = f"{url}?{getattr(world, row.query)}"
        # A list or search page (a query, no object in the path) may answer "ok" to anyone:
        # what it lists is checked by the secrets.
        owners_object = bool(row.kwargs.keys() - {"uidb64", "token", "app_label", "url"})
        for role in ROLES:
            cells += 1
            client = clients[role]
            for method in (("GET", "POST") if row.method == "BOTH" else (row.method,)):
                check(f"{key} {method} {url}", role,
                      request(client, method, url, POSTS.get(key)), row.classes[role],
                      owners_object=owners_object, sent=url)
            if row.method == "POST":
                requests += 1
                response = request(client, "GET", url)
                body(response)
                if 200 <= response.status_code < 300:
                    wrong.append(f"{key} GET {url} as {role}: {response.status_code} for a "
                                 f"POST-only view")
            if key in LOOKUPS:
                name, classes = LOOKUPS[key]
                data = getattr(world, name)
                check(f"{key} POST {data}", role, request(client, "POST", url, (data, None)),
                      dict(zip(ROLES, classes.split(), strict=True))[role],
                      owners_object=True, sent=" ".join(data.values()))
    print(f"\naccess matrix: {len(list(url_patterns()))} URL patterns × {len(ROLES)} roles = "
          f"{cells} cells, {requests} requests, {time.monotonic() - started:.1f} s")
    assert not wrong, "\n".join(wrong)


# --- the rule itself (ACC-5) -----------------------------------------------------------------


@pytest.mark.django_db
def test_it_shows_staff_the_cases_only_through_a_permission(users, make_case):
    owner, agent, staff = users["owner"], users["agent"], users["staff"]
    case = make_case(owner, actor=agent)
    assert not Application.objects.visible_to(staff).exists()
    staff.user_permissions.add(Permission.objects.get(codename="view_application",
                                                      content_type__app_label="permits"))
    staff = type(staff).objects.get(pk=staff.pk)  # a fresh permission cache
    assert list(Application.objects.visible_to(staff)) == [case]
    assert list(Application.objects.visible_to(users["reviewer"])) == [case]
    # A permission on an account that is not staff grants nothing: applicants only ever
    # see their own cases.
    other = users["other_applicant"]
    other.user_permissions.add(Permission.objects.get(codename="view_application",
                                                      content_type__app_label="permits"))
    other = type(other).objects.get(pk=other.pk)
    assert not Application.objects.visible_to(other).exists()


@pytest.mark.django_db
def test_it_shows_a_superuser_every_case(users, make_case):
    from portal.accounts.models import User

    case = make_case(users["owner"], actor=users["agent"])
    boss = User.objects.create_superuser("C123456789", "pw", name="署長", email="c@example.com")
    assert list(Application.objects.visible_to(boss)) == [case]
    assert list(Permit.objects.visible_to(boss)) == list(Permit.objects.all())


@pytest.mark.django_db
def test_it_keeps_inactive_or_anonymous_users_out(users, make_case):
    from django.contrib.auth.models import AnonymousUser

    make_case(users["owner"], actor=users["agent"])
    reviewer = users["reviewer"]
    reviewer.is_active = False
    assert not Application.objects.visible_to(reviewer).exists()
    assert not Application.objects.visible_to(AnonymousUser()).exists()
    assert not Permit.objects.visible_to(AnonymousUser()).exists()

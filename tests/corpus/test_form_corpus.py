"""The bad-input corpus (tests/corpus/forms.yaml) against every form of the portal: each bad
value gets its expected outcome, and no input whatever answers 500 (issue 9)."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import BaseForm
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from permits.models import ReviewTarget, WorkdayAdjustment
from portal import dates
from tests.approvals import approve

CORPUS = yaml.safe_load((Path(__file__).with_name("forms.yaml")).read_text(encoding="utf-8"))
ITEM = {"category": "medical", "tariff_code": "63079050311", "description": "口罩",
        "quantity": "10", "unit": "PCE", "unit_price": "5", "currency": "TWD",
        "origin_country": "US"}
MASK_BASIC = {"applicant_name": "安心醫材股份有限公司", "applicant_address": "臺北市",
              "company_email": "masks@anxin.example", "contact_person": "王小明",
              "contact_phone": "02-2351-0000"}


def expand(section):
    """[(id, form name, spec, field, value, expect)] of one section of the corpus."""
    cases = []
    for name, spec in CORPUS[section].items():
        for case in spec["cases"]:
            values = (CORPUS["value_sets"][case["values"]] if "values" in case
                      else [case["value"]])
            for index, value in enumerate(values):
                cases.append(pytest.param(name, spec, case["field"], value,
                                          case.get("expect", "field"),
                                          id=f"{name}-{case['field']}-{index}"))
    return cases


POST_CASES = expand("forms")
GET_CASES = expand("get_forms")


def test_it_holds_at_least_three_hundred_cases_with_the_api():
    from tests.corpus import test_api_corpus  # noqa: F401  (the API's part of the corpus)

    api = yaml.safe_load(Path(__file__).with_name("api.yaml").read_text(encoding="utf-8"))
    assert len(POST_CASES) + len(GET_CASES) + len(api["cases"]) >= 300


@pytest.fixture
def world(db, make_user):
    """What the forms need: the accounts, a mask draft, a postal mask permit written off so
    that it has stock, a declared flow of it."""
    from masks import entry as mask_entry
    from masks import services
    from masks.models import MaskApplication
    from permits import entry as permit_entry
    from permits import services as permit_services
    from permits import workflow
    from portal.accounts.models import Role
    from shtc.models import ShtcApplication
    from tests.services import seed_reference_data

    seed_reference_data()
    users = {"applicant": make_user("22099131"), "other_applicant": make_user("12345675"),
             "agent": make_user("04595252", role=Role.AGENT)}
    applicant = users["applicant"]
    draft = permit_services.application_create(document_type="MK", applicant=applicant,
                                               actor=applicant, **MASK_BASIC)
    MaskApplication.objects.create(application=draft, route="postal")
    issued = services.application_submit(actor=applicant, applicant=applicant, route="postal",
                                         items=[ITEM], **MASK_BASIC)
    permit = issued.issued_version.permit
    services.write_off_record(actor=applicant, permit=permit, route="postal",
                              medical_quantity=Decimal(5), non_medical_quantity=None)
    report = services.stock_report_load(permit=permit)
    flow = services.flow_register(actor=applicant, report=report, category="own_use",
                                  quantity=Decimal(2), date=timezone.localdate())
    services.flows_declare(actor=applicant, report=report)
    # A 已通關相符修正 of the permit (written off, so 更正 is no longer open to it).
    correction = permit_entry.draft_from(
        entry=mask_entry.CORRECTION, actor=applicant, source=issued, kind="cleared_correction",
        changes=issued.issued_version, change_description="更正口罩產地")
    # An SHTC draft of 9-1-1 (shtc/entry.py), for its item form.
    shtc_draft = permit_services.application_create(document_type="SE", applicant=applicant,
                                                    actor=applicant, destination_country="US",
                                                    **MASK_BASIC)
    ShtcApplication.objects.create(application=shtc_draft)
    # A case 9-1-1 registered (登錄中), for the forms of 9-1-2 (shtc/filing_views.py).
    shtc_registered = permit_services.application_create(
        document_type="SE", applicant=applicant, actor=applicant, destination_country="US",
        items=[{**ITEM, "origin_country": "TW"}], **MASK_BASIC)
    ShtcApplication.objects.create(application=shtc_registered)
    shtc_registered = workflow.transition(application=shtc_registered, to="registered",
                                          actor=applicant)
    # The working-day clock's data in the admin (issue 14): a reviewer who may change it,
    # an adjustment already made, a target to change.
    users["calendar_keeper"] = _calendar_keeper(make_user)
    # The reviewers' queues (issue 14, helper "queues"): a supervisor, who may assign cases
    # to others, and a case under review to assign (made only by the cases that name it).
    users["supervisor"] = _supervisor(make_user)
    adjustment = WorkdayAdjustment.objects.create(date=datetime.date(2026, 12, 16),
                                                  kind="day_off")
    return {"users": users, "{draft}": draft.pk, "{correction}": correction.pk,
            "{workday_adjustment_date}": dates.to_roc(adjustment.date),
            "{review_target}": ReviewTarget.objects.get_or_create(
                document_type="SE", stage="initial_review",
                defaults={"working_days": 7})[0].pk,
            "{shtc_draft}": shtc_draft.pk,
            # The reviewers' case page (issue 14): a case under review and its risk flag.
            "{review_case}": shtc_registered.pk,
            "{risk_flag}": lambda: _risk_flag(shtc_registered).pk,
            # Made only by the cases that name it (fill()): 74 queries the others skip.
            "{shtc_balance}": lambda: _shtc_balance_draft(applicant, make_user).pk,
            "{shtc_registered}": shtc_registered.pk,
            "{supervisor}": users["supervisor"].pk,
            "{case_in_review}": lambda: workflow.transition(
                application=permit_services.application_create(
                    document_type="SE", applicant=applicant, actor=applicant,
                    destination_country="US", items=[{**ITEM, "origin_country": "TW"}],
                    **MASK_BASIC), to="initial_review", actor=applicant).pk,
            "{shtc_registration_no}": shtc_registered.registration_no,
            # 9-2-2 (helper "iran2"): a registered Iran assurance's 登錄編號, and an
            # application the applicant is entering from another one.
            "{iran_registration_no}": lambda: _iran_assurance(applicant).registration_no,
            "{iran_draft}": lambda: _iran_draft(applicant).pk,
            # 9-2-1 (helper "iran"): an assurance to Iran the applicant is entering.
            "{iran_assurance_draft}": lambda: _iran_assurance_draft(applicant).pk,
            "{permit_no}": permit.permit_no,
            "{report}": report.pk, "{flow}": flow.pk,
            "{today}": dates.to_roc(timezone.localdate())}


def _calendar_keeper(make_user):
    from django.contrib.auth.models import Group, Permission

    from portal.accounts.models import REVIEWERS_GROUP, IdentifierType

    keeper = make_user("C123456781", identifier_type=IdentifierType.NATIONAL_ID, is_staff=True)
    keeper.groups.add(Group.objects.get_or_create(name=REVIEWERS_GROUP)[0])
    keeper.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="permits",
        codename__in=["add_workdayadjustment", "change_workdayadjustment",
                      "change_reviewtarget"]))
    return keeper


def _risk_flag(case):
    from shtc.models import RiskFlag

    return RiskFlag.objects.create(application=case, kind="watched_destination",
                                   params={"country": "CN"})


def _supervisor(make_user):
    from django.contrib.auth.models import Group, Permission

    from portal.accounts.models import REVIEWERS_GROUP, IdentifierType

    user = make_user("E123456783", identifier_type=IdentifierType.NATIONAL_ID, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=REVIEWERS_GROUP)[0])
    user.user_permissions.add(Permission.objects.get(content_type__app_label="permits",
                                                     codename="assign_application"))
    return user


def _shtc_balance_draft(applicant, make_user):
    """A 餘額重簽 draft of 9-1-1 (SHTC-11), for its item form (the quantity only, bounded by
    the balance): an SHTC permit of 10 PCE approved, cancelled, and its balance loaded."""
    from django.contrib.auth.models import Group

    from permits import changes, workflow
    from permits import entry as permit_entry
    from permits import services as permit_services
    from portal.accounts.models import REVIEWERS_GROUP, IdentifierType
    from shtc import entry as shtc_entry

    reviewer = make_user("A123456789", identifier_type=IdentifierType.NATIONAL_ID,
                         is_staff=True)
    reviewer.groups.add(Group.objects.get_or_create(name=REVIEWERS_GROUP)[0])
    case = permit_services.application_create(
        document_type="SE", applicant=applicant, actor=applicant, destination_country="US",
        items=[{**ITEM, "origin_country": "TW", "control_no": "3A001.a"}], **MASK_BASIC)
    case = workflow.transition(application=case, to="initial_review", actor=applicant)
    case = approve(case, reviewer)
    permit = case.issued_version.permit
    changes.permit_revoke(permit=permit, actor=applicant, reason="餘額重簽")
    return permit_entry.balance_draft_create(entry=shtc_entry.APPLICATION, actor=applicant,
                                             permit=permit)


def _iran_assurance(applicant):
    from tests.shtc.iran_cases import iran_assurance

    return iran_assurance(applicant)


def _iran_assurance_draft(applicant):
    """A 9-2-1 draft (shtc/iran_entry.py): an end-use assurance to Iran being entered."""
    from permits import services as permit_services
    from shtc.models import ShtcApplication

    draft = permit_services.application_create(document_type="SE", applicant=applicant,
                                               actor=applicant, destination_country="IR",
                                               **MASK_BASIC)
    ShtcApplication.objects.create(application=draft)
    return draft


def _iran_draft(applicant):
    """A 9-2-2 draft (shtc/iran_filing.py) loaded from a registered Iran assurance."""
    from permits import entry as permit_entry
    from shtc import iran_filing

    return permit_entry.reference_draft_create(
        entry=iran_filing.IRAN_APPLICATION, actor=applicant, field="registration_no",
        number=_iran_assurance(applicant).registration_no)


def fill(value, world):
    if isinstance(value, str) and value.startswith("@repeat:"):
        _tag, text, count = value.split(":")
        return text * int(count)
    if isinstance(value, str) and value.startswith("@file:"):
        _tag, name, text = value.split(":", 2)
        return SimpleUploadedFile(name, text.encode("utf-8", "surrogatepass"))
    if isinstance(value, str):
        for key, replacement in world.items():
            if key.startswith("{") and key in value:
                if callable(replacement):
                    replacement = world[key] = replacement()
                value = value.replace(key, str(replacement))
    return value


def client_for(spec, world):
    client = Client()
    if spec["user"] != "anonymous":
        client.force_login(world["users"][spec["user"]])
    return client


def forms_in(context):
    """Every form the page rendered (a form, or a list of forms such as the parties')."""
    found = []
    if context is None:  # no template drawn: a file (the case list's export)
        return found
    contexts = context if isinstance(context, list) else [context]
    for each in contexts:
        for value in each.flatten().values():
            if isinstance(value, BaseForm) and value not in found:
                found.append(value)
            elif isinstance(value, (list, tuple)):
                found.extend(v for v in value if isinstance(v, BaseForm) and v not in found)
    return found


def error_on(response, field):
    """Whether a form of the page has an error on the posted field `field` (its prefixed
    name), and whether that form kept what was posted."""
    for form in forms_in(response.context):
        for name in form.errors:
            if name != "__all__" and form.add_prefix(name) == field:
                return True
            if name == "__all__" and field == "__all__":
                return True
        # A prefixed field posted without the form's prefix in the corpus (flow start).
        if field in form.errors and form.prefix:
            return True
    return False


@pytest.mark.parametrize(("name", "spec", "field", "value", "expect"), POST_CASES)
def test_it_answers_each_bad_post_as_expected(world, name, spec, field, value, expect):
    client = client_for(spec, world)
    url = reverse(spec["url"], args=[fill(arg, world) for arg in spec.get("args", [])])
    data = {key: fill(val, world) for key, val in spec["valid"].items()}
    data[field if field in data or "-" in field else _posted(spec, field)] = fill(value, world)
    response = client.post(url, data)
    assert response.status_code != 500
    if expect == "field":
        assert response.status_code == 400, (response.status_code, response.get("Location"))
        assert error_on(response, field), [f.errors for f in forms_in(response.context)]
    elif expect == "4xx":
        assert 400 <= response.status_code < 500
    elif expect == "message":  # an admin action refused: back, with a message, nothing done
        from django.contrib import messages

        assert response.status_code == 302, response.status_code
        assert any(m.level == messages.ERROR for m in messages.get_messages(
            response.wsgi_request)), field
    else:
        assert response.status_code in (200, 302)
        if response.status_code == 200:
            assert not error_on(response, field)


def _posted(spec, field):
    # A field of a prefixed form (flow start: d-declaration_no).
    for key in spec["valid"]:
        if key.endswith(f"-{field}"):
            return key
    return field


@pytest.mark.parametrize(("name", "spec", "field", "value", "expect"), GET_CASES)
def test_it_answers_each_bad_query_as_expected(world, name, spec, field, value, expect):
    client = client_for(spec, world)
    data = {**spec["valid"], field: fill(value, world)}
    response = client.get(reverse(spec["url"]), data)
    assert response.status_code != 500
    if expect == "field":
        assert response.status_code in (200, 400)
        assert error_on(response, field), [f.errors for f in forms_in(response.context)]
    elif expect == "4xx":
        assert 400 <= response.status_code < 500

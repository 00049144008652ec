import pytest

from tests import services


def pytest_addoption(parser):
    parser.addoption(
        "--require-services", action="store_true", default=False,
        help="fail, never skip, a test whose service (PostgreSQL, Redis, Chromium, a font) "
             "is missing: what CI runs with",
    )


def pytest_configure(config):
    services.STRICT["on"] = config.getoption("--require-services")


def pytest_terminal_summary(terminalreporter):
    # The pages the browser tests had axe-core audit (tests/browser/axe.py), in var/axe-pages.txt.
    from tests.browser.axe import write_summary

    write_summary(terminalreporter)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # With --require-services nothing may be skipped, whatever skipped it.
    outcome = yield
    report = outcome.get_result()
    if services.STRICT["on"] and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under --require-services: {report.longrepr}"


@pytest.fixture(autouse=True)
def _postgres_marker(request):
    # @pytest.mark.postgres: the test is of what only PostgreSQL does (row locks and
    # concurrency, one round trip of several statements, prepared statements): on make
    # test's default SQLite it skips, under --require-services it fails.
    if request.node.get_closest_marker("postgres"):
        services.require_postgres()


@pytest.fixture(autouse=True)
def _clear_cache():
    # The cache holds per-address login failures and, later, rate limits: no test may see
    # another's.
    from django.core.cache import cache

    from permits.fields import reference_rows_forget

    cache.clear()
    reference_rows_forget()  # a rolled-back test's countries and currencies
    yield
    cache.clear()
    reference_rows_forget()


@pytest.fixture(autouse=True)
def _celery_join_flag():
    # Celery keeps "inside a task, never wait for a result" in one process-wide flag that
    # eager tasks set and restore; eager tasks queued from several threads at once (the
    # concurrency tests) can leave it set. Start every test with it clear.
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield


@pytest.fixture(autouse=True)
def _default_language():
    # A request through the test client activates its language (LocaleMiddleware) and leaves
    # it active in the thread after the response: a test after one that asked for English
    # would run in English (seen: test_parties after test_fixed_text). Every test starts in
    # the portal's default language.
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def make_user(db):
    from portal.accounts.models import IdentifierType, Role, User

    def make(identifier, *, role=Role.APPLICANT, identifier_type=IdentifierType.BAN,
             password="correct-horse-battery", **fields):
        defaults = {"name": f"公司 {identifier}", "address": "臺北市中正區重慶南路一段2號",
                    "contact_person": "王小明", "phone": "02-2351-0000",
                    "email": f"{identifier.lower()}@example.com"}
        defaults.update(fields)
        return User.objects.create_user(identifier, password, identifier_type=identifier_type,
                                        role=role, **defaults)

    return make


@pytest.fixture
def applicant(make_user):
    return make_user("22099131", name="安心醫材股份有限公司")


@pytest.fixture
def other_applicant(make_user):
    return make_user("12345675", name="台灣精密科技股份有限公司")


@pytest.fixture
def agent(make_user):
    from portal.accounts.models import Role

    return make_user("04595252", role=Role.AGENT, name="順達報關股份有限公司")


@pytest.fixture
def reviewer(make_user):
    from django.contrib.auth.models import Group

    from portal.accounts.models import REVIEWERS_GROUP, IdentifierType

    user = make_user("A123456789", identifier_type=IdentifierType.NATIONAL_ID, is_staff=True,
                     name="貿易局審核員")
    user.groups.add(Group.objects.get_or_create(name=REVIEWERS_GROUP)[0])
    return user


@pytest.fixture
def private_root(tmp_path, settings):
    """Attachments and flow documents go to a fresh directory (the private storage follows
    the setting)."""
    root = tmp_path / "private"
    root.mkdir()
    settings.PRIVATE_MEDIA_ROOT = root
    return root


@pytest.fixture
def smtp_sink():
    sink = services.SMTPSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def celery_worker(smtp_sink):
    """A real Celery worker process over the real Redis broker, sending mail to `smtp_sink`.
    While it runs, tasks queued by this process go to it instead of running in-process."""
    services.require_redis()
    with services.running_worker(email_url=smtp_sink.url) as worker:
        yield worker


ITEM = {"tariff_code": "85423100003", "description": "Field programmable gate array",
        "quantity": "10.0000", "unit": "PCE", "unit_price": "1500.0000", "currency": "USD",
        "origin_country": "TW"}


@pytest.fixture
def make_case(db):
    """A case of `applicant` in 暫存, filed by `actor` (the applicant or an agent), with
    `items` (default: one). `status` moves it on through permits.workflow, as a user and a
    reviewer would: "initial_review" submits it, "approved" also issues the permit."""
    from permits import services, workflow
    from permits.models import DocumentType, Status

    def make(applicant, *, actor=None, document_type=DocumentType.SHTC_EXPORT, items=None,
             status=None, reviewer=None, **data):
        application = services.application_create(
            document_type=document_type, applicant=applicant, actor=actor or applicant,
            items=[dict(ITEM)] if items is None else items, destination_country="DE", **data)
        if status in (Status.INITIAL_REVIEW, Status.SUPPLEMENT, Status.APPROVED):
            application = workflow.transition(application=application,
                                              to=Status.INITIAL_REVIEW,
                                              actor=actor or applicant)
        if status == Status.SUPPLEMENT:
            application = workflow.transition(application=application, to=Status.SUPPLEMENT,
                                              actor=reviewer, note="請補附產品英文型錄。")
        if status == Status.APPROVED:
            # Through 複審中 by a second senior reviewer where four eyes applies (SHTC).
            from tests.approvals import approve

            application = approve(application, reviewer)
        return application

    return make

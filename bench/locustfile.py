"""The simulated users of bench/load.py (issue 10, point 6), for locust in its own process.

Do not import this module elsewhere: locust monkey-patches the standard library with gevent
when it is imported. bench/load.py starts `locust -f bench/locustfile.py --headless` with
BENCH_LOAD_DATA naming the JSON file of the accounts, permits and declarations it seeded.

Three kinds of user, in the proportion of their weights:

    ApplicantUser  logs in, then 我的案件, a mask application to issue (basic data → 下一步 →
                   新增貨品明細 → 確認 → 申請 → the permit issued at once), 口罩流向登錄作業
                   (帶入報單資料 → 流向登錄 → 申報), 單證比對查詢 and a permit PDF
    AgentUser      the same as the customs broker filing for its applicants
    CustomsUser    customs' system posting declarations and releases to /api/customs/messages

Each request is named after its page, not its URL (no ids), so that locust's statistics are
per page. A POST is sent without following its redirect: the page it leads to is requested
on its own (and counted under its own name), as the browser would. The client plays the TLS
proxy in front of gunicorn (docker-compose.yml): X-Forwarded-Proto: https, the
Secure-flagged session and CSRF cookies sent back over the loopback's plain HTTP, and a
connection per request (PROXY_HEADERS).
"""

import datetime
import itertools
import json
import os
import random
import re
import zoneinfo
from urllib.parse import urlsplit

import gevent
from locust import HttpUser, between, events, task
from locust.exception import StopUser

with open(os.environ["BENCH_LOAD_DATA"], encoding="utf-8") as _file:
    DATA = json.load(_file)

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TAIPEI = zoneinfo.ZoneInfo("Asia/Taipei")  # the portal's TIME_ZONE: what "today" is there
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CLIENT_TOKEN_RE = re.compile(r'name="client_token" value="([^"]+)"')
ASSET_RE = re.compile(r'(?:href|src)="(/static/[^"]+)"')
ERRORS_RE = re.compile(r'class="(?:invalid-feedback|alert alert-danger)[^"]*"[^>]*>(.*?)</',
                       re.S)
# A small PDF as the flow documents the bench uploads (a delivery note; accepted by
# permits.attachments.check_upload as the flow tests' own).
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
WAIT = [float(part) for part in os.environ.get("BENCH_LOAD_WAIT", "1,3").split(",")]
MAX_REQUESTS = int(os.environ.get("BENCH_LOAD_MAX_REQUESTS", "0"))
# The proxy's connections to gunicorn: one per request (nginx's default towards an upstream),
# unless BENCH_LOAD_KEEPALIVE=1. Kept alive, a connection idle for about gunicorn's
# --keep-alive (2 s) can be closed by gunicorn as the next request arrives on it: a
# "connection reset" the client sees as a failure (bench/README.md).
PROXY_HEADERS = {"X-Forwarded-Proto": "https",
                 **({} if os.environ.get("BENCH_LOAD_KEEPALIVE") == "1"
                    else {"Connection": "close"})}
_requests = itertools.count(1)


@events.test_start.add_listener
def _loopback_only(environment, **_kwargs):
    host = urlsplit(environment.host or "").hostname
    if host not in LOOPBACK:
        raise SystemExit(f"bench/locustfile.py runs against the loopback only, not {host!r}")


@events.request.add_listener
def _bounded(**_kwargs):
    # A bound on the count beside the run time: past it the run stops (greenlet: a listener
    # must not stop the runner from inside the request it reports).
    if MAX_REQUESTS and next(_requests) == MAX_REQUESTS:
        runner = _bounded.environment.runner
        gevent.spawn(runner.quit)


@events.init.add_listener
def _keep_environment(environment, **_kwargs):
    _bounded.environment = environment


@events.quit.add_listener
def _write_stats(**_kwargs):
    """Locust's final statistics (the requests of users finishing their task after the run
    time included, which its CSV leaves out) as JSON, for bench/load.py's table."""
    path = os.environ.get("BENCH_LOAD_STATS")
    if not path:
        return
    stats = _bounded.environment.runner.stats

    def entry(stat, name):
        return {"name": name, "method": stat.method, "requests": stat.num_requests,
                "failures": stat.num_failures, "rps": stat.total_rps,
                "max": stat.max_response_time,
                **{f"p{round(q * 100)}": stat.get_response_time_percentile(q)
                   for q in (0.5, 0.95, 0.99)}}

    rows = [entry(stat, stat.name) for stat in sorted(stats.entries.values(),
                                                      key=lambda stat: stat.name)]
    with open(path, "w", encoding="utf-8") as file:
        json.dump({"pages": rows, "total": entry(stats.total, "ALL"),
                   "errors": [{"method": error.method, "name": error.name,
                               "error": str(error.error), "count": error.occurrences}
                              for error in stats.errors.values()],
                   "exceptions": [{"count": exception["count"], "message": exception["msg"],
                                   "traceback": exception["traceback"]}
                                  for exception in _bounded.environment.runner.exceptions
                                  .values()]},
                  file, ensure_ascii=False, indent=1)


def roc_today():
    today = datetime.datetime.now(TAIPEI).date()
    return f"{today.year - 1911:03d}/{today.month:02d}/{today.day:02d}"


class PortalUser(HttpUser):
    """A person in a browser: logs in once, then does the tasks of its subclass."""

    abstract = True
    wait_time = between(*WAIT)
    accounts = ()
    _next = None

    def on_start(self):
        self.client.headers.update(PROXY_HEADERS)
        self.origin = "https://" + urlsplit(self.host).netloc
        self.account = self.accounts[next(type(self)._next) % len(self.accounts)]
        self.versions = list(self.account["versions"])
        self.assets_loaded = False
        self.log_in()

    # --- helpers ---

    def page(self, path, name, *, expect=200, marker=None, pdf=False):
        """GET a page; a failure unless it answers `expect` (and holds `marker`, or is a
        PDF)."""
        with self.client.get(path, name=name, allow_redirects=False,
                             catch_response=True) as response:
            self.behind_the_proxy()
            check(response, expect, marker)
            if pdf and response.status_code == expect and \
                    not response.content.startswith(b"%PDF"):
                response.failure("not a PDF")
            return response

    def post(self, path, name, data, *, referer, expect=302, files=None):
        """POST a form as the browser does (Origin and Referer, the form's CSRF token); not
        following the redirect. A failure unless it answers `expect`."""
        headers = {"Origin": self.origin, "Referer": self.origin + referer}
        with self.client.post(path, name=name, data=data, files=files, headers=headers,
                              allow_redirects=False, catch_response=True) as response:
            self.behind_the_proxy()
            check(response, expect)
            return response

    def behind_the_proxy(self):
        """The session and CSRF cookies are Secure (production): the browser sends them back
        over https to the proxy, which passes them on to gunicorn over the loopback's http.
        The bench's client is that proxy's other side, so it keeps them as plain cookies
        (requests would not send a Secure cookie over http)."""
        for cookie in self.client.cookies:
            cookie.secure = False

    def form(self, path, name):
        """GET a form page: (its CSRF token or None, its client_token or None, the
        response); a page without the token is a failure."""
        response = self.page(path, name, marker='name="csrfmiddlewaretoken"')
        token = CSRF_RE.search(response.text or "")
        client_token = CLIENT_TOKEN_RE.search(response.text or "")
        return (token.group(1) if token else None,
                client_token.group(1) if client_token else None, response)

    def location(self, response):
        return urlsplit(response.headers.get("Location", "")).path

    def log_in(self):
        token, _client_token, response = self.form("/accounts/login/", "login (form)")
        if not self.assets_loaded:
            # The CSS and scripts, once: whitenoise serves them with far-future caching.
            for asset in sorted(set(ASSET_RE.findall(response.text or ""))):
                self.page(asset, "static asset")
            self.assets_loaded = True
        if token is None:
            raise StopUser()
        response = self.post("/accounts/login/", "login (POST)",
                             {"csrfmiddlewaretoken": token,
                              "username": self.account["identifier"],
                              "password": DATA["password"]},
                             referer="/accounts/login/")
        if response.status_code != 302:
            # Never try again: five failures lock the account (django-axes).
            raise StopUser()
        self.page(self.location(response) or "/", "home")

    # --- tasks shared by applicants and agents ---

    @task(4)
    def my_cases(self):
        self.page("/cases/", "我的案件")

    @task(2)
    def mask_application(self):
        """輸入許可申請 to issue (MASK-1 to MASK-3)."""
        token, client_token, _response = self.form("/masks/apply/", "mask: basic data (form)")
        if token is None:
            return
        data = {"csrfmiddlewaretoken": token, "route": "declaration", **self.basic_data()}
        if client_token:
            data["client_token"] = client_token
        response = self.post("/masks/apply/", "mask: basic data (下一步)", data,
                             referer="/masks/apply/")
        review = self.location(response)
        if response.status_code != 302 or not review.endswith("/review/"):
            return
        self.page(review, "mask: review")
        case = review.removesuffix("review/")
        for _ in range(random.choice((1, 1, 2))):
            token, _client_token, _response = self.form(case + "items/new/",
                                                        "mask: item (form)")
            if token is None:
                return
            category = random.choice(("medical", "non_medical"))
            response = self.post(case + "items/new/", "mask: item (確認)", {
                "csrfmiddlewaretoken": token, "category": category,
                "tariff_code": DATA["mask_codes"][category],
                "quantity": str(random.randint(1000, 50000)), "unit": "PCE",
                "unit_price": "4.5", "currency": "TWD",
                "origin_country": random.choice(("TW", "CN", "US"))},
                referer=case + "items/new/")
            if response.status_code != 302:
                return
            token, _client_token, _response = self.form(review, "mask: review")
            if token is None:
                return
        response = self.post(case + "submit/", "mask: 申請", {"csrfmiddlewaretoken": token},
                             referer=review)
        issued = self.location(response)
        if response.status_code == 302 and issued.endswith("/issued/"):
            page = self.page(issued, "mask: issued page", marker='data-testid="permit-no"')
            printed = re.search(r'href="/permits/(\d+)/print/"', page.text or "")
            if printed:
                self.versions.append(int(printed.group(1)))

    @task(2)
    def flows(self):
        """口罩流向登錄作業: 帶入報單資料, 流向登錄 (own use, or a sale with its delivery note),
        and now and then 申報 (MASK-6, MASK-7)."""
        token, _client_token, _response = self.form("/masks/flows/", "flows: start page")
        if token is None:
            return
        number = random.choice(self.account["declarations"])
        response = self.post("/masks/flows/", "flows: 帶入報單資料",
                             {"csrfmiddlewaretoken": token, "menu": "2",
                              "d-declaration_no": number}, referer="/masks/flows/")
        report = self.location(response)
        if response.status_code != 302:
            return
        self.page(report, "flows: stock page")
        token, _client_token, _response = self.form(report + "new/", "flows: 流向登錄 (form)")
        if token is None:
            return
        data = {"csrfmiddlewaretoken": token, "quantity": str(random.randint(1, 20)),
                "date": roc_today()}
        files = None
        if random.random() < 0.3:
            data.update(category="pharmacy", counterparty="康健藥局")
            files = {"documents": ("delivery-note.pdf", PDF, "application/pdf")}
        else:
            data["category"] = "own_use"
        response = self.post(report + "new/", "flows: 流向登錄 (確認)", data,
                             referer=report + "new/", files=files)
        if response.status_code != 302:
            return
        token, _client_token, _response = self.form(report, "flows: stock page")
        if token is not None and random.random() < 0.5:
            response = self.post(report + "declare/", "flows: 申報",
                                 {"csrfmiddlewaretoken": token}, referer=report)
            if response.status_code == 302:
                self.page(report, "flows: stock page")

    @task(2)
    def matching_query(self):
        """單證比對查詢 (RECON-3) of one of the user's declarations."""
        number = random.choice(self.account["declarations"])
        self.page("/matching/", "單證比對查詢 (form)")
        self.page(f"/matching/?number={number}", "單證比對查詢",
                  marker='data-testid="declaration"')

    @task(1)
    def permit_pdf(self):
        """列印: a permit version as a PDF (WeasyPrint)."""
        version = random.choice(self.versions)
        self.page(f"/permits/{version}/print/", "permit PDF", pdf=True)

    @task(1)
    def home(self):
        self.page("/", "home")


class ApplicantUser(PortalUser):
    weight = 6
    accounts = DATA["applicants"]
    _next = itertools.count()

    def basic_data(self):
        account = self.account
        return {"applicant_name": account["name"], "applicant_name_en": "Bench Co., Ltd.",
                "applicant_address": "臺北市中正區重慶南路一段2號",
                "company_email": account["email"], "contact_person": "王小明",
                "contact_phone": "02-2351-0000"}


class AgentUser(PortalUser):
    weight = 3
    accounts = DATA["agents"]
    _next = itertools.count()

    def basic_data(self):
        applicant = random.choice(self.account["applicants"])
        return {"applicant_identifier": applicant["identifier"],
                "applicant_name": applicant["name"], "applicant_name_en": "Bench Co., Ltd.",
                "applicant_address": "臺北市中正區重慶南路一段2號",
                "company_email": applicant["email"], "contact_person": "王小明",
                "contact_phone": "02-2351-0000", "agent_contact_person": "林志豪",
                "agent_phone": "03-398-0000", "agent_email": self.account["email"]}


class CustomsUser(HttpUser):
    """Customs' system: batches of import declarations citing the seeded mask permits, each
    released in the same batch or the next (RECON-1)."""

    weight = 1
    wait_time = between(*WAIT)
    _next = itertools.count()

    def on_start(self):
        self.client.headers["Authorization"] = "Token " + DATA["customs"]["token"]
        self.client.headers.update(PROXY_HEADERS)
        self.prefix = f"{DATA['run']}{next(CustomsUser._next):02d}"
        self.serial = itertools.count(1)

    @task
    def post_declarations(self):
        today = datetime.datetime.now(TAIPEI).date().isoformat()
        batch = []
        for _ in range(random.randint(1, 5)):
            permit = random.choice(DATA["customs"]["permits"])
            # 14 characters (NUMBER_RE): "LC", the run (3), the user (2) and a serial (7).
            number = f"LC{self.prefix}{next(self.serial):07d}"
            quantity = random.randint(10, 500)
            batch.append({"message_id": f"{number}-D", "type": "declaration", "declaration": {
                "number": number, "direction": "import", "date": today,
                "declarant": permit["holder"], "broker": permit["broker"],
                "permit_no": permit["permit_no"],
                "items": [{"item_no": 1, "tariff_code": permit["tariff_code"],
                           "description": "醫用口罩", "quantity": str(quantity), "unit": "PCE",
                           "value": str(quantity * 5), "currency": "TWD",
                           "permit_item_no": 1}]}})
            if random.random() < 0.7:
                batch.append({"message_id": f"{number}-R", "type": "release",
                              "declaration": number,
                              "items": [{"item_no": 1, "quantity": str(quantity)}]})
        with self.client.post("/api/customs/messages", json=batch, catch_response=True,
                              name="customs: POST messages") as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: "
                                 f"{response.text[:300] if response.text else response.error!r}")
                return
            refused = [answer for answer in response.json() if answer["status"] == "rejected"]
            if refused:
                response.failure(f"rejected: {refused[:2]}")


def check(response, expect, marker=None):
    """Mark `response` failed unless it has status `expect` (and holds `marker`), saying
    why: the status, where a redirect went, and the form errors shown."""
    if response.status_code == 0:  # no answer: the connection failed
        response.failure(f"no response: {response.error!r}")
    elif response.status_code != expect:
        where = response.headers.get("Location", "")
        errors = [re.sub(r"\s+", " ", text).strip() for text in
                  ERRORS_RE.findall(response.text or "")][:3] if response.text else []
        response.failure(f"HTTP {response.status_code} (expected {expect})"
                         + (f" → {where}" if where else "")
                         + (f": {errors}" if errors else ""))
    elif marker and marker not in (response.text or ""):
        response.failure(f"no {marker} in the page")

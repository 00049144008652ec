"""The data of the page benchmark (bench/pages.py), in a named PostgreSQL database that is
kept, so that indexes and queries can be tried against it again and again.

    DATABASE_URL=postgres://eportal:eportal@127.0.0.1:5432/eportal \\
        .venv/bin/python bench/data.py --scale large [--db bench_pages_large] [--reset]

creates the database (or, if it already holds the data, only migrates it), runs every
migration, writes the data with PostgreSQL's COPY and ANALYZEs it. `--scale large` is the
issue's scale; `--scale small` (one hundredth) is what bench/pages.py compares query counts
with. A Django process uses it with DATABASE_URL=postgres://.../bench_pages_large, and
`manage.py migrate` with that URL adds new migrations to it.

What the large scale holds (the figures bench/pages.py names its pages after):
  2,004 accounts: the applicant 22099131 with 5,006 cases (1,006 of them filed by the
      agent), the customs broker 04595252 who filed 20,001 cases, three reviewers (bureau
      staff in the reviewers group, A123456789 first), five other brokers and 1,994 other
      applicants (companies, people with an ID number, a few with a passport), every
      identifier with a valid check digit; password PASSWORD for all of them;
  100,006 cases over two years, in a realistic mix of document types and statuses (open
      cases recent, drafts younger than the nightly purge), 500,027 goods items, their
      status history, mask routes, trading parties and attachment rows; every SHTC export
      case with its ShtcApplication (route, 分批, 轉口港代碼 of the Port table, end use once
      filed, the end user's website for some, the validity decided for the approved ones)
      and the documents SHTC-2 requires of it (all once filed, some in 登錄中); the open
      cases (in review or 補件) mostly assigned to the reviewers (the last one who moved the
      case; a third of those only submitted wait in 待分派), each assignment in the internal
      history, and the due date of each reviewed case's stage (stage_due, as
      permits.assignment computes it: some are overdue), so that the reviewers' queues
      我的案件 and 逾期 (bench/pages.py) find cases;
  40,004 permits with 46,004 versions (6,000 corrections and re-issues), a few revoked;
  70,003 customs declarations with 1 to 4 items each, their matching results, the ledger's
      releases (reversed for cancelled declarations) and the write-offs without a
      declaration, the mask stock of every source with something cleared, flows, their
      documents and returns.
The same few cases of the applicant (TARGETS) exist at both scales, so that a page shows the
same rows at both and only the data around it grows.
"""

import argparse
import bisect
import collections
import datetime
import hashlib
import itertools
import os
import random
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

APPLICANT = "22099131"  # 安心醫材, the applicant with 5,006 cases
AGENT = "04595252"  # 順達報關, the broker who filed 20,001 cases
REVIEWER = "A123456789"  # a bureau reviewer (staff, reviewers group)
PASSWORD = "bench-password-1"  # noqa: S105 (every bench account's; no real account has it)

# client_token of the cases the pages open, the same at both scales (targets()).
TARGET_SE = "bench:se"  # an SHTC case of the applicant: a correction, version 2 of a permit
TARGET_SE_ORIGINAL = "bench:se-original"
TARGET_MK = "bench:mk"  # a mask case of the applicant, imported through a declaration
# SHTC (issue 11): a case of the applicant in 登錄中 (9-1-2's upload and apply pages, its case
# page and its assurance), and one in 初審中 (the reviewer's panel in the admin).
TARGET_SE_REGISTERED = "bench:se-registered"
TARGET_SE_REVIEW = "bench:se-review"
# Their destinations: the United States (all four regimes), Singapore (not all four: the
# reviewer's panel counts the exporter's releases to the buyer, SHTC-14 (2)).
TARGET_DESTINATIONS = {TARGET_SE_REGISTERED: "US", TARGET_SE_REVIEW: "SG"}

# What the target declaration's and stock's pages show (bench/pages.py checks for them).
MISMATCH_REASON = "稅則號別與許可證不符"
FLOW_DOCUMENT = "出貨單.pdf"

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)

# (document type, final status, a change of a permit?, cases at the large scale). Masks are
# issued at once (draft → approved); SHTC export and end-use cases go through review.
POOLS = [
    ("MK", "approved", False, 24000), ("MK", "approved", True, 3000),
    ("MK", "draft", False, 500), ("MK", "cancelled", False, 2500),
    ("SE", "approved", False, 14004), ("SE", "approved", True, 3000),
    ("SE", "initial_review", True, 1000), ("SE", "draft", False, 1000),
    ("SE", "initial_review", False, 7000), ("SE", "registered", False, 2000),
    ("SE", "consultation", False, 3000),
    ("SE", "second_review", False, 3000), ("SE", "supplement", False, 4000),
    ("SE", "returned", False, 1000), ("SE", "amendment_closed", False, 1002),
    ("SE", "rejected", False, 11000), ("SE", "cancelled", False, 9000),
    ("EU", "approved", False, 2000), ("EU", "registered", False, 3000),
    ("EU", "draft", False, 300), ("EU", "initial_review", False, 2000),
    ("EU", "rejected", False, 1000), ("EU", "cancelled", False, 1700),
]


@dataclass(frozen=True)
class Scale:
    divisor: int
    applicants: int  # other applicants
    brokers: int  # other agents
    reviewers: int
    applicant_cases: int
    applicant_cases_by_agent: int
    agent_cases: int
    items: int
    declarations: int


SCALES = {
    "large": Scale(divisor=1, applicants=1994, brokers=5, reviewers=3, applicant_cases=5006,
                   applicant_cases_by_agent=1006, agent_cases=20001, items=500027,
                   declarations=70003),
    "small": Scale(divisor=100, applicants=16, brokers=1, reviewers=1, applicant_cases=50,
                   applicant_cases_by_agent=10, agent_cases=200, items=5000,
                   declarations=700),
}

# Review paths to each final status: (from, to, who) with who "f" (the filer) or "r" (a
# reviewer). Several paths for some: one is drawn per case.
D, REG, IR, CONS, SR, SUP, RET, AMC, REJ, APP, CAN = (
    "draft", "registered", "initial_review", "consultation", "second_review", "supplement",
    "returned", "amendment_closed", "rejected", "approved", "cancelled")
PATHS = {
    IR: [[(D, IR, "f")], [(D, IR, "f"), (IR, SUP, "r"), (SUP, IR, "f")]],
    CONS: [[(D, IR, "f"), (IR, CONS, "r")]],
    SR: [[(D, IR, "f"), (IR, SR, "r")], [(D, IR, "f"), (IR, CONS, "r"), (CONS, SR, "r")]],
    SUP: [[(D, IR, "f"), (IR, SUP, "r")]],
    RET: [[(D, IR, "f"), (IR, SR, "r"), (SR, RET, "r")]],
    AMC: [[(D, IR, "f"), (IR, AMC, "r")]],
    REJ: [[(D, IR, "f"), (IR, REJ, "r")], [(D, IR, "f"), (IR, SR, "r"), (SR, REJ, "r")]],
    APP: [[(D, IR, "f"), (IR, APP, "r")], [(D, IR, "f"), (IR, SR, "r"), (SR, APP, "r")],
          [(D, IR, "f"), (IR, SUP, "r"), (SUP, IR, "f"), (IR, APP, "r")]],
    CAN: [[(D, CAN, "f")], [(D, IR, "f"), (IR, CAN, "r")]],
    REG: [[(D, REG, "f")]],
}
OPEN = {IR, CONS, SR, SUP, RET, REG}
NOTES = {SUP: "請補附最終使用者聲明書及產品英文型錄。", REJ: "所附文件不足以證明最終用途，退件。",
         AMC: "申請內容須補正，請另案提出補正申請。", RET: "請初審重新確認最終使用者資料。"}

MASK_ITEMS = [("63079050311", "medical", "醫用口罩"), ("63079050106", "non_medical", "一般口罩")]
SHTC_ITEMS = [
    ("85423100003", "Field programmable gate array", "3A001.a"),
    ("85177900002", "Encrypted network interface module", "5A002.a"),
    ("85423900004", "Radiation-hardened microcontroller", "3A001.a"),
    ("90138000009", "Infrared focal plane array", "6A002.a"),
    ("84714100007", "High-performance computer node", "4A003.b"),
    ("85269100000", "GNSS receiver module", "7A005.a"),
    ("90318000006", "Coordinate measuring machine probe", "2B006.a"),
]
BRANDS = ["Xilinx", "Anxin", "Formosa", "Keelung Tech", "Nanhai", "Yushan", "Pacific"]
COUNTRIES = ["DE", "JP", "US", "KR", "NL", "SG", "MY", "VN", "FR", "GB", "IN", "CN", "TH"]
ORIGINS = ["TW", "US", "JP", "CN", "DE", "KR"]
ROUTES = [("declaration", 70), ("postal", 15), ("passenger", 5), ("other", 10)]
FLOW_CATEGORIES = ["medical_institution", "device_maker", "pharmacy", "drugstore",
                   "workplace", "retail", "online", "wholesaler", "own_use"]
NAME_HEADS = ["台灣", "安泰", "永豐", "大同", "新光", "宏達", "華新", "中興", "東元", "聯合",
              "國泰", "台達", "光寶", "瑞昱", "順益", "長榮", "富邦", "遠東", "統一", "和泰",
              "佳世達", "建興", "欣興", "南亞", "友達", "群創", "力晶", "旺宏", "凌陽", "義隆"]
NAME_TAILS = ["精密科技", "醫材", "電子", "國際貿易", "生技", "實業", "光電",
              "半導體", "通訊", "儀器", "企業", "紡織", "工業"]
CITIES = ["臺北市中正區重慶南路一段2號", "新北市板橋區文化路一段100號", "桃園市中壢區中大路300號",
          "新竹市東區光復路二段101號", "臺中市西屯區台灣大道三段99號", "高雄市前鎮區成功二路25號"]


# --- Identifiers with valid check digits (portal.accounts.identifiers) ----------------------


def bans(start, exclude=()):
    """統一編號 that pass the check digit, from `start` up."""
    from portal.accounts.identifiers import is_valid_ban

    for number in itertools.count(start):
        value = f"{number:08d}"
        if value not in exclude and is_valid_ban(value):
            yield value


def national_ids(start):
    """身分證字號 that pass the check digit: the last digit is the one that makes it pass."""
    from portal.accounts.identifiers import is_valid_national_id

    for number in itertools.count(start):
        body = f"{'ABEFHR'[number % 6]}{1 + number % 2}{number:07d}"[:9]
        yield next(body + d for d in "0123456789" if is_valid_national_id(body + d))


# --- The plan: every row in memory as plain tuples, with its id -----------------------------


@dataclass
class Person:
    id: int
    identifier: str
    kind: str  # identifier type
    name: str
    role: str = "applicant"
    staff: bool = False


@dataclass
class Case:
    doc: str
    status: str
    change: bool
    applicant: Person
    agent: Person | None
    id: int = 0
    token: str | None = None
    created: datetime.datetime = None
    steps: list = field(default_factory=list)  # [(old, new, actor, at)]
    items: int = 0
    seed: int = 0
    original: "Case" = None  # a change: the case whose permit it changes
    changes_version: "Version" = None
    receipt_no: str | None = None
    registration_no: str | None = None
    route: str | None = None
    version: "Version" = None
    # SHTC export cases (ShtcApplication): with an end-use assurance or the reason there is
    # none (SHTC-5); a new case with one is registered (登錄中, 登錄編號 EEU…) before it is filed.
    assurance_route: str = "assurance"
    # The reviewer who has the case (Application.assignee; None: 待分派), and since when.
    assignee: "Person" = None
    assigned: datetime.datetime = None

    @property
    def destination(self):
        if self.doc == "MK":
            return ""
        if self.original is not None:  # a change exports to where its original did
            return self.original.destination
        return TARGET_DESTINATIONS.get(self.token) or COUNTRIES[self.seed % len(COUNTRIES)]

    @property
    def filer(self):
        return self.agent or self.applicant

    @property
    def submitted(self):
        return next((at for _old, new, _actor, at in self.steps if new in (IR, APP)), None)

    @property
    def approved(self):
        return self.steps[-1][3] if self.status == APP else None

    @property
    def updated(self):
        return self.steps[-1][3] if self.steps else self.created


@dataclass
class Version:
    id: int
    permit: "PermitPlan"
    number: int
    case: Case


@dataclass
class PermitPlan:
    id: int
    case: Case  # the case that created it
    permit_no: str = ""
    versions: list = field(default_factory=list)
    revoked: datetime.datetime | None = None

    @property
    def current(self):
        return self.versions[-1]


def shtc_route(case):
    """The ShtcApplication.assurance_route of an SE case, from its own seed: with an end-use
    assurance mostly, without one (SHTC-5) for a few; always with one in 登錄中 and for the
    changes (their originals are mostly with one)."""
    if case.status == REG or case.change:
        return "assurance"
    draw = random.Random(case.seed ^ 0x5A7C).random()
    return "exhibition" if draw < 0.04 else "special_approval" if draw < 0.06 else "assurance"


def item_rows(case):
    """The goods items of `case`, drawn from its own seed, so that a change repeats its
    original's lines (with other quantities) and a declaration can read them again:
    [(line_no, tariff, description, category, control_no, quantity, unit_price,
    currency, origin)]."""
    rng = random.Random(case.seed)
    rows = []
    for line in range(1, case.items + 1):
        if case.doc == "MK":
            tariff, category, description = MASK_ITEMS[rng.random() < 0.3]
            rows.append((line, tariff, description, category, "",
                         Decimal(rng.randrange(20, 500) * 1000), Decimal(rng.randrange(2, 9)),
                         rng.choice(["TWD", "TWD", "USD"]), rng.choice(["CN", "VN", "TW"])))
        else:
            tariff, description, control_no = rng.choice(SHTC_ITEMS)
            rows.append((line, tariff, description, "", control_no,
                         Decimal(rng.randrange(20, 500)), Decimal(rng.randrange(100, 5000)),
                         "USD", rng.choice(ORIGINS)))
    if case.change:  # a correction changes quantities, not the lines
        factor = Decimal(random.Random(case.seed ^ 0x5EED).choice(["1.1", "1.2", "1.5"]))
        rows = [(*row[:5], (row[5] * factor).quantize(Decimal(1)), *row[6:]) for row in rows]
    return rows


class Planner:
    def __init__(self, scale, rng, now):
        self.scale, self.rng, self.now = scale, rng, now
        self.start = now - 730 * DAY

    def make_people(self):
        """The accounts: the applicant, the agent, reviewers, other brokers, applicants."""
        rng, scale = self.rng, self.scale
        fixed = {APPLICANT, AGENT}
        ban = bans(10000000, exclude=fixed)
        ids = national_ids(1000)
        self.applicant = Person(0, APPLICANT, "ban", "安心醫材股份有限公司")
        self.agent = Person(0, AGENT, "ban", "順達報關股份有限公司", role="agent")
        self.reviewers = [Person(0, REVIEWER, "national_id", "貿易局審核員", staff=True)]
        self.reviewers += [Person(0, next(ids), "national_id", f"貿易局審核員{n}", staff=True)
                           for n in range(2, scale.reviewers + 1)]
        self.brokers = [Person(0, next(ban), "ban", f"{rng.choice(NAME_HEADS)}報關行{n}",
                               role="agent") for n in range(scale.brokers)]
        self.others = []
        for n in range(scale.applicants):
            draw = rng.random()
            if draw < 0.88:
                person = Person(0, next(ban), "ban", f"{rng.choice(NAME_HEADS)}"
                                f"{rng.choice(NAME_TAILS)}股份有限公司")
            elif draw < 0.98:
                person = Person(0, next(ids), "national_id", f"王{rng.choice('小大明志')}"
                                f"{rng.choice('華明芳豪')}{n}")
            else:
                person = Person(0, f"E{n:07d}X", "passport", f"John Smith {n}")
            self.others.append(person)
        self.people = [self.applicant, self.agent, *self.reviewers, *self.brokers,
                       *self.others]
        for number, person in enumerate(self.people, start=1):
            person.id = number
        # A few big applicants, many small ones (Pareto weights).
        weights = [rng.paretovariate(1.2) for _ in self.others]
        self.other_weights = list(itertools.accumulate(weights))

    def other(self):
        return self.others[bisect.bisect(self.other_weights,
                                         self.rng.random() * self.other_weights[-1])]

    def make_cases(self):
        rng, scale = self.rng, self.scale
        slots = [(doc, status, change) for doc, status, change, count in POOLS
                 for _ in range(max(1, round(count / scale.divisor)))]
        rng.shuffle(slots)
        by_agent_for_others = scale.agent_cases - scale.applicant_cases_by_agent
        cases = []
        for n, (doc, status, change) in enumerate(slots):
            if n < scale.applicant_cases:
                applicant = self.applicant
                agent = self.agent if n < scale.applicant_cases_by_agent else None
            elif n < scale.applicant_cases + by_agent_for_others:
                applicant, agent = self.other(), self.agent
            else:
                applicant = self.other()
                agent = rng.choice(self.brokers) if rng.random() < 0.15 else None
            cases.append(Case(doc, status, change, applicant, agent, seed=rng.getrandbits(32)))
        self.cases = cases
        self._targets()
        for case in cases:
            if case.doc == "SE" and not case.token:
                case.assurance_route = shtc_route(case)
        for case in cases:
            if not case.change:
                self._timeline(case, self._created(case))
        self._changes()
        self._items()
        self._assign()
        cases.sort(key=lambda case: (case.created, case.seed))
        for number, case in enumerate(cases, start=1):
            case.id = number
        self._numbers()

    def _targets(self):
        """The applicant's cases the pages open: the first fitting slots, given fixed
        shapes (items, route, path) so that the pages show the same at both scales."""
        mine = [case for case in self.cases if case.applicant is self.applicant
                and case.agent is None]

        def take(doc, change):
            case = next(c for c in mine if c.doc == doc and c.status == APP
                        and c.change == change and c.token is None)
            return case

        original, correction, mask = take("SE", False), take("SE", True), take("MK", False)
        original.token, original.items = TARGET_SE_ORIGINAL, 5
        correction.token, correction.original = TARGET_SE, original
        mask.token, mask.items, mask.route = TARGET_MK, 3, "declaration"
        # The SHTC targets of issue 11: the first new SE case of the applicant in the status
        # wanted, or (one hundredth of the slots may hold none) another new SE case of its
        # own not approved, moved to that status.
        for token, status in ((TARGET_SE_REGISTERED, REG), (TARGET_SE_REVIEW, IR)):
            free = [c for c in mine if c.doc == "SE" and not c.change and c.token is None
                    and c.status != APP]
            case = next((c for c in free if c.status == status), free[0])
            case.token, case.status, case.items = token, status, 5
        self.fixed = {TARGET_SE_ORIGINAL: 400 * DAY, TARGET_SE: 10 * DAY, TARGET_MK: 30 * DAY,
                      TARGET_SE_REGISTERED: 3 * DAY, TARGET_SE_REVIEW: 5 * DAY}

    def _created(self, case):
        rng = self.rng
        if case.token in self.fixed:
            return self.now - self.fixed[case.token]
        if case.status == D:  # the nightly purge deletes older untouched drafts
            return self.now - rng.uniform(0.1, 25) * DAY
        if case.status in OPEN:
            return self.now - rng.uniform(0.5, 60) * DAY
        # Closed cases over two years, more of them lately (the portal grew).
        return self.start + (self.now - self.start - 2 * DAY) * rng.random() ** 0.8

    def _timeline(self, case, created):
        """The moves of `case` from `created`, each a little after the one before, all
        before now."""
        rng = self.rng
        case.created = created
        if case.status == D:
            return
        if case.doc == "MK":
            path = [(D, case.status, "f")]  # issued at once, or a draft cancelled
        else:
            path = list(rng.choice(PATHS[case.status]))
            # An end-use assurance is registered (登錄中) before the case is filed: the EU
            # cases, and the new SE cases with one (9-1-1, SHTC-1; SHTC-5 files at once).
            if (case.doc == "EU" or case.doc == "SE" and not case.change
                    and case.assurance_route == "assurance") and case.status not in (REG, D):
                if path[0] == (D, IR, "f"):
                    path = [(D, REG, "f"), (REG, IR, "f"), *path[1:]]
                elif path[0] == (D, CAN, "f"):
                    path = [(D, REG, "f"), (REG, CAN, "f")]
        if case.token in (TARGET_SE_REGISTERED, TARGET_SE_REVIEW):
            path = [(D, REG, "f")] + ([(REG, IR, "f")] if case.status == IR else [])
        elif case.token:
            path = [(D, IR, "f"), (IR, SR, "r"), (SR, APP, "r")] if case.doc == "SE" else path
        gaps = [rng.uniform(5, 180) * MINUTE if i == 0 or who == "f" and case.doc == "MK"
                else rng.uniform(0.5, 8) * DAY for i, (_old, _new, who) in enumerate(path)]
        latest = self.now - MINUTE
        if created + sum(gaps, datetime.timedelta()) > latest:  # squeeze into the past
            room = max(latest - created, MINUTE)
            ratio = room / sum(gaps, datetime.timedelta())
            gaps = [gap * ratio for gap in gaps]
        at = created
        case.steps = []
        for (old, new, who), gap in zip(path, gaps, strict=True):
            at += gap
            actor = case.filer if who == "f" else rng.choice(self.reviewers)
            case.steps.append((old, new, actor, at))

    def _assign(self):
        """The reviewers' queues (issue 14): a case in the bureau's hands or with the applicant
        for 補件 (permits.assignment.OPEN) that a reviewer has moved stays with the last one
        who did; of those only submitted, a third wait in 待分派 and the others were taken
        by a reviewer (drawn from the case's seed, not from the generator: the rest of the
        data stays as it was). Taken halfway between submission and the reviewer's first
        move (or now)."""
        from permits.assignment import OPEN as ASSIGNABLE

        for case in self.cases:
            if case.status not in ASSIGNABLE:
                continue
            moved = [(actor, at) for _old, _new, actor, at in case.steps if actor.staff]
            if moved:
                case.assignee = moved[-1][0]
            elif case.seed % 3:
                case.assignee = self.reviewers[case.seed // 3 % len(self.reviewers)]
            else:
                continue
            submitted = case.submitted
            case.assigned = submitted + ((moved[0][1] if moved else self.now) - submitted) / 2

    def _changes(self):
        """Corrections and re-issues: each changes the newest version of a permit of the
        same applicant and document type, created after that version was issued."""
        rng = self.rng
        approved = {}
        for case in self.cases:
            if case.status == APP and not case.change:
                approved.setdefault((case.applicant.id, case.doc), []).append(case)
        by_doc = {}  # the fallback: not the applicant's, whose count is the scale's
        for (person, doc), cases in approved.items():
            if person != self.applicant.id:
                by_doc.setdefault(doc, []).extend(cases)
        # Approved changes first (they make versions), those still in review after.
        changes = sorted((case for case in self.cases if case.change),
                         key=lambda case: (case.status != APP, case.token is None))
        last_issue = {}  # original case id() -> when its newest version was issued
        self.chains = {}  # id(original) -> [changes approved, in order]
        for case in changes:
            if case.original is None:
                choices = approved.get((case.applicant.id, case.doc))
                if not choices:  # a small applicant without a permit of the kind
                    case.original = rng.choice(by_doc[case.doc])
                    case.applicant = case.original.applicant
                else:
                    case.original = rng.choice(choices)
            original = case.original
            since = last_issue.get(id(original), original.approved)
            if case.token in self.fixed:
                created = max(self.now - self.fixed[case.token], since + HOUR)
            else:
                created = min(since + rng.uniform(1 / 24, 120) * DAY, self.now - 2 * HOUR)
                created = max(created, since + MINUTE)
            self._timeline(case, created)
            if case.status == APP:
                last_issue[id(original)] = case.approved
                self.chains.setdefault(id(original), []).append(case)

    def _items(self):
        """1 to 12 items a case, about 5 on average, the total exactly the scale's: a change
        has its original's lines, so only cases nobody changed take the adjustment."""
        rng = self.rng
        for case in self.cases:
            if not case.change and not case.token:
                case.items = min(12, max(1, round(rng.gauss(5, 2.2))))
        for case in self.cases:
            if case.change:
                case.items = case.original.items
        originals = {id(case.original) for case in self.cases if case.change}
        loose = itertools.cycle([case for case in self.cases if not case.change
                                 and not case.token and id(case) not in originals])
        missing = self.scale.items - sum(case.items for case in self.cases)
        step = 1 if missing > 0 else -1
        while missing:
            case = next(loose)
            if 1 <= case.items + step <= 12:
                case.items += step
                missing -= step

    def _numbers(self):
        """收件編號 / 登錄編號 in order of the moves that give them, per document type and
        ROC year; permits and versions in order of issue; mask routes."""
        from django.utils import timezone

        rng = self.rng

        def year(moment):
            return timezone.localdate(moment).year - 1911

        self.sequences = {}

        def number(kind, doc, moment):
            key = (kind, doc, year(moment))
            self.sequences[key] = self.sequences.get(key, 0) + 1
            return f"{kind}{doc}{key[2]:03d}{self.sequences[key]:08d}"

        events = []
        for case in self.cases:
            for _old, new, _actor, at in case.steps:
                if new == REG and not case.registration_no:
                    events.append((at, "E", case))
                    case.registration_no = "pending"
                if new in (IR, APP) and not case.receipt_no:
                    events.append((at, "R", case))
                    case.receipt_no = "pending"
            if case.doc == "MK" and case.route is None:
                case.route = rng.choices([r for r, _w in ROUTES], [w for _r, w in ROUTES])[0]
        for at, kind, case in sorted(events, key=lambda event: (event[0], event[2].id)):
            if kind == "E":
                # A 登錄編號 numbers the assurance, whatever case registers it (EEU…).
                case.registration_no = number("E", "EU", at)
            else:
                case.receipt_no = number("R", case.doc, at)
        issued = sorted((case for case in self.cases if case.status == APP),
                        key=lambda case: (case.approved, case.id))
        self.permits, self.versions = [], []
        permit_of = {}
        for case in issued:
            if case.change:
                permit = permit_of[id(case.original)]
            else:
                permit = PermitPlan(len(self.permits) + 1, case,
                                    number("P", case.doc, case.approved))
                self.permits.append(permit)
                permit_of[id(case)] = permit
            version = Version(len(self.versions) + 1, permit, len(permit.versions) + 1, case)
            permit.versions.append(version)
            self.versions.append(version)
            case.version = version
        for case in self.cases:
            if case.change:
                permit = permit_of[id(case.original)]
                earlier = [v for v in permit.versions if v.case.approved < case.created]
                case.changes_version = earlier[-1]
        for permit in self.permits:
            if rng.random() < 0.015 and not permit.case.token:
                issued_at = permit.current.case.approved
                permit.revoked = issued_at + (self.now - issued_at) * rng.uniform(0.2, 0.9)


# --- Writing: COPY into the tables, ids given here -------------------------------------------


Step = collections.namedtuple("Step", "new created_at")  # what workdays.clock() reads


def stage_dues(cases):
    """{case id: Application.stage_due} of `cases`, as permits.assignment computes it (its
    stage_due(), from the cases' planned history and the rules the migrations seeded, read
    in one query): the due date of the stage each case in the bureau's hands is in."""
    from permits import assignment, workdays

    rules = workdays.load_rules()
    dues = {}
    for case in cases:
        if case.status in workdays.STAGE_OF:
            dues[case.id] = assignment.stage_due(
                status=case.status, document_type=case.doc, rules=rules,
                history=[Step(new, at) for _old, new, _actor, at in case.steps])
    return dues


def copy(model, columns, rows):
    """COPY `rows` (tuples in the order of `columns`, field names or attnames) into the
    table of `model`; every other column takes its field's default (evaluated once) or
    NULL. Returns how many rows were written."""
    from django.db import connection
    from django.db.models import JSONField
    from django.utils import timezone
    from psycopg.types.json import Jsonb

    opts = model._meta
    fields = [opts.get_field(name) for name in columns]
    given = {f.column for f in fields}
    rest = [f for f in opts.concrete_fields if f.column not in given]
    now = timezone.now()
    extra = []
    for f in rest:
        if f.primary_key:
            raise ValueError(f"{opts.label}: give the ids")
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now
        else:  # the default, "" for text without one, else None (NOT NULL refuses it)
            value = f.get_default()
        extra.append(Jsonb(value) if isinstance(f, JSONField) else value)
    extra = tuple(extra)
    json_at = [i for i, f in enumerate(fields) if isinstance(f, JSONField)]
    names = ", ".join(connection.ops.quote_name(f.column) for f in [*fields, *rest])
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {connection.ops.quote_name(opts.db_table)} ({names}) FROM STDIN") as out:
        for row in rows:
            if json_at:
                row = list(row)
                for i in json_at:
                    row[i] = Jsonb(row[i])
                row = tuple(row)
            out.write_row(row + extra)
            count += 1
    return count


class Writer:
    def __init__(self, plan, rng, now):
        self.plan, self.rng, self.now = plan, rng, now
        self.counts = {}

    def put(self, model, columns, rows):
        started = time.perf_counter()
        count = copy(model, columns, rows)
        self.counts[model._meta.label] = self.counts.get(model._meta.label, 0) + count
        if self.verbose:
            print(f"  {model._meta.label:32} {count:9,d} rows  "
                  f"{time.perf_counter() - started:6.1f} s", flush=True)

    def users(self):
        from django.contrib.auth.hashers import PBKDF2PasswordHasher
        from django.contrib.auth.models import Group

        from portal.accounts.models import REVIEWERS_GROUP, User

        # One hash for all, with the production hasher (a server under portal.settings logs
        # them in; the tests' settings list only MD5, but the bench logs in with
        # force_login).
        hasher = PBKDF2PasswordHasher()
        password = hasher.encode(PASSWORD, hasher.salt())
        rng, now = self.rng, self.now
        self.put(User, ["id", "identifier", "identifier_type", "role", "name", "address",
                        "contact_person", "phone", "email", "password", "is_staff",
                        "date_joined"],
                 ((p.id, p.identifier, p.kind, p.role, p.name, rng.choice(CITIES), "王小明",
                   f"02-{2300 + p.id % 700:04d}-{p.id % 10000:04d}",
                   f"{p.identifier.lower()}@example.com", password, p.staff,
                   now - rng.uniform(730, 1500) * DAY) for p in self.plan.people))
        group = Group.objects.get(name=REVIEWERS_GROUP)
        group.user_set.add(*[p.id for p in self.plan.reviewers])

    def applications(self):
        from masks.models import MaskApplication
        from permits.models import Application, Item, Party, ReviewEvent, StatusChange

        plan = self.plan
        kinds = {"MK": ["correction", "correction", "mismatch_correction", "cleared_correction"],
                 "SE": ["correction", "correction", "mismatch_correction", "balance_reissue"]}
        due = stage_dues(plan.cases)

        def applications():
            for case in plan.cases:
                a, g = case.applicant, case.agent
                kind = ("correction" if case.token else kinds[case.doc][case.seed % 4]) \
                    if case.change else "new"
                yield (case.id, case.doc, kind, case.status, case.receipt_no,
                       case.registration_no, a.id, g.id if g else None, a.identifier, a.name,
                       "", CITIES[a.id % len(CITIES)], "王小明", "02-2351-0000",
                       f"{a.identifier.lower()}@example.com", g.identifier if g else "",
                       g.name if g else "", "林志豪" if g else "", "03-398-0000" if g else "",
                       f"{g.identifier.lower()}@example.com" if g else "",
                       case.destination,
                       case.changes_version.id if case.changes_version else None,
                       "更正貨品數量" if case.change else "", case.token, case.created,
                       case.submitted, case.updated,
                       case.assignee.id if case.assignee else None, due.get(case.id))

        self.put(Application, [
            "id", "document_type", "kind", "status", "receipt_no", "registration_no",
            "applicant_id", "agent_id", "applicant_identifier", "applicant_name",
            "applicant_name_en", "applicant_address", "contact_person", "contact_phone",
            "company_email", "agent_identifier", "agent_name", "agent_contact_person",
            "agent_phone", "agent_email", "destination_country", "changes_id",
            "change_description", "client_token", "created_at", "submitted_at",
            "updated_at", "assignee_id", "stage_due"], applications())

        def items():
            number = 0
            for case in plan.cases:
                for line, tariff, text, category, control, quantity, price, currency, origin \
                        in item_rows(case):
                    number += 1
                    yield (number, case.id, line, tariff, text,
                           BRANDS[(case.seed + line) % len(BRANDS)],
                           f"M-{case.seed % 9000 + line}", category, control, quantity,
                           "PCE", price, currency, quantity * price, origin,
                           line if case.change else None)

        self.put(Item, ["id", "application_id", "line_no", "tariff_code", "description",
                        "brand", "model", "category", "control_no", "quantity", "unit",
                        "unit_price", "currency", "amount", "origin_country",
                        "source_line_no"], items())

        def changes():
            number = 0
            for case in plan.cases:
                for old, new, actor, at in case.steps:
                    number += 1
                    yield (number, case.id, old, new, actor.id, NOTES.get(new, ""), at)

        self.put(StatusChange, ["id", "application_id", "old", "new", "actor_id", "note",
                                "created_at"], changes())
        # Each assignment in the bureau's own history, by the reviewer who took the case.
        self.put(ReviewEvent, ["id", "application_id", "kind", "actor_id", "assignee_id",
                               "created_at"],
                 ((n, case.id, "assigned", case.assignee.id, case.assignee.id, case.assigned)
                  for n, case in enumerate((c for c in plan.cases if c.assignee), start=1)))
        self.put(MaskApplication, ["id", "application_id", "route"],
                 ((n, case.id, case.route) for n, case in enumerate(
                     (c for c in plan.cases if c.doc == "MK"), start=1)))

        def parties():
            number = 0
            for case in plan.cases:
                if case.doc == "MK":
                    continue
                country = case.destination
                roles = ["buyer", "end_user"] + (["consignee"] if case.seed % 3 == 0 else [])
                for role in roles:
                    number += 1
                    yield (number, case.id, role, f"{role.title()} Trading Co. {case.seed % 997}",
                           f"{case.seed % 300} Harbour Road", country,
                           "華南電子有限公司" if country == "CN" and role == "end_user" else "")

        self.put(Party, ["id", "application_id", "role", "name", "address", "country",
                         "name_zh"], parties())
        self.shtc_applications()
        self.attachments()
        self.required_attachments()

    def shtc_applications(self):
        """ShtcApplication of every SE case (9-1-1 writes it at 下一步, so drafts have one):
        分批 mostly, a 轉口港代碼 of the Port table for most (a seaport of a hub or of the
        destination), the end use once filed (with the basic data without an assurance), the
        end user's English website for about a third, and for the approved new cases the
        validity decided at 准件結案 with the rule's words (shtc.rules.validity on the day of
        generation: 24 months to a member of all four regimes, else 6; the five-export rule
        is not drawn). self.validity: {case id: months} for the permit versions."""
        from django.conf import settings
        from django.utils import timezone, translation

        from shtc import rules
        from shtc.models import Port, ShtcApplication

        plan = self.plan
        countries = sorted({case.destination for case in plan.cases if case.doc == "SE"})
        hubs = ["SG", "NL", "US", "JP"]
        ports = {}
        for country in {*countries, *hubs}:
            codes = list(Port.objects.filter(country=country, function__startswith="1")
                         .order_by("code").values_list("code", flat=True)[:40])
            ports[country] = codes or list(Port.objects.filter(country=country)
                                           .order_by("code").values_list("code", flat=True)[:40])
        today = timezone.localdate(self.now)
        decided = {}
        with translation.override(settings.LANGUAGE_CODE):
            for country in countries:
                for partial in (True, False):
                    # No exporter: the five-export count is not read (0, no query).
                    decided[country, partial] = rules.validity(
                        destination=country, partial_shipment=partial, exporter="",
                        importer_name="", on=today)
        self.validity = {}
        self.shtc = {}  # case id -> (分批, the end user's website)

        def rows():
            number = 0
            for case in plan.cases:
                if case.doc != "SE":
                    continue
                draw = random.Random(case.seed ^ 0x7E57)
                partial = draw.random() < 0.85 or case.token is not None
                where = case.destination if draw.random() < 0.5 else draw.choice(hubs)
                port = draw.choice(ports[where]) if ports[where] and (
                    draw.random() < 0.7 or case.token) else ""
                route = case.assurance_route
                filed = case.submitted is not None
                end_use = (f"Used in the buyer's {draw.choice(['radar', 'telecom', 'research'])}"
                           f" systems, line {case.seed % 97}; not for military or WMD use."
                           if filed or route != "assurance" else "")
                url = (f"https://www.end-user-{case.seed % 997}.example.com/"
                       if draw.random() < 0.3 and case.token != TARGET_SE_REGISTERED else "")
                months, rule = None, ""
                if case.status == APP and not case.change:
                    validity = decided[case.destination, partial]
                    months, rule = validity.months, validity.reason
                    self.validity[case.id] = months
                self.shtc[case.id] = (partial, url)
                number += 1
                yield (number, case.id, partial, port, end_use, route, url, months, rule)

        self.put(ShtcApplication, ["id", "application_id", "partial_shipment", "transit_port",
                                   "end_use", "assurance_route", "end_user_url",
                                   "validity_months", "validity_rule"], rows())

    def attachments(self):
        from permits.models import Attachment

        plan = self.plan

        def rows():
            number = 0
            for case in plan.cases:
                if case.doc == "MK" or not case.steps or (case.seed % 10 >= 3
                                                          and not case.token):
                    continue
                for n in range(1 + case.seed % 2):
                    number += 1
                    digest = hashlib.sha256(f"{case.id}-{n}".encode()).hexdigest()
                    yield (number, f"attachments/bench/{digest[:32]}",
                           ["end-user-statement.pdf", "catalogue.pdf"][n], "application/pdf",
                           40000 + case.seed % 500000, digest, case.filer.id,
                           case.steps[0][3] - MINUTE, case.id, ["other", "supplement"][n])

        self.put(Attachment, ["id", "file", "original_name", "content_type", "size", "sha256",
                              "uploaded_by_id", "uploaded_at", "application_id",
                              "document_kind"], rows())

    def required_attachments(self):
        """The documents SHTC-2 requires of each SE case (shtc/requirements.py, from its
        route, destination, website and the origins of its items), uploaded by its filer:
        all of them before it was filed, a part of them for one in 登錄中 (the registered
        target: three, the rest shown missing); none for drafts or cases cancelled unfiled."""
        from permits.models import Attachment
        from shtc import requirements, rules

        plan = self.plan
        needing = set(rules.countries_needing_reexport_approval())
        start = self.counts.get(Attachment._meta.label, 0)

        def required(case):
            if case.assurance_route != "assurance":
                return requirements.route_documents(case.assurance_route)
            kinds = ["assurance", "red_flag_affidavit", "catalogue", "transaction"]
            if not self.shtc[case.id][1]:
                kinds.append("end_user_profile")
            if case.destination in rules.BUSINESS_LICENCE_COUNTRIES:
                kinds.append("business_licence")
            origins = {row[8] for row in item_rows(case)} - {requirements.DOMESTIC_ORIGIN}
            if origins:
                kinds.append("import_declaration")
                if any(origin in needing and origin != case.destination for origin in origins):
                    kinds.append("reexport_approval")
            return kinds

        def rows():
            number = start
            for case in plan.cases:
                if case.doc != "SE" or not case.steps:
                    continue
                filed = next((at for _old, new, _actor, at in case.steps if new == IR), None)
                if filed is not None:
                    kinds, at = required(case), filed - 30 * MINUTE
                elif case.status == REG:
                    kinds = required(case)[:3 if case.token else case.seed % 5]
                    at = case.steps[0][3] + 10 * MINUTE
                else:
                    continue
                for kind in kinds:
                    number += 1
                    digest = hashlib.sha256(f"{case.id}-{kind}".encode()).hexdigest()
                    yield (number, f"attachments/bench/{digest[:32]}", f"{kind}.pdf",
                           "application/pdf", 30000 + case.seed % 400000, digest,
                           case.filer.id, min(at, self.now - MINUTE), case.id, kind)

        self.put(Attachment, ["id", "file", "original_name", "content_type", "size", "sha256",
                              "uploaded_by_id", "uploaded_at", "application_id",
                              "document_kind"], rows())

    def permits(self):
        from dateutil.relativedelta import relativedelta
        from django.utils import timezone

        from permits.models import PermitRevocation, PermitVersion

        plan, rng = self.plan, self.rng
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        self.first = {}  # permit id -> [first cleared, first released] (declarations())
        self._permit_rows = [
            (p.id, p.permit_no, p.case.doc, p.case.applicant.id,
             "".join(rng.choice(alphabet) for _ in range(8)), p.revoked, p.case.approved)
            for p in plan.permits]

        def versions():
            for v in plan.versions:
                start = timezone.localdate(v.case.approved)
                # An SE permit: the validity decided for the case that created it, and its 分批.
                months = self.validity.get(v.permit.case.id, 6)
                partial = self.shtc.get(v.case.id, (True, ""))[0]
                yield (v.id, v.permit.id, v.number, v.case.id, v.case.approved, start,
                       start + relativedelta(months=months) - DAY, partial)

        self.put(PermitVersion, ["id", "permit_id", "version", "application_id", "issued_at",
                                 "valid_from", "valid_until", "partial_shipment"], versions())
        self.put(PermitRevocation, ["id", "permit_id", "reason", "actor_id", "created_at"],
                 ((n, p.id, "申請人申請註銷，餘額不再使用。", plan.reviewers[0].id, p.revoked)
                  for n, p in enumerate((p for p in plan.permits if p.revoked), start=1)))

    def permit_table(self):
        """The permits, written after the declarations: first cleared / released known."""
        from permits.models import Permit

        self.put(Permit, ["id", "permit_no", "document_type", "holder_id", "verification_code",
                          "revoked_at", "created_at", "first_cleared_at", "first_released_at"],
                 (row + tuple(self.first.get(row[0], (None, None)))
                  for row in self._permit_rows))

    def declarations(self):
        """Declarations citing the permits (imports the masks imported through one, exports
        the SHTC ones), 1 to 4 items each within the permit's lines; their matching results;
        the ledger: releases of the matched ones, reversed for those customs cancelled; the
        write-offs without a declaration of the other mask permits."""
        from django.utils import timezone

        from reconciliation.models import (
            Declaration,
            DeclarationItem,
            FeedCounter,
            LedgerEntry,
            MatchResult,
        )

        plan, rng, now = self.plan, self.rng, self.now
        today = timezone.localdate(now)
        cited = [p for p in plan.permits if p.case.doc == "SE"
                 or p.case.doc == "MK" and p.case.route == "declaration"]
        target_se = next(p for p in plan.permits if p.case.token == TARGET_SE_ORIGINAL)
        target_mk = next(p for p in plan.permits if p.case.token == TARGET_MK)
        # The targets' declarations first, fixed; then the others drawn over the permits.
        chosen = [target_se, target_se, target_mk]
        others = [p for p in cited if p not in (target_se, target_mk)]
        chosen += [rng.choice(others) for _ in range(self.plan.scale.declarations - 3)]
        used = {}  # (permit id, line) -> quantity released
        decls, lines, results, ledger = [], [], [], []
        self.releases = {}  # declaration id -> [(ledger id, when, quantity)]
        seq = item_id = ledger_id = 0
        serial = itertools.count(1)
        for number, permit in enumerate(chosen, start=1):
            version = permit.current
            items = item_rows(version.case)
            first_day = timezone.localdate(version.case.approved)
            last_day = min(today, first_day + datetime.timedelta(days=182))
            declared_on = first_day + (last_day - first_day) * rng.random()
            received = max(datetime.datetime.combine(
                declared_on, datetime.time(9), timezone.get_current_timezone())
                + rng.uniform(0, 8) * HOUR, version.case.approved + MINUTE)
            received = min(received, now - MINUTE)
            target = number <= 3
            imported = permit.case.doc == "MK"
            if target:
                result = ["match", "mismatch", "match"][number - 1]
                revision, cancelled = 0, None
            else:
                draw = rng.random()
                result = "pending" if draw < 0.05 else "mismatch" if draw < 0.15 else "match"
                revision = 1 if rng.random() < 0.03 else 0
                cancelled = (received + rng.uniform(1, 20) * DAY
                             if rng.random() < 0.01 else None)
                cancelled = min(cancelled, now) if cancelled else None
            case = version.case
            broker = case.agent or (plan.agent if rng.random() < 0.5 else None)
            decls.append((number, f"{'AM' if imported else 'AW'}{declared_on.year - 1911:03d}"
                          f"{next(serial):09d}", "import" if imported else "export",
                          declared_on, case.applicant.identifier,
                          broker.identifier if broker else "", permit.permit_no, permit.id,
                          revision, cancelled, result, received, received))
            first = self.first.setdefault(permit.id, [received, None])
            first[0] = min(first[0], received)
            count = len(items) if target else rng.randint(1, min(4, len(items)))
            picked = items[:count] if target else rng.sample(items, count)
            released = result == "match" and (target or rng.random() < (0.95 if imported
                                                                        else 0.8))
            when = min(received + rng.uniform(1, 72) * HOUR, now - MINUTE)
            for item_no, (line, tariff, text, _cat, _ctl, quantity, price, currency, _o) \
                    in enumerate(picked, start=1):
                left = quantity - used.get((permit.id, line), 0)
                share = (quantity * Decimal(rng.uniform(0.02, 0.2))).quantize(Decimal(1))
                share = max(Decimal(1), min(share, left))
                if result == "mismatch" and item_no == 1:
                    tariff = "85423900004" if tariff != "85423900004" else "85423100003"
                item_id += 1
                lines.append((item_id, number, item_no, tariff, text, share, "PCE",
                              share * price, currency, line))
                if released and left >= share:
                    used[(permit.id, line)] = used.get((permit.id, line), 0) + share
                    ledger_id += 1
                    ledger.append((ledger_id, permit.id, line, share, "release", item_id, None,
                                   decls[-1][1], None, when))
                    self.releases.setdefault(number, []).append((ledger_id, when, share,
                                                                 permit.id))
            if released and number in self.releases:
                first[1] = min(first[1] or when, when)
                if cancelled:
                    for entry_id, _when, share, _permit in self.releases.pop(number):
                        ledger_id += 1
                        ledger.append((ledger_id, permit.id,
                                       ledger[entry_id - 1][2], -share, "reversal",
                                       ledger[entry_id - 1][5], entry_id, decls[-1][1],
                                       None, max(cancelled, when + MINUTE)))
            if result != "pending":
                for rev in range(revision + 1):
                    seq += 1
                    reasons = ([{"code": "tariff_code", "item_no": 1,
                                 "message": MISMATCH_REASON},
                                {"code": "currency", "item_no": 1,
                                 "message": "幣別與許可證不符"}] if result == "mismatch" else [])
                    results.append((seq, number, rev, result, reasons, version.id, seq,
                                    min(received + (rev + 1) * MINUTE, now)))
        self.put(Declaration, ["id", "number", "direction", "declared_on",
                               "declarant_identifier", "broker_identifier", "permit_no",
                               "permit_id", "revision", "cancelled_at", "result", "received_at",
                               "updated_at"], decls)
        self.declaration_rows = {row[0]: row for row in decls}
        self.put(DeclarationItem, ["id", "declaration_id", "item_no", "tariff_code",
                                   "description", "quantity", "unit", "value", "currency",
                                   "permit_item_no"], lines)
        self.put(MatchResult, ["id", "declaration_id", "revision", "result", "reasons",
                               "permit_version_id", "seq", "created_at"], results)
        FeedCounter.objects.update_or_create(pk=1, defaults={"last": seq})
        ledger += self.write_offs(ledger_id, used)
        self.put(LedgerEntry, ["id", "permit_id", "line_no", "quantity", "kind",
                               "declaration_item_id", "reverses_id", "reference", "actor_id",
                               "created_at"], ledger)

    def write_offs(self, ledger_id, used):
        """非報單輸入口罩核銷 of most mask permits imported without a declaration: a WriteOff
        per permit with its ledger entries (one per line)."""
        from masks.models import WriteOff

        plan, rng, now = self.plan, self.rng, self.now
        rows, ledger = [], []
        self.write_off_sources = {}  # permit id -> (when, cleared)
        for permit in plan.permits:
            case = permit.current.case
            if permit.case.doc != "MK" or permit.case.route == "declaration" \
                    or rng.random() < 0.4:
                continue
            when = min(case.approved + rng.uniform(1, 30) * DAY, now - MINUTE)
            number = len(rows) + 1
            totals = {"medical": Decimal(0), "non_medical": Decimal(0)}
            for line, _tariff, _text, category, _ctl, quantity, *_rest in item_rows(case):
                share = (quantity * Decimal(rng.uniform(0.3, 1))).quantize(Decimal(1))
                totals[category] += share
                ledger_id += 1
                ledger.append((ledger_id, permit.id, line, share, "write_off", None, None,
                               f"MWO{number:08d}", case.filer.id, when))
            rows.append((number, permit.id, permit.case.route, totals["medical"],
                         totals["non_medical"], case.filer.id, when))
            self.write_off_sources[permit.id] = (when, sum(totals.values()))
            first = self.first.setdefault(permit.id, [None, None])
            first[1] = first[1] or when
        self.put(WriteOff, ["id", "permit_id", "route", "medical_quantity",
                            "non_medical_quantity", "actor_id", "created_at"], rows)
        return ledger

    def stock(self):
        """The mask stock as stock_reports_refresh leaves it: a StockReport per source with
        something cleared; flows on four in ten (the target's: five, two not declared),
        their documents, a few returns."""
        from django.utils import timezone

        from masks.models import Flow, FlowDocument, FlowReturn, StockReport

        plan, rng, now = self.plan, self.rng, self.now
        holder = {p.id: p.case.applicant.id for p in plan.permits}
        target_permit = next(p.id for p in plan.permits if p.case.token == TARGET_MK)
        sources = []  # (declaration id or None, permit id, cleared, first cleared)
        for number, entries in self.releases.items():
            row = self.declaration_rows[number]
            if row[2] == "import":
                sources.append((number, row[7], sum(e[2] for e in entries),
                                min(e[1] for e in entries)))
        for permit_id, (when, cleared) in self.write_off_sources.items():
            sources.append((None, permit_id, cleared, when))
        reports, flows, documents, returns = [], [], [], []
        for number, (declaration, permit_id, cleared, since) in enumerate(sources, start=1):
            target = permit_id == target_permit and declaration is not None
            allocated = declared = Decimal(0)
            count = 5 if target else (rng.randint(1, 4) if rng.random() < 0.4 else 0)
            budget = cleared * Decimal(rng.uniform(0.4, 0.95))
            first_day = timezone.localdate(since)
            for n in range(count):
                quantity = (budget / count).quantize(Decimal(1))
                if quantity < 1:
                    break
                day = first_day + (timezone.localdate(now) - first_day) * rng.random()
                created = min(max(datetime.datetime.combine(
                    day, datetime.time(10), timezone.get_current_timezone()), since + HOUR),
                    now - MINUTE)
                pending = n >= count - (2 if target else rng.random() < 0.3)
                declared_at = None if pending else min(created + rng.uniform(1, 48) * HOUR,
                                                       now)
                category = FLOW_CATEGORIES[(number + n) % len(FLOW_CATEGORIES)]
                returned = Decimal(0)
                if declared_at and (rng.random() < 0.05 or target and n == 0):
                    returned = (quantity / 10).quantize(Decimal(1))
                    returns.append((len(returns) + 1, len(flows) + 1, returned,
                                    holder[permit_id], declared_at + HOUR,
                                    min(declared_at + 2 * HOUR, now)))
                flows.append((len(flows) + 1, number, category, quantity, day,
                              f"{rng.choice(NAME_HEADS)}診所" if category != "own_use" else "",
                              returned, holder[permit_id], created, declared_at))
                if category != "own_use":
                    documents.append((len(documents) + 1, f"mask-flows/bench/{number}-{n}",
                                      FLOW_DOCUMENT, "application/pdf", 52000, "0" * 64,
                                      holder[permit_id], created, len(flows)))
                allocated += quantity - returned
                if declared_at:
                    declared += quantity - returned
            reports.append((number, permit_id, declaration, holder[permit_id], cleared,
                            allocated, declared, now))
        self.put(StockReport, ["id", "permit_id", "declaration_id", "holder_id", "cleared",
                               "allocated", "declared", "refreshed_at"], reports)
        self.put(Flow, ["id", "report_id", "category", "quantity", "date", "counterparty",
                        "returned", "actor_id", "created_at", "declared_at"], flows)
        self.put(FlowDocument, ["id", "file", "original_name", "content_type", "size",
                                "sha256", "uploaded_by_id", "uploaded_at", "flow_id"],
                 documents)
        self.put(FlowReturn, ["id", "flow_id", "quantity", "actor_id", "created_at",
                              "declared_at"], returns)

    def sequences(self):
        """The number counters past the numbers given, and every id sequence past its
        table's ids, so that the portal goes on from here."""
        from django.apps import apps
        from django.core.management.color import no_style
        from django.db import connection

        from permits.models import NumberSequence

        NumberSequence.objects.bulk_create(
            [NumberSequence(kind=kind, document_type=doc, roc_year=year, last=last)
             for (kind, doc, year), last in self.plan.sequences.items()],
            update_conflicts=True, unique_fields=["kind", "document_type", "roc_year"],
            update_fields=["last"])
        written = [apps.get_model(label) for label in self.counts]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), written):
                cursor.execute(sql)


def generate(scale_name, *, seed=2026, verbose=True):
    """Write the data of `scale_name` into the (migrated, empty) default database. Returns
    {model label: rows}."""
    from django.db import connection, transaction
    from django.utils import timezone

    scale = SCALES[scale_name]
    rng = random.Random(seed)
    now = timezone.now().replace(microsecond=0)
    started = time.perf_counter()
    plan = Planner(scale, rng, now)
    plan.make_people()
    plan.make_cases()
    if verbose:
        print(f"planned {len(plan.cases):,d} cases in {time.perf_counter() - started:.1f} s",
              flush=True)
    writer = Writer(plan, rng, now)
    writer.verbose = verbose
    with transaction.atomic():
        # The foreign keys are DEFERRABLE INITIALLY DEFERRED: checked once, at commit.
        writer.users()
        writer.applications()
        writer.permits()
        writer.declarations()
        writer.permit_table()
        writer.stock()
        writer.sequences()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    if verbose:
        print(f"generated in {time.perf_counter() - started:.1f} s", flush=True)
    return writer.counts


def targets():
    """What bench/pages.py opens, read from the database (pks differ between scales)."""
    from django.utils import timezone

    from masks.models import StockReport
    from permits.models import Application
    from portal.dates import to_roc
    from reconciliation.models import Declaration

    se = Application.objects.get(client_token=TARGET_SE)
    mk = Application.objects.get(client_token=TARGET_MK)
    registered = Application.objects.get(client_token=TARGET_SE_REGISTERED)
    review = Application.objects.get(client_token=TARGET_SE_REVIEW)
    original = Application.objects.get(client_token=TARGET_SE_ORIGINAL)
    permit = original.issued_version.permit
    today = timezone.localdate()
    return {
        "se": se.pk, "mk": mk.pk,
        "se_registered": registered.pk, "se_registered_no": registered.registration_no,
        "se_review": review.pk,
        "declaration": Declaration.objects.filter(permit=permit, result="mismatch")
        .order_by("pk").values_list("number", flat=True).first(),
        "stock": StockReport.objects.filter(permit=mk.issued_version.permit,
                                            declaration__isnull=False).get().pk,
        "year_from": to_roc(today - datetime.timedelta(days=364)), "year_to": to_roc(today),
    }


# --- The named database ----------------------------------------------------------------------


def database_url(name, base=None):
    """DATABASE_URL (or `base`) with the database `name` instead of its own."""
    parts = urlsplit(base or os.environ.get("DATABASE_URL") or
                     "postgres://eportal:eportal@127.0.0.1:5432/eportal")
    return urlunsplit(parts._replace(path=f"/{name}"))


def prepare(name, *, reset=False):
    """Create database `name` if needed (dropped first with `reset`) and migrate it. Returns
    whether it holds the data already. Django must be set up with DATABASE_URL on `name`."""
    from django.core.management import call_command
    from django.db import connection

    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cursor.fetchone() is not None
        if exists and reset:
            # No FORCE: a process still using it (someone's bench) makes this fail loudly.
            cursor.execute(f"DROP DATABASE {connection.ops.quote_name(name)}")
            exists = False
        if not exists:
            cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")
    call_command("migrate", verbosity=0, interactive=False)
    from permits.models import Application

    return Application.objects.exists()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="large")
    parser.add_argument("--db", help="database name (default bench_pages_<scale>)")
    parser.add_argument("--reset", action="store_true",
                        help="drop the database first and generate it again")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    name = args.db or f"bench_pages_{args.scale}"
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to the PostgreSQL server (any database on it).")
    os.environ["DATABASE_URL"] = database_url(name)

    import django

    django.setup()
    started = time.perf_counter()
    if prepare(name, reset=args.reset):
        print(f"{name} already holds the data (migrated); --reset generates it again.")
        return
    counts = generate(args.scale, seed=args.seed)
    print(f"{name}: " + ", ".join(f"{label.split('.')[1]} {count:,d}"
                                  for label, count in counts.items()))
    print(f"total {time.perf_counter() - started:.1f} s (with migrate)")
    print(f"use it: DATABASE_URL={os.environ['DATABASE_URL']}")


if __name__ == "__main__":
    main()

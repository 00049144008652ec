"""WCAG 2.1 AA in every browser test (issue 15): axe-core audits every page a test loads.

axe-core is the npm package pinned in tests/browser/package.json (installed into
tests/browser/node_modules by `make test` or `make axe`; never fetched at run time). The
page fixture (tests/browser/conftest.py) hands each new page to an `Auditor`, which runs axe
on every document the page loads and once more on what the page shows when the test ends; a
document the test left before its audit could run is fetched again (its URL) at the end. The test
fails listing every violation with its page. The script goes in through Playwright's
evaluate, which the pages' Content-Security-Policy does not govern, so auditing adds no
violation of its own to the policy's tests.
"""

import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SUMMARY = ROOT / "var" / "axe-pages.txt"

# What the session audited, for the summary: page (its path, ids as <n>) -> audits.
AUDITED = Counter()
RULES = set()

_RUN = """async (tags) => {
  if (document.contentType !== "text/html") return null;
  // No preload: axe would copy the page's style sheets into a document of its own, which
  // the Content-Security-Policy refuses; only css-orientation-lock needs them (and no style
  // sheet the portal or the admin loads has an orientation media query).
  // One run at a time in a page (an audit asked for while the load's own still runs waits).
  while (window.__axeRun) {
    try { await window.__axeRun; } catch (error) { /* the other audit's to report */ }
  }
  window.__axeRun = axe.run(document, {runOnly: {type: "tag", values: tags},
                                       resultTypes: ["violations"], preload: false});
  let results;
  try { results = await window.__axeRun; } finally { window.__axeRun = null; }
  return {
    url: location.href,
    title: document.title,
    rules: axe.getRules(tags).map((rule) => rule.ruleId),
    violations: results.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
    })),
  };
}"""

# The page went away while it was audited: its document is fetched again at the end.
_GONE = ("Execution context was destroyed", "Target page, context or browser has been closed",
         "Cannot find context", "navigation", "Target closed")


def require_axe():
    """axe-core must be there: a suite that cannot audit fails, never skips."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing ({AXE}): run `make axe` "
                    "(npm ci in tests/browser)", pytrace=False)
    return AXE.read_text(encoding="utf-8")


def page_key(url):
    """The page an URL shows, for counting distinct pages: its path with ids as <n>."""
    path = urlsplit(url).path
    return re.sub(r"/\d+(?=/|$)", "/<n>", path) or "/"


class Auditor:
    """axe on every document the pages of one test load, and on each page at its end."""

    def __init__(self):
        self.source = require_axe()
        self.exempt = []  # paths a test serves itself on purpose (a CSP probe, say)
        self.findings = []  # (url, title, violation)
        self.audits = 0
        self.counted = True  # in the session's count of pages (not a test's own probe)
        self.watched = []
        self.seen = set()  # the URLs audited
        self.documents = []  # (context, URL) of each document a page was sent by GET

    def watch(self, page):
        if page not in self.watched:
            self.watched.append(page)
            page.on("load", lambda: self.audit(page))
            page.on("response", lambda response: self.shown(page, response))
        return page

    def shown(self, page, response):
        """Note each document the page is sent (GET, not a redirect): one the test leaves
        before its audit runs (a goto right after another) is fetched again at the end."""
        request = response.request
        headers = response.headers
        # Pages only: a download (an export, a PDF) is not a document axe can read, and
        # fetching it again would start the download again.
        html = (headers.get("content-type", "").startswith("text/html")
                and "attachment" not in headers.get("content-disposition", ""))
        if (request.is_navigation_request() and request.method == "GET" and html
                and not 300 <= response.status < 400 and request.frame == page.main_frame):
            self.documents.append((page.context, response.url))

    def skip(self, path):
        self.exempt.append(path)

    def audit(self, page):
        if page.is_closed():
            return
        url = page.url
        split = urlsplit(url)
        if split.scheme not in ("http", "https"):
            return
        if any(split.path.startswith(path) for path in self.exempt):
            return
        try:
            if not page.evaluate("typeof window.axe === 'object'"):
                page.evaluate(self.source)
            result = page.evaluate(_RUN, TAGS)
        except Exception as error:  # noqa: BLE001 - only a page that went away is passed over
            if any(text in str(error) for text in _GONE):
                return  # the test moved on: the document is fetched again at the end
            raise
        if result is None:
            return
        self.audits += 1
        self.seen.add(url)
        if self.counted:
            AUDITED[page_key(result["url"])] += 1
        RULES.update(result["rules"])
        for violation in result["violations"]:
            self.findings.append((result["url"], result["title"], violation))

    def finish(self, pages):
        """Audit what each page shows now; fail listing every violation found in the test."""
        for page in pages:
            self.audit(page)
        for context, url in list(self.documents):
            if url in self.seen or any(urlsplit(url).path.startswith(path)
                                       for path in self.exempt):
                continue
            again = context.new_page()  # watched too (the context's "page" event)
            again.goto(url)
            if url not in self.seen:
                self.audit(again)
            again.close()
        if self.findings:
            pytest.fail(self.report(), pytrace=False)

    def report(self):
        lines = [f"WCAG 2.1 AA violations (axe-core, tags {', '.join(TAGS)}):"]
        seen = set()
        for url, title, violation in self.findings:
            for node in violation["nodes"]:
                key = (page_key(url), violation["id"], node["target"])
                if key in seen:
                    continue
                seen.add(key)
                summary = " ".join(node["summary"].split())
                lines.append(f"  {url} [{title}] {violation['id']} ({violation['impact']}): "
                             f"{node['target']}: {summary[:300]}")
        return "\n".join(lines)


def write_summary(terminal=None):
    """var/axe-pages.txt: how many distinct pages the session audited, and which."""
    if not AUDITED:
        return
    SUMMARY.parent.mkdir(exist_ok=True)
    lines = [f"{len(AUDITED)} distinct pages audited by axe-core, {sum(AUDITED.values())} "
             f"audits, {len(RULES)} rules ({', '.join(TAGS)})", ""]
    lines += [f"{count:4d}  {key}" for key, count in sorted(AUDITED.items())]
    lines += ["", "rules: " + " ".join(sorted(RULES))]
    SUMMARY.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if terminal is not None:
        terminal.write_line(f"axe-core: {lines[0]} (list in {SUMMARY.relative_to(ROOT)})")

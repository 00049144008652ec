"""Playwright driving Debian's Chromium (/usr/bin/chromium) against pytest-django's live
server. No browser is downloaded: Playwright only drives the system one. Every page a test
loads is audited by axe-core for WCAG 2.1 AA (tests/browser/axe.py)."""

from pathlib import Path

import pytest

from tests import services
from tests.browser.axe import Auditor

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture
def browser():
    """One Chromium per test, gone again before the test database is flushed."""
    services.require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=services.CHROMIUM,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def axe():
    """The test's axe-core auditor (a test serving a page of its own on purpose exempts it:
    axe.skip(path))."""
    return Auditor()


@pytest.fixture
def page(browser, request, axe):
    context = browser.new_context(locale="zh-TW", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    context.on("page", axe.watch)  # pages the test opens besides this one
    page = axe.watch(context.new_page())
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    try:
        axe.finish(context.pages)
    finally:
        context.close()

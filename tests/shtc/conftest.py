# Fixtures of other test folders used here too: customs messages with their matching run
# (reconciliation), Playwright's Chromium (browser).
from tests.browser.conftest import browser, page  # noqa: F401
from tests.reconciliation.conftest import receive  # noqa: F401

# Fixtures of other test folders used here too: customs messages with their matching run
# (reconciliation), Playwright's Chromium (browser); SHTC cases through the review.
from tests.browser.conftest import axe, browser, page  # noqa: F401
from tests.reconciliation.conftest import receive  # noqa: F401
from tests.shtc.review_cases import shtc_case, shtc_release  # noqa: F401

"""The ROC (Minguo) calendar the manuals show dates in: year − 1911, so 2020-09-12 is 109/09/12."""

import datetime
import re

ROC_OFFSET = 1911

# 109/09/12, 109-09-12, 109.09.12 and 1090912 are ROC (1 to 3 digit year);
# 2020-09-12 and 2020/09/12 are Gregorian (4 digit year).
_SEPARATED = re.compile(r"^(\d{1,4})[/\-.](\d{1,2})[/\-.](\d{1,2})$")
_COMPACT_ROC = re.compile(r"^(\d{2,3})(\d{2})(\d{2})$")


def _date(value):
    return value.date() if isinstance(value, datetime.datetime) else value


def to_roc(value, sep="/"):
    """109/09/12 for 2020-09-12; '' for None."""
    if value is None:
        return ""
    value = _date(value)
    return f"{value.year - ROC_OFFSET:03d}{sep}{value.month:02d}{sep}{value.day:02d}"


def to_roc_long(value):
    """民國109年9月12日; '' for None."""
    if value is None:
        return ""
    value = _date(value)
    return f"民國{value.year - ROC_OFFSET}年{value.month}月{value.day}日"


def parse(text):
    """A date from ROC or Gregorian text; ValueError if it is neither or does not exist."""
    text = (text or "").strip()
    match = _SEPARATED.match(text)
    if match:
        year_text, month, day = match.groups()
        year = int(year_text)
        if len(year_text) <= 3:
            year += ROC_OFFSET
    else:
        match = _COMPACT_ROC.match(text)
        if not match:
            raise ValueError(text)
        year, month, day = int(match.group(1)) + ROC_OFFSET, match.group(2), match.group(3)
    if year <= ROC_OFFSET:  # ROC year 0 does not exist
        raise ValueError(text)
    return datetime.date(year, int(month), int(day))

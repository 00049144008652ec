"""Charts drawn on the server as inline SVG (issue 14 point 7: the reviewers' statistics), as
the mask stock page draws its bars (masks.views._chart_bars): no JavaScript, no CDN.

bar_chart() draws one or more series of values over the same categories as grouped bars
(the weeks of a window, the procedures of a table). The chart is an image to assistive
technology (role="img", named by its <title> and described by its <desc>); the page shows
the same figures as a table for whoever cannot see it. The portal's Content Security Policy
forbids inline styles: colours come from classes (`chart-series-<n>`, static/permits/css/
statistics.css), sizes from SVG attributes.
"""

import html
import math
from dataclasses import dataclass

from django.utils.safestring import mark_safe

# The drawing's own units (the viewBox): the SVG scales to its container's width.
WIDTH = 720
HEIGHT = 260
LEFT = 44  # room for the value axis's labels
RIGHT = 8
TOP = 12
BOTTOM = 40  # room for the categories' labels
# Category labels drawn at most (a ROC date is about 60 units wide): every `step`-th one
# (12 weeks: 1 in 2; 52 weeks: 1 in 7).
MAX_LABELS = 8


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple  # one number a category (None or 0: no bar)


def _number(value):
    """A coordinate as SVG reads it: at most two decimals, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def plain_number(value):
    """A figure as the axis and the bars' titles say it: 2500, 3.5 (never 2500.0)."""
    return str(int(value)) if value == int(value) else f"{value:.1f}"


def nice_top(largest):
    """The value axis's top: `largest` rounded up to 1, 2, 2.5 or 5 times a power of ten (0:
    1, so that an empty chart still has an axis)."""
    if largest <= 0:
        return 1
    power = 10 ** math.floor(math.log10(largest))
    for factor in (1, 2, 2.5, 5, 10):
        if largest <= factor * power:
            top = factor * power
            return int(top) if top == int(top) else top
    return 10 * power  # pragma: no cover (the loop ends at 10 x power >= largest)


def bar_chart(*, chart_id, title, description, categories, series,
              value_format=plain_number):
    """The SVG of `series` (Series) over `categories` (their labels) as grouped bars, a bar's
    height proportional to its value (the axis from 0 to nice_top() of the largest), with the
    legend and each bar's figure in its own <title> (shown on hover). `chart_id` makes the ids
    of the title and description unique on the page."""
    escape = html.escape
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    values = [value or 0 for each in series for value in each.values]
    top = nice_top(max(values, default=0))
    count = max(len(categories), 1)
    slot = plot_width / count
    bar = slot * 0.8 / max(len(series), 1)
    baseline = TOP + plot_height
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(str(title))}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(str(description))}</desc>',
    ]
    # The value axis: 0, half and the top, with a light grid line each.
    for share in (0, 0.5, 1):
        y = baseline - share * plot_height
        parts.append(f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
                     f'y1="{_number(y)}" y2="{_number(y)}"/>')
        parts.append(f'<text class="chart-axis" x="{LEFT - 4}" y="{_number(y + 4)}" '
                     f'text-anchor="end">{escape(value_format(top * share))}</text>')
    step = math.ceil(count / MAX_LABELS)
    for index, label in enumerate(categories):
        x = LEFT + index * slot
        for number, each in enumerate(series):
            value = each.values[index] or 0
            height = value / top * plot_height
            parts.append(
                f'<rect class="chart-bar chart-series-{number}" '
                f'x="{_number(x + slot * 0.1 + number * bar)}" '
                f'y="{_number(baseline - height)}" width="{_number(bar)}" '
                f'height="{_number(height)}" data-value="{escape(str(value))}">'
                f'<title>{escape(str(label))} · {escape(str(each.label))}: '
                f'{escape(value_format(value))}</title></rect>')
        if index % step == 0:
            parts.append(f'<text class="chart-axis" x="{_number(x + slot / 2)}" '
                         f'y="{baseline + 16}" text-anchor="middle">{escape(str(label))}</text>')
    parts.append(f'<line class="chart-baseline" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
                 f'y1="{baseline}" y2="{baseline}"/>')
    # The legend, under the categories: a swatch and the series' name each.
    for number, each in enumerate(series):
        x = LEFT + number * 180
        parts.append(f'<rect class="chart-series-{number}" x="{x}" y="{HEIGHT - 14}" '
                     f'width="10" height="10"/>')
        parts.append(f'<text class="chart-legend" x="{x + 14}" y="{HEIGHT - 5}">'
                     f'{escape(str(each.label))}</text>')
    parts.append("</svg>")
    return mark_safe("\n".join(parts))  # noqa: S308 (every value escaped)

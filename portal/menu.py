"""The menu of procedures on the home page, named as in the manuals.

Each app registers its own entries in its AppConfig.ready(), so an entry appears exactly
when the procedure behind it exists: no dead links.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.text import format_lazy


@dataclass(frozen=True)
class Entry:
    section: str
    label: str
    url_name: str
    order: int = 100
    staff_only: bool = False
    # Procedures that only applicants and agents file (bureau staff work in the admin).
    users_only: bool = False

    @property
    def url(self):
        return reverse(self.url_name)


_entries: list[Entry] = []


def path(*labels):
    """A menu path for a sentence, "申辦/核銷查詢 → 申辦狀況查詢作業(含列印)", in the language the
    sentence is read in (lazy): pass the section's and the entry's labels (gettext_lazy)."""
    return format_lazy(" → ".join(["{}"] * len(labels)), *labels)


def register(*, section, label, url_name, order=100, staff_only=False, users_only=False):
    entry = Entry(section=section, label=label, url_name=url_name, order=order,
                  staff_only=staff_only, users_only=users_only)
    if entry not in _entries:
        _entries.append(entry)


_panels: list = []


def register_panel(*, template_name, context, order=100):
    """A box on the home page above the menu (e.g. the cases that need the user):
    `context(request)` returns its template context, or None to leave it out."""
    if (template_name, context) not in [(t, c) for _o, t, c in _panels]:
        _panels.append((order, template_name, context))


def panels_for(request):
    """[(template_name, context)] of the panels that have something to show."""
    shown = []
    for _order, template_name, context in sorted(_panels, key=lambda p: p[0]):
        data = context(request)
        if data is not None:
            shown.append((template_name, data))
    return shown


def sections_for(user):
    """[(section, [entries])] in registration order of sections, entries by `order`."""
    sections: dict[str, list[Entry]] = {}
    for entry in sorted(_entries, key=lambda e: e.order):
        if (entry.staff_only and not user.is_staff) or (entry.users_only and user.is_staff):
            continue
        sections.setdefault(entry.section, []).append(entry)
    return list(sections.items())

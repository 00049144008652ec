"""The menu of procedures on the home page, named as in the manuals.

Each app registers its own entries in its AppConfig.ready(), so an entry appears exactly
when the procedure behind it exists: no dead links.
"""

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class Entry:
    section: str
    label: str
    url_name: str
    order: int = 100
    staff_only: bool = False

    @property
    def url(self):
        return reverse(self.url_name)


_entries: list[Entry] = []


def register(*, section, label, url_name, order=100, staff_only=False):
    entry = Entry(section=section, label=label, url_name=url_name, order=order,
                  staff_only=staff_only)
    if entry not in _entries:
        _entries.append(entry)


def sections_for(user):
    """[(section, [entries])] in registration order of sections, entries by `order`."""
    sections: dict[str, list[Entry]] = {}
    for entry in sorted(_entries, key=lambda e: e.order):
        if entry.staff_only and not user.is_staff:
            continue
        sections.setdefault(entry.section, []).append(entry)
    return list(sections.items())

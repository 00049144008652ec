"""Texts made once per language and process (issue 10): words a page would look up
(gettext, a lazy label cast to text) on every row of a list."""

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import get_language

# Made once a language and process (per_language): the words of each kind of text.
_PER_LANGUAGE = []


def per_language(make):
    """A function giving what `make()` gives in the language in force, made once a language
    and process: words looked up (gettext, a lazy label cast) on every row of a list. Made
    anew when Django reads its catalogues anew (a setting of the languages changed)."""
    made = {}
    _PER_LANGUAGE.append(made)

    def words():
        language = get_language()
        found = made.get(language)
        if found is None:
            found = made[language] = make()
        return found

    return words


@receiver(setting_changed)
def _forget_words(*, setting, **kwargs):
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS"}:
        for made in _PER_LANGUAGE:
            made.clear()

"""The Traditional Chinese catalogue compiles and leaves nothing untranslated or fuzzy."""

import re
import subprocess
from pathlib import Path

from tests import services

PO = Path(__file__).resolve().parents[2] / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po"


def test_it_translates_every_message():
    services.require_program("msgfmt", "gettext")
    result = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO)],
                            capture_output=True, text=True, env={"LC_ALL": "C"})
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


# Every message our Python asks gettext for, found in the code itself (the syntax tree), not
# by xgettext: xgettext does not read calls inside f-strings ({gettext("...")}), so such a
# message never reached the catalogue and was shown in English on Chinese pages.
GETTEXT = {"gettext": 0, "gettext_lazy": 0, "_": 0, "ngettext": 0, "ngettext_lazy": 0,
           "pgettext": 1, "pgettext_lazy": 1, "npgettext": 1, "npgettext_lazy": 1}
SOURCES = ("permits", "shtc", "masks", "reconciliation", "portal")


def messages_in_code():
    import ast

    root = PO.parents[3]
    for package in SOURCES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                index = GETTEXT.get(name)
                if index is None or len(node.args) <= index:
                    continue
                msgid = node.args[index]
                context = node.args[0] if index else None
                if isinstance(msgid, ast.Constant) and isinstance(msgid.value, str):
                    yield (f"{path.relative_to(root)}:{node.lineno}",
                           context.value if isinstance(context, ast.Constant) else None,
                           msgid.value)


def test_every_message_the_code_asks_for_is_translated():
    """In our catalogue, or in Django's own (the admin's words): what the page would show."""
    from django.utils import translation

    found = list(messages_in_code())
    assert len(found) > 500  # the walk reads the code (a broken walk finds nothing)
    # A message the catalogue translates as itself (UTF-8, say) is in it all the same; the
    # first test sees that every entry of the catalogue is translated.
    catalogue = PO.read_text(encoding="utf-8")
    untranslated = []
    with translation.override("zh-hant"):
        for where, context, msgid in found:
            shown = (translation.pgettext(context, msgid) if context
                     else translation.gettext(msgid))
            # (a message with no English word in it may be shown as written)
            if (shown == msgid and re.search("[A-Za-z]{2}", msgid)
                    and f'msgid "{msgid}"' not in catalogue):
                untranslated.append(f"{where}: {msgid!r}")
    assert not untranslated, "\n".join(untranslated)

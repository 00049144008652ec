"""The Traditional Chinese catalogue compiles and leaves nothing untranslated or fuzzy."""

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

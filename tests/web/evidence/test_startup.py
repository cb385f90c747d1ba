"""`refugium evidence add` starts without loading what ingest does not use (issue 6: the
64 MiB ratio is mostly the command's start-up): phone-number parsing, the export bundle."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
NOT_AT_START = ("phonenumbers", "refugium.casework", "refugium.vault.bundle")


def test_set_up_and_ingest_modules_load_none_of_the_heavy_ones() -> None:
    code = (
        "import json, os, sys\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'tests.settings'\n"
        "import django; django.setup()\n"
        "import refugium.cli, refugium.web.evidence.services, refugium.vault.metadata\n"
        "import refugium.vault.sniff, refugium.web.core.storage\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    loaded = json.loads(result.stdout)
    assert "refugium.vault.store" in loaded  # the check can fail: the store is there
    assert [m for m in loaded if m.startswith(NOT_AT_START)] == []


@pytest.mark.django_db
def test_an_arrest_receiver_is_still_called_when_records_are_saved(monkeypatch: Any) -> None:
    from refugium.web.casework import recheck
    from refugium.web.records.models import Act
    from refugium.web.records.signals import records_saved

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        recheck, "on_records_saved", lambda sender, **kw: calls.append({"sender": sender, **kw})
    )
    records_saved.send(sender=Act, ws="the workspace", prepared=["a change"])
    assert len(calls) == 1
    assert calls[0]["sender"] is Act
    assert calls[0]["ws"] == "the workspace"
    assert calls[0]["prepared"] == ["a change"]

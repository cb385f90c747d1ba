"""An upload whose encrypting worker process dies: nothing kept, a clear page, never a 500."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

import refugium.crypto.stream as stream
from refugium.web.intake.models import Attachment, Submission

SUBMIT = "/submit/"
MiB = 1024 * 1024

# Stand-ins for crypto/_encrypt_worker.py. Each copies its input to its output (what it
# writes is never kept, so it need not be an age file) and dies by SIGKILL, as a worker
# killed by the OOM killer would, once it has read more than LIMIT bytes; "at the end" dies
# after the whole input, before the parent is told anything.
DIES_MIDWAY = """
    import os, signal
    LIMIT = 2 * 1024 * 1024
    seen = 0
    while True:
        data = os.read(0, 1 << 16)
        if not data:
            break
        seen += len(data)
        if seen > LIMIT:
            os.kill(os.getpid(), signal.SIGKILL)
        os.write(1, data)
"""
DIES_AT_THE_END = """
    import os, signal
    LIMIT = 2 * 1024 * 1024
    seen = 0
    while True:
        data = os.read(0, 1 << 16)
        if not data:
            break
        seen += len(data)
        os.write(1, data)
    if seen > LIMIT:
        os.kill(os.getpid(), signal.SIGKILL)
"""


def dying_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    path = tmp_path / "worker.py"
    path.write_text(textwrap.dedent(code))
    monkeypatch.setattr(stream, "_WORKER", str(path))


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("code", [DIES_MIDWAY, DIES_AT_THE_END], ids=["midway", "at-the-end"])
def test_a_worker_that_dies_keeps_nothing_and_says_so(
    reporter, token, data_dir, tmp_path, monkeypatch, caplog, code
):  # type: ignore[no-untyped-def]
    dying_worker(tmp_path, monkeypatch, code)
    # The first, small file is stored (staged) before the second one's worker dies: it must
    # go too, since a submission is kept whole or not at all.
    small = SimpleUploadedFile("note.txt", b"n" * 10_000, "text/plain")
    large = SimpleUploadedFile("video.mp4", b"v" * (6 * MiB), "video/mp4")
    response = reporter.post(
        f"{SUBMIT}?t={token}", {"text": "They came at night.", "files": [small, large]}
    )
    assert response.status_code == 503
    assert b"Nothing was kept" in response.content
    assert Submission.objects.count() == 0
    assert Attachment.objects.count() == 0
    store = data_dir.root / "store"
    assert listing(store / "tmp") == []
    assert listing(store / "files") == []
    # The log says what kind of failure, and nothing the reporter sent.
    assert "an upload could not be stored and was discarded: RuntimeError" in caplog.text
    assert "video.mp4" not in caplog.text
    assert "They came at night" not in caplog.text
    # The form token was not used up: once the worker is whole again, the same form goes.
    monkeypatch.undo()
    again = reporter.post(
        f"{SUBMIT}?t={token}",
        {"text": "They came at night.", "files": [SimpleUploadedFile("video.mp4", b"v" * MiB)]},
    )
    assert again.status_code == 303
    assert Submission.objects.count() == 1
    assert len(listing(store / "files")) == 1
    assert listing(store / "tmp") == []


def test_a_worker_that_cannot_start_keeps_nothing(
    reporter, token, data_dir, tmp_path, monkeypatch
):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(stream, "_WORKER", str(tmp_path / "missing.py"))
    upload = SimpleUploadedFile("photo.jpg", b"p" * 50_000, "image/jpeg")
    response = reporter.post(f"{SUBMIT}?t={token}", {"text": "x", "files": [upload]})
    assert response.status_code == 503
    assert Submission.objects.count() == 0
    store = data_dir.root / "store"
    assert listing(store / "tmp") == []
    assert listing(store / "files") == []

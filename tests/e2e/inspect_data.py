"""What a data folder holds, decrypted: run as a separate process after the server stopped.

    python -m tests.e2e.inspect_data < request.json > answer.json

with ``REFUGIUM_DATA`` set. The request is ``{"user": ..., "passphrase": ..., "receipts":
[...], "decrypt": true}``. The answer maps each receipt to the code of the submission it
opens (``null`` if none), through the intake's own ``open_with_receipt`` (one production
Argon2id run each), and, with ``decrypt``, lists every submission with each message's text
and each file's SHA-256 as recorded and as computed over the decrypted bytes.

A process of its own, with the production settings the server uses, so that nothing of the
test process's Django (test settings, a test database) is involved, and no SQLite
connection in the test process is open on the file that the test greps.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import Any


def main() -> int:
    request = json.load(sys.stdin)
    os.environ["DJANGO_SETTINGS_MODULE"] = "refugium.web.settings"
    import django

    django.setup()
    from refugium.web.desk import services
    from refugium.web.intake import submissions
    from refugium.web.intake.models import Submission

    answer: dict[str, Any] = {"receipts": {}, "submissions": []}
    codes = dict(Submission.objects.values_list("id", "code"))
    for receipt in request.get("receipts", []):
        opened = submissions.open_with_receipt(receipt).submission_id
        answer["receipts"][receipt] = None if opened is None else codes.get(opened, "?gone")
    if request.get("decrypt"):
        user, keyring = services.unlock(request["user"], request["passphrase"])
        keys = services.identities(user, keyring, services.inbox_desk())
        store = submissions.store()
        for submission in Submission.objects.order_by("id"):
            messages = []
            for message in submission.messages.order_by("id"):
                body = submissions.open_json(message.body, keys)
                files = []
                for attachment in message.attachments.order_by("id"):
                    meta = submissions.open_json(attachment.meta, keys)
                    digest = hashlib.sha256()
                    size = 0
                    for piece in store.iter_plaintext(attachment.stored_name, keys):
                        digest.update(piece)
                        size += len(piece)
                    files.append(
                        {
                            "stored_name": attachment.stored_name,
                            "name": meta.get("name"),
                            "recorded_sha256": meta.get("sha256"),
                            "recorded_size": attachment.size,
                            "sha256": digest.hexdigest(),
                            "size": size,
                        }
                    )
                messages.append(
                    {"author": message.author, "text": body.get("text"), "files": files}
                )
            answer["submissions"].append({"code": submission.code, "messages": messages})
    json.dump(answer, sys.stdout)
    return 0



def inspect(data: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Runs this module on the data folder ``data`` and returns its answer."""
    import subprocess

    from tests.cli_runner import REPO, cli_env

    done = subprocess.run(
        [sys.executable, "-m", "tests.e2e.inspect_data"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=cli_env(data),
        cwd=REPO,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


if __name__ == "__main__":
    sys.exit(main())

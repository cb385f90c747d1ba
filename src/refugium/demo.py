"""``refugium demo`` (what ``./run`` starts): a throwaway data folder with synthetic data.

Everything it creates is invented for the demo and deleted when the server stops. The demo
serves plain HTTP on loopback (transport ``onion``: cookies can't be ``Secure`` without TLS).

``refugium demo --passphrase-stdin`` (:func:`fill_demo`) instead fills an empty
``$REFUGIUM_DATA`` with the admin ``admin`` and a synthetic campaign, keeps it and serves
nothing, so that a script can go from nothing to a report without a terminal.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

# Synthetic reports: invented for the demo; no real person, place or event is meant.
DEMO_REPORTS = [
    (
        "en",
        "DEMO (synthetic): two men in uniform took my neighbour from the market on Monday. "
        "His family was told not to ask questions.",
        {"when": "week", "harm": ["detention"]},
    ),
    (
        "ru",
        "ДЕМО (вымышлено): мне позвонили с номера друга и позвали на встречу. Я не пошёл, "
        "а друг больше не отвечает.",
        {"when": "month", "harm": ["threats"]},
    ),
]
DEMO_REPLY = "DEMO (synthetic): We read your report. Are you somewhere safe right now?"

# Synthetic accounts: (name, desks it is granted, desks it waits for).
DEMO_USERS = [
    ("rita", ["documentation", "intake"], []),
    ("kamil", ["casework"], []),
    ("lena", [], ["intake"]),
]


def _demo_passphrase() -> str:
    return "demo-" + "-".join(secrets.token_hex(3) for _ in range(3))


class _Stop(Exception):
    """SIGINT, SIGTERM or SIGHUP: stop the server, then delete the demo folder."""


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop


DEMO_EVENTS = 200


def run_demo(*, host: str, port: int, events: int = DEMO_EVENTS) -> int:
    """Create the demo folder (accounts, reports and a synthetic campaign of ``events``
    events in the documentation desk), serve it until a signal, then delete it."""
    # Also when started in the background, where SIGINT arrives ignored, and when killed or
    # when its terminal closes: the demo folder must not outlive the demo.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_stop)
    root = Path(tempfile.mkdtemp(prefix="refugium-demo-"))
    env = os.environ.copy()
    env.update(
        REFUGIUM_DATA=str(root / "data"),
        REFUGIUM_TRANSPORT="onion",
        REFUGIUM_ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    env.pop("DATABASE_URL", None)
    os.environ.update({k: env[k] for k in ("REFUGIUM_DATA", "REFUGIUM_TRANSPORT")})
    os.environ.pop("DATABASE_URL", None)
    try:
        logins, receipts, campaign = _create(root, events)
        _announce(host, port, root, logins, receipts, campaign)
        return _serve(host, port, env)
    except _Stop:
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)
        print(f"Demo data deleted ({root}).", file=sys.stderr)


def fill_demo(*, passphrase: str, events: int = DEMO_EVENTS) -> int:
    """Fill an empty ``$REFUGIUM_DATA`` with the admin ``admin`` (``passphrase``) and a
    synthetic campaign of ``events`` events in the documentation desk; keep it, serve nothing.

    Raises:
        Conflict: the folder exists and is not empty (nothing in it is touched).
        BadInput: the passphrase breaks the policy (nothing is created).
    """
    from refugium.datadir import DataDir
    from refugium.provision import initialise_data_folder

    existed = DataDir.from_environment().root.exists()
    done = initialise_data_folder(
        admin="admin", passphrase=passphrase, org_name="Refugium demo (synthetic)"
    )
    # From here the folder is ours and was empty: a campaign cut short by an error or Ctrl-C
    # would leave a folder that looks ready, so it goes, as init's failures do.
    try:
        campaign = _records(passphrase, events)
    except BaseException:
        from refugium.provision import remove_contents

        remove_contents(done.data_root, remove_root=not existed)
        raise
    from django.db import connections

    connections.close_all()
    print("Refugium demo data: every record here is SYNTHETIC, invented for the demo; no real")
    print("person, place or event is meant. Never add real records to this folder.")
    print(f"Data folder (kept): {done.data_root}")
    print(
        f"Documentation desk: a synthetic campaign of {campaign.get('event', 0)} events, "
        f"{campaign.get('act', 0)} acts, {campaign.get('person', 0)} persons."
    )
    print("Admin: admin, with the passphrase read from standard input.")
    print(f"Recovery paper key (demo): {done.paper_key}")
    print(f"Authenticator for admin: {done.admin.totp_uri}")
    print(
        "Next: refugium report build examples/report.toml --out DIR --user admin --passphrase-stdin"
    )
    return 0


def _create(
    root: Path, events: int
) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str]], dict[str, int]]:
    from refugium.provision import initialise_data_folder

    admin_pass = _demo_passphrase()
    done = initialise_data_folder(admin="admin", passphrase=admin_pass, org_name="Refugium demo")
    from django.db import connections

    from refugium.web.accounts import services

    logins = [("admin", admin_pass, done.admin.totp_secret, "all desks (admin)")]
    for name, granted, pending in DEMO_USERS:
        passphrase = _demo_passphrase()
        new = services.add_user(name, passphrase, granted + pending)
        for desk in granted:
            services.grant(name, desk, by="admin", by_passphrase=admin_pass)
        about = ", ".join(granted) or "-"
        if pending:
            about += f"; waiting for keys to {', '.join(pending)}"
        logins.append((name, passphrase, new.totp_secret, about))
    receipts = _reports(admin_pass)
    campaign = _records(admin_pass, events)
    connections.close_all()
    return logins, receipts, campaign


def _reports(admin_pass: str) -> list[tuple[str, str]]:
    """Synthetic submissions, one with a researcher's reply, so the follow-up has content."""
    from django.contrib.auth.models import User

    from refugium.web.desk import services as desk
    from refugium.web.intake import flood, submissions
    from refugium.web.intake.models import Submission

    receipts = []
    for language, text, hints in DEMO_REPORTS:
        receipt = submissions.create(
            text=text,
            hints=hints,
            uploads=[],
            language=language,
            form_token=flood.issue_form_token(),
        )
        receipts.append((language, receipt.to_text()))
    first = Submission.objects.order_by("id").first()
    assert first is not None
    desk.reply(first, DEMO_REPLY, user=User.objects.get(username="rita"))
    return receipts


def _records(admin_pass: str, events: int) -> dict[str, int]:
    """The synthetic campaign in the documentation desk (refugium.web.records.synthetic)."""
    from refugium.web.desk import services as desk
    from refugium.web.records import services, synthetic

    user, keyring = desk.unlock("admin", admin_pass)
    ws = services.workspace(user, keyring)

    def progress(batch: synthetic.Batch, counts: dict[str, int], seconds: float) -> None:
        if batch.events_done and events >= 5_000:
            print(f"  synthetic records: {batch.events_done}/{events} events", file=sys.stderr)

    return synthetic.generate(ws, events, progress=progress).counts


def _announce(
    host: str,
    port: int,
    root: Path,
    logins: list[tuple[str, str, str, str]],
    receipts: list[tuple[str, str]],
    campaign: dict[str, int],
) -> None:
    python = sys.executable
    print("Refugium demo: every account and record here is synthetic, invented for the demo.")
    print(f"Data folder (deleted on exit): {root}")
    print(f"Sign in at http://{host}:{port}/accounts/login/ with a name, passphrase and code.")
    print()
    for name, passphrase, totp_secret, about in logins:
        print(f"  {name:<6} passphrase {passphrase}   desks: {about}")
        code = f"import pyotp; print(pyotp.TOTP('{totp_secret}').now())"
        print(f'         code: {python} -c "{code}"')
    print()
    print(f"Report as a person at risk would: http://{host}:{port}/submit/ (Russian: /ru/submit/).")
    print(f"Follow up at http://{host}:{port}/followup/ with a demo receipt:")
    for language, receipt in receipts:
        print(f"  [{language}] {receipt}")
    print(f"Researchers read reports at http://{host}:{port}/desk/inbox/ (rita, admin).")
    print(
        f"The documentation database at http://{host}:{port}/records/ (rita, admin) holds a "
        f"synthetic campaign: {campaign.get('event', 0)} events, {campaign.get('act', 0)} acts, "
        f"{campaign.get('person', 0)} persons, all invented (names built from syllables)."
    )
    print()
    print("Stop with Ctrl-C.", flush=True)


def _serve(host: str, port: int, env: dict[str, str]) -> int:
    command = [sys.executable, "-m", "refugium.cli", "serve", "--host", host, "--port", str(port)]
    process = subprocess.Popen(command, env=env)  # noqa: S603 (our own command, no shell)
    try:
        return process.wait()
    except _Stop:
        process.send_signal(signal.SIGTERM)
        process.wait()
        return 0

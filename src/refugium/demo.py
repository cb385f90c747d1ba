"""``refugium demo`` (what ``./run`` starts): a throwaway data folder with synthetic data.

Everything it creates is invented for the demo and deleted when the server stops. The demo
serves plain HTTP on loopback (transport ``onion``: cookies can't be ``Secure`` without TLS).
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


def run_demo(*, host: str, port: int) -> int:
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
        logins = _create(root)
        _announce(host, port, root, logins)
        return _serve(host, port, env)
    except _Stop:
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)
        print(f"Demo data deleted ({root}).", file=sys.stderr)


def _create(root: Path) -> list[tuple[str, str, str, str]]:
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
    connections.close_all()
    return logins


def _announce(host: str, port: int, root: Path, logins: list[tuple[str, str, str, str]]) -> None:
    python = sys.executable
    print("Refugium demo: every account and record here is synthetic, invented for the demo.")
    print(f"Data folder (deleted on exit): {root}")
    print(f"Open http://{host}:{port}/ and sign in with a name, its passphrase and a code.")
    print()
    for name, passphrase, totp_secret, about in logins:
        print(f"  {name:<6} passphrase {passphrase}   desks: {about}")
        code = f"import pyotp; print(pyotp.TOTP('{totp_secret}').now())"
        print(f"         code: {python} -c \"{code}\"")
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

"""A seized disk holds no secret (issue 3, "Done when"; reliability.md T9, T10, T15).

The whole path a new organisation takes, for real: `refugium init`, `refugium user add`,
`refugium desk grant`, then `refugium serve` (gunicorn) and a sign-in with passphrase and
TOTP over HTTP, as a browser does it. Then the server stops, and every file of the data
folder (database, its WAL and shared memory, keys, audit log) and the server's own log are
searched for every secret and passphrase that was used, in several encodings: 0 hits.
"""

from __future__ import annotations

import base64
import re
import sqlite3

import pytest
import requests

from refugium.crypto import DeskKey, unwrap_identity
from tests import factories
from tests.cli_runner import refugium
from tests.live_server import running_server

ADMIN_PASS = "seized disk admin passphrase"
RITA_PASS = "seized disk rita passphrase"
UA_CANARY = "CanaryAgent/7.7 seized-disk-ua"
XFF_CANARY = "203.0.113.77"


def _sign_in(base: str, name: str, passphrase: str, totp_secret: str) -> requests.Session:
    session = requests.Session()
    session.headers.update({"User-Agent": UA_CANARY, "X-Forwarded-For": XFF_CANARY})
    page = session.get(f"{base}/accounts/login/", timeout=10)
    assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None
    response = session.post(
        f"{base}/accounts/login/",
        data={
            "csrfmiddlewaretoken": token.group(1),
            "username": name,
            "passphrase": passphrase,
            "code": factories.totp_code(totp_secret),
        },
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text
    home = session.get(f"{base}/desk/", timeout=10)
    assert home.status_code == 200
    assert name in home.text
    return session


def _forms(secret: str | bytes) -> list[bytes]:
    raw = secret.encode() if isinstance(secret, str) else secret
    forms = [
        raw,
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        raw.hex().encode(),
    ]
    if isinstance(secret, str):
        forms += [secret.lower().encode(), secret.encode("utf-16-le")]
    return forms


@pytest.mark.slow
def test_nothing_secret_on_a_seized_disk(tmp_path):
    data = tmp_path / "data"
    init = refugium(data, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n")
    assert init.returncode == 0, init.stderr
    paper_key = re.search(r"AGE-SECRET-KEY-1[0-9A-Z]+", init.stdout).group(0)  # type: ignore[union-attr]
    admin_totp = re.search(r"secret=([A-Z2-7]+)", init.stdout).group(1)  # type: ignore[union-attr]
    added = refugium(
        data, "user", "add", "rita", "--desk", "intake", "--passphrase-stdin",
        stdin=RITA_PASS + "\n",
    )
    assert added.returncode == 0, added.stderr
    rita_totp = re.search(r"secret=([A-Z2-7]+)", added.stdout).group(1)  # type: ignore[union-attr]
    granted = refugium(
        data, "desk", "grant", "rita", "intake", "--by", "admin", "--passphrase-stdin",
        stdin=ADMIN_PASS + "\n",
    )
    assert granted.returncode == 0, granted.stderr

    server_log = tmp_path / "server.log"
    with running_server(data, server_log) as base:
        cookies = []
        for name, passphrase, totp in (
            ("admin", ADMIN_PASS, admin_totp),
            ("rita", RITA_PASS, rita_totp),
        ):
            session = _sign_in(base, name, passphrase, totp)
            keybox = session.cookies.get("refugium-keybox")
            assert keybox
            cookies.append(keybox)
            if name == "rita":
                token = session.cookies.get("refugium-csrf")
                out = session.post(
                    f"{base}/accounts/logout/",
                    data={"csrfmiddlewaretoken": token},
                    headers={"X-CSRFToken": token or ""},
                    allow_redirects=False,
                    timeout=10,
                )
                assert out.status_code == 302
        # A failed sign-in with a canary passphrase must leave no trace either.
        session = requests.Session()
        page = session.get(f"{base}/accounts/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        failed = session.post(
            f"{base}/accounts/login/",
            data={
                "csrfmiddlewaretoken": token,
                "username": "admin",
                "passphrase": "canary wrong passphrase 4711",
                "code": "123456",
            },
            timeout=30,
        )
        assert failed.status_code == 200

    # What the keys are, read back the way only a passphrase holder can.
    public_keys: list[bytes] = []
    db = sqlite3.connect(f"file:{data / 'refugium.sqlite3'}?mode=ro", uri=True)
    secrets_: list[str | bytes] = [
        ADMIN_PASS, RITA_PASS, paper_key, admin_totp, rita_totp, "canary wrong passphrase 4711",
        UA_CANARY, XFF_CANARY,
    ]
    for name, passphrase in (("admin", ADMIN_PASS), ("rita", RITA_PASS)):
        (blob, user_id) = db.execute(
            "select a.wrapped_identity, a.user_id from accounts_account a "
            "join auth_user u on u.id = a.user_id where u.username = ?",
            (name,),
        ).fetchone()
        identity = unwrap_identity(bytes(blob), passphrase)
        secrets_ += [identity.to_secret_string(), identity._secret_bytes()]
        public_keys.append(str(identity.recipient).encode())
        for (wrap,) in db.execute(
            "select blob from accounts_deskkeywrap where user_id = ?", (user_id,)
        ):
            desk_key = DeskKey.unwrap(bytes(wrap), identity)
            secrets_ += [desk_key.identity.to_secret_string(), desk_key.identity._secret_bytes()]
    db.close()
    secrets_ += cookies_for_keybox(cookies)
    assert len(secrets_) >= 18

    files = [p for p in data.rglob("*") if p.is_file()] + [server_log]
    hits = []
    for path in files:
        content = path.read_bytes()
        for secret in secrets_:
            for form in _forms(secret):
                if form and form in content:
                    hits.append(f"{path.name}: {form[:12]!r}…")
    assert hits == []
    # The positive control: the same search does find what is meant to be there (public keys).
    database = (data / "refugium.sqlite3").read_bytes() + b"".join(
        p.read_bytes() for p in data.glob("refugium.sqlite3-wal")
    )
    assert all(key in database for key in public_keys)
    assert len(public_keys) == 2
    assert b"127.0.0.1" not in server_log.read_bytes()


def cookies_for_keybox(values: list[str]) -> list[str | bytes]:
    """Keybox cookie values and the keys they decode to: they must never reach the disk."""
    out: list[str | bytes] = []
    for value in values:
        out.append(value)
        out.append(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    return out

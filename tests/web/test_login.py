"""Researcher sign-in with passphrase and TOTP, sessions, lockout and sign-out (issue 3 §4)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from refugium.crypto import DecryptionFailed, SessionBox
from refugium.web.accounts import services
from refugium.web.accounts.keyring import SESSION_KEY
from refugium.web.accounts.models import Account
from tests import factories

HOME = "/desk/"
LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"


def test_login_page_renders(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b'name="passphrase"' in response.content
    assert b'name="code"' in response.content


def test_home_requires_login(client, org):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_login_with_passphrase_and_totp(client, login):
    response = login()
    assert response.status_code == 302
    assert response["Location"] == HOME
    page = client.get(HOME)
    assert page.status_code == 200
    assert b"1 key unlocked" in page.content
    assert page.content.count(b"1 key unlocked") == 3


def test_login_rotates_the_session_id(client, login):
    client.get(LOGIN)
    session = client.session
    session["probe"] = 1
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    login()
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()


def test_cookie_flags(client, login):
    response = login()
    keybox = response.cookies[settings.REFUGIUM_KEYBOX_COOKIE]
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    for cookie in (keybox, session):
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Strict"
        assert cookie["max-age"] == ""  # browser-session cookies: nothing outlives the tab
        assert cookie["expires"] == ""


def test_secure_cookies_under_https_transport():
    # The test settings run as an onion service; production defaults to HTTPS.
    import subprocess
    import sys

    code = (
        "import os; os.environ['REFUGIUM_TRANSPORT']='https';"
        "from refugium.web import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_NAME,"
        " s.REFUGIUM_KEYBOX_COOKIE)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [
        "True",
        "True",
        "__Host-refugium-session",
        "__Host-refugium-keybox",
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [("username", "nobody"), ("passphrase", "the wrong passphrase"), ("code", "000000")],
)
def test_wrong_credentials_fail_with_one_message(client, login, field, value):
    response = login(**({"name": value} if field == "username" else {field: value}))
    assert response.status_code == 200
    assert b"Sign-in failed" in response.content
    assert client.get(HOME).status_code == 302


def test_every_failure_costs_one_argon2_run(client, login, argon2_runs, org):
    services._dummy_unwrap("warm the dummy blob")  # built once per process
    argon2_runs.clear()
    login("nobody", passphrase="whatever passphrase", code="123456")
    assert len(argon2_runs) == 1
    login(passphrase="the wrong passphrase")
    assert len(argon2_runs) == 2
    login(code="000000")
    assert len(argon2_runs) == 3


def test_overlong_passphrase_is_refused_before_argon2(client, login, argon2_runs):
    response = login(passphrase="x" * 5000)
    assert response.status_code == 400
    assert b"at most 1024 characters" in response.content
    assert argon2_runs == []


def test_a_code_cannot_be_replayed(client, login, org):
    code = factories.totp_code(org.totp["admin"])
    assert login(code=code).status_code == 302
    client.post(LOGOUT)
    response = login(code=code)
    assert response.status_code == 200
    assert b"Sign-in failed" in response.content


def test_codes_one_step_either_side_are_accepted_and_two_are_not(client, login, org):
    secret = org.totp["admin"]
    assert login(code=factories.totp_code(secret, time.time() - 60)).status_code == 200
    assert login(code=factories.totp_code(secret, time.time() + 30)).status_code == 302


def test_lockout_after_failed_logins_and_unlock(client, login, org):
    free = settings.REFUGIUM_LOCKOUT_FREE_ATTEMPTS
    for _ in range(free):
        login(passphrase="the wrong passphrase")
    account = Account.objects.get(user__username="admin")
    assert account.failed_logins == free
    assert account.locked_until is not None
    # Now even the right passphrase and code are refused...
    assert login().status_code == 200
    # ...until an administrator unlocks the account (the documented path).
    services.unlock_user("admin")
    assert login().status_code == 302
    account.refresh_from_db()
    assert account.failed_logins == 0
    assert account.locked_until is None


def test_lockout_expires(client, login, org):
    for _ in range(settings.REFUGIUM_LOCKOUT_FREE_ATTEMPTS):
        login(passphrase="the wrong passphrase")
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61), tick=False):
        assert login().status_code == 302


def test_lockout_delay_is_progressive(settings):
    free = settings.REFUGIUM_LOCKOUT_FREE_ATTEMPTS
    assert services.lockout_seconds(free - 1) == 0
    assert services.lockout_seconds(free) == 60
    assert services.lockout_seconds(free + 1) == 120
    assert services.lockout_seconds(free + 4) == 960
    assert services.lockout_seconds(free + 40) == 24 * 60 * 60


def test_idle_timeout(client, login):
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        assert login().status_code == 302
        traveller.shift(dt.timedelta(minutes=29))
        assert client.get(HOME).status_code == 200  # activity slides the limit
        traveller.shift(dt.timedelta(minutes=29))
        assert client.get(HOME).status_code == 200
        traveller.shift(dt.timedelta(minutes=30, seconds=1))
        response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_absolute_timeout(client, login):
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        assert login().status_code == 302
        for _ in range(28):  # active every 25 minutes: 11 h 40 min
            traveller.shift(dt.timedelta(minutes=25))
            assert client.get(HOME).status_code == 200
        traveller.shift(dt.timedelta(minutes=20, seconds=1))  # 12 h and a second
        response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_logout_is_post_only(client, login):
    login()
    response = client.get(LOGOUT)
    assert response.status_code == 405
    assert client.get(HOME).status_code == 200


def test_logout_clears_session_and_site_data(client, login):
    login()
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    response = client.post(LOGOUT)
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert response.cookies[settings.REFUGIUM_KEYBOX_COOKIE].value == ""
    assert not Session.objects.filter(session_key=session_key).exists()
    assert client.get(HOME).status_code == 302


def test_logout_needs_csrf_token(org, login):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(LOGOUT)
    assert response.status_code == 403
    assert b"not allowed" in response.content


def test_session_without_the_keybox_cookie_is_ended(client, login):
    login()
    del client.cookies[settings.REFUGIUM_KEYBOX_COOKIE]
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_session_with_a_forged_keybox_cookie_is_ended(client, login):
    login()
    client.cookies[settings.REFUGIUM_KEYBOX_COOKIE] = SessionBox.generate().to_cookie_value()
    assert client.get(HOME).status_code == 302


def test_disabling_a_user_ends_their_session(client, login):
    login()
    services.disable_user("admin")
    assert client.get(HOME).status_code == 302


def test_session_store_holds_no_usable_key_bytes_without_the_cookie(client, login, org):
    login()
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    row = Session.objects.get(session_key=session_key)
    stored = row.session_data
    decoded = row.get_decoded()
    sealed = decoded[SESSION_KEY]
    identity = services.unlock_identity("admin", factories.ADMIN_PASSPHRASE)
    desk_keys = [
        key
        for desk in ("intake", "documentation", "casework")
        for key in services._unwrapped_keys(
            services.get_desk(desk), identity_user(), identity
        ).values()
    ]
    secrets_ = [identity.to_secret_string()] + [k.identity.to_secret_string() for k in desk_keys]
    for secret in secrets_:
        assert secret not in stored
        assert secret not in str(decoded)
        assert secret.lower() not in str(decoded).lower()
    # Without the cookie's key, the sealed keyring does not open...
    with pytest.raises(DecryptionFailed):
        SessionBox.generate().open(sealed, context=f"keyring:{identity_user().pk}")
    # ...and with it, it does (the positive control that makes the test able to fail).
    box = SessionBox.from_cookie_value(client.cookies[settings.REFUGIUM_KEYBOX_COOKIE].value)
    opened = box.open(sealed, context=f"keyring:{identity_user().pk}")
    assert identity.to_secret_string().encode() in opened


def identity_user():  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import User

    return User.objects.get(username="admin")


def test_pending_member_sees_no_keys(client, org):
    factories.add_user(org, "lena", ["intake"])
    response = client.post(
        LOGIN,
        {
            "username": "lena",
            "passphrase": org.passphrases["lena"],
            "code": factories.totp_code(org.totp["lena"]),
        },
    )
    assert response.status_code == 302
    page = client.get(HOME)
    assert b"waiting for a member to grant the keys" in page.content


def test_csrf_cookie_is_a_browser_session_cookie(client, db):
    response = client.get(LOGIN)
    cookie = response.cookies[settings.CSRF_COOKIE_NAME]
    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"


def test_a_full_disk_at_sign_in_gives_503_and_no_session(client, login, monkeypatch):
    import errno

    from refugium.web.accounts import views

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(views, "record", full)
    response = login()
    assert response.status_code == 503
    assert b"Nothing was kept" in response.content
    assert settings.REFUGIUM_KEYBOX_COOKIE not in response.cookies
    assert client.get(HOME).status_code == 302


def test_other_errors_are_not_mistaken_for_a_full_disk():
    from django.db import OperationalError

    from refugium.web.core.middleware import is_storage_failure

    assert is_storage_failure(OperationalError("database or disk is full")) is True
    assert is_storage_failure(OSError(28, "No space left on device")) is True
    assert is_storage_failure(OperationalError("no such table: x")) is False
    assert is_storage_failure(OSError(2, "No such file")) is False
    assert is_storage_failure(ValueError("database or disk is full")) is False

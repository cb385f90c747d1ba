"""What the ``refugium`` command and the web app do to accounts, desks and keys.

One function per operation, each in one database transaction with its audit entry, so that a
failure leaves the old state whole. Passphrases and paper keys come in as arguments and are
never stored or logged; what goes back to the caller is what it must show once.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from refugium.crypto import (
    MAX_SECRET_BYTES,
    Argon2Profile,
    DecryptionFailed,
    DeskKey,
    Identity,
    Recipient,
    SigningKey,
    check_passphrase_policy,
    decrypt,
    encrypt,
    profile_by_name,
    unwrap_identity,
    wrap_identity,
)
from refugium.errors import BadInput, Conflict, NotFound
from refugium.web.accounts.models import (
    Account,
    Desk,
    DeskKeyGeneration,
    DeskKeyWrap,
    Membership,
    Organisation,
)
from refugium.web.accounts.validators import validate_username
from refugium.web.core.auditing import record

DEFAULT_DESKS = {
    "intake": "Intake: reports from people at risk",
    "documentation": "Documentation: events, acts, persons, sources",
    "casework": "Casework: sanctuary and evacuation",
}
TOTP_DIGITS = 6
TOTP_PERIOD = 30


class LoginFailed(Exception):
    """Name, passphrase, code or lockout: deliberately one error for all of them."""


@dataclass(frozen=True)
class NewAccount:
    """What must be shown once to the person the account is for, and never stored."""

    username: str
    totp_uri: str
    totp_secret: str


@dataclass(frozen=True)
class InitResult:
    admin: NewAccount
    paper_key: str


def _profile() -> Argon2Profile:
    return profile_by_name(settings.REFUGIUM_ARGON2_PROFILE)


def get_user(name: str) -> User:
    try:
        return User.objects.select_related("account").get(username=name)
    except User.DoesNotExist:
        raise NotFound(f"no user named {name!r}") from None


def get_desk(name: str) -> Desk:
    try:
        return Desk.objects.get(name=name)
    except Desk.DoesNotExist:
        known = ", ".join(Desk.objects.values_list("name", flat=True)) or "none"
        raise NotFound(f"no desk named {name!r} (desks: {known})") from None


def organisation() -> Organisation:
    org = Organisation.objects.first()
    if org is None:
        raise NotFound("this data folder has no organisation; run `refugium init`")
    return org


def _create_account(name: str, passphrase: str, org_name: str) -> tuple[User, Identity, NewAccount]:
    validate_username(name)
    check_passphrase_policy(passphrase)
    if User.objects.filter(username=name).exists():
        raise Conflict(f"a user named {name!r} already exists")
    identity = Identity.generate()
    totp_secret = pyotp.random_base32()
    user = User.objects.create(username=name)
    user.set_unusable_password()
    user.save()
    Account.objects.create(
        user=user,
        recipient=str(identity.recipient),
        wrapped_identity=wrap_identity(identity, passphrase, _profile()),
        totp_sealed=encrypt(totp_secret.encode("ascii"), [identity.recipient]),
    )
    uri = pyotp.TOTP(totp_secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD).provisioning_uri(
        name=name, issuer_name=org_name
    )
    return user, identity, NewAccount(name, uri, totp_secret)


def _wrap_generation(generation: DeskKeyGeneration, key: DeskKey, user: User | None) -> None:
    if user is None:
        recipient = Recipient.parse(organisation().recovery_recipient)
    else:
        recipient = Recipient.parse(user.account.recipient)
    DeskKeyWrap.objects.update_or_create(
        generation=generation, user=user, defaults={"blob": key.wrap_to(recipient)}
    )


def _new_generation(desk: Desk, members: list[User]) -> DeskKeyGeneration:
    """A fresh desk key, wrapped to ``members`` and to the recovery recipient only.

    Needs no unlocked key: wrapping takes only public recipients.
    """
    key = DeskKey.generate()
    last = desk.generations.order_by("-number").values_list("number", flat=True).first() or 0
    generation = DeskKeyGeneration.objects.create(
        desk=desk, number=last + 1, recipient=str(key.recipient), key_id=key.key_id
    )
    _wrap_generation(generation, key, None)
    for member in members:
        _wrap_generation(generation, key, member)
    return generation


@transaction.atomic
def initialise(
    *, admin: str, passphrase: str, org_name: str, signing_key: SigningKey
) -> InitResult:
    """Creates the organisation, the default desks and the first admin (a member of each).

    The recovery identity is generated here and returned as the paper key: it is never
    stored, so it must be printed once and kept offline.

    Raises:
        Conflict: the database already holds an organisation.
        BadInput: the admin's name or passphrase breaks the rules.
    """
    if Organisation.objects.exists():
        raise Conflict("this database already holds an organisation")
    recovery = Identity.generate()
    Organisation.objects.create(
        name=org_name,
        recovery_recipient=str(recovery.recipient),
        receipt_salt=secrets.token_bytes(32),
        log_verify_key_pem=signing_key.verify_key.to_public_pem().decode("ascii"),
    )
    user, _identity, new = _create_account(admin, passphrase, org_name)
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    record("system", "init", "organisation", "1")
    record("system", "user.add", "user", admin)
    for name, title in DEFAULT_DESKS.items():
        desk = Desk.objects.create(name=name, title=title)
        generation = _new_generation(desk, [user])
        Membership.objects.create(desk=desk, user=user, active=True)
        record("system", "desk.create", "desk", f"{name}:{generation.number}")
        record("system", "desk.grant", "desk", f"{name}:{admin}")
    return InitResult(admin=new, paper_key=recovery.to_secret_string())


@transaction.atomic
def add_user(name: str, passphrase: str, desks: list[str], *, actor: str = "cli") -> NewAccount:
    """Creates an account; its desk memberships wait for a member to grant the keys.

    Raises:
        Conflict, BadInput, NotFound.
    """
    desk_objects = [get_desk(d) for d in desks]
    user, _identity, new = _create_account(name, passphrase, organisation().name)
    for desk in desk_objects:
        Membership.objects.create(desk=desk, user=user, active=False)
    record(actor, "user.add", "user", name)
    return new


def list_users() -> list[dict[str, object]]:
    rows = []
    for user in User.objects.order_by("username").prefetch_related("memberships__desk"):
        account = getattr(user, "account", None)
        locked = bool(account and account.locked_until and account.locked_until > timezone.now())
        rows.append(
            {
                "name": user.username,
                "admin": user.is_superuser,
                "active": user.is_active,
                "locked": locked,
                "desks": sorted(m.desk.name for m in user.memberships.all() if m.active),
                "pending": sorted(m.desk.name for m in user.memberships.all() if not m.active),
            }
        )
    return rows


@transaction.atomic
def disable_user(name: str, *, actor: str = "cli") -> None:
    """Stops the user signing in and ends their open sessions at once.

    Their desk-key wraps stay, so that re-enabling is possible; ``refugium desk revoke``
    removes them and rotates each desk key for new data.
    """
    user = get_user(name)
    user.is_active = False
    user.save(update_fields=["is_active"])
    Account.objects.filter(user=user).update(session_epoch=F("session_epoch") + 1)
    record(actor, "user.disable", "user", name)


@transaction.atomic
def unlock_user(name: str, *, actor: str = "cli") -> None:
    """The documented way out of a login lockout, for an administrator."""
    user = get_user(name)
    Account.objects.filter(user=user).update(failed_logins=0, locked_until=None)
    record(actor, "user.unlock", "user", name)


def unlock_identity(name: str, passphrase: str) -> Identity:
    """Unwraps a user's identity with their passphrase (one Argon2id run).

    Raises:
        NotFound: no such user.
        DecryptionFailed: wrong passphrase.
        BadInput: passphrase too long.
    """
    user = get_user(name)
    return unwrap_identity(bytes(user.account.wrapped_identity), passphrase)


def _unwrapped_keys(desk: Desk, user: User, identity: Identity) -> dict[int, DeskKey]:
    keys = {}
    wraps = DeskKeyWrap.objects.filter(generation__desk=desk, user=user).select_related(
        "generation"
    )
    for wrap in wraps:
        keys[wrap.generation.number] = DeskKey.unwrap(bytes(wrap.blob), identity)
    return keys


@transaction.atomic
def grant(name: str, desk_name: str, *, by: str, by_passphrase: str) -> int:
    """Re-wraps every generation of the desk key that ``by`` holds to ``name``.

    Returns the number of generations granted.

    Raises:
        NotFound, DecryptionFailed (wrong passphrase of ``by``), BadInput.
    """
    user = get_user(name)
    desk = get_desk(desk_name)
    granter = get_user(by)
    if not Membership.objects.filter(desk=desk, user=granter, active=True).exists():
        raise BadInput(f"{by!r} is not a member of desk {desk_name!r} and holds no keys to give")
    if not user.is_active:
        raise BadInput(f"{name!r} is disabled")
    identity = unlock_identity(by, by_passphrase)
    keys = _unwrapped_keys(desk, granter, identity)
    for number, key in keys.items():
        _wrap_generation(desk.generations.get(number=number), key, user)
    Membership.objects.update_or_create(desk=desk, user=user, defaults={"active": True})
    Account.objects.filter(user=user).update(session_epoch=F("session_epoch") + 1)
    record(by, "desk.grant", "desk", f"{desk_name}:{name}")
    return len(keys)


@transaction.atomic
def revoke(name: str, desk_name: str, *, actor: str = "cli") -> int:
    """Takes ``name`` off the desk and rotates the desk key for new data.

    The member may have copied the old keys while they held them; what they could read they
    can still read, but nothing written from now on. Returns the new generation number.

    Raises:
        NotFound: no such user, desk or membership.
    """
    user = get_user(name)
    desk = get_desk(desk_name)
    deleted, _ = Membership.objects.filter(desk=desk, user=user).delete()
    if not deleted:
        raise NotFound(f"{name!r} is not on desk {desk_name!r}")
    DeskKeyWrap.objects.filter(generation__desk=desk, user=user).delete()
    Account.objects.filter(user=user).update(session_epoch=F("session_epoch") + 1)
    remaining = [
        m.user
        for m in Membership.objects.filter(desk=desk, active=True).select_related(
            "user__account"
        )
    ]
    generation = _new_generation(desk, remaining)
    record(actor, "desk.revoke", "desk", f"{desk_name}:{name}")
    record(actor, "desk.rotate", "desk", f"{desk_name}:{generation.number}")
    return generation.number


@transaction.atomic
def recover(desk_name: str, paper_key: str, name: str, *, actor: str = "cli") -> int:
    """Re-wraps every generation of a desk key to ``name`` using the recovery paper key.

    For when every member lost their passphrase. Returns the number of generations.

    Raises:
        BadInput: the paper key is malformed.
        DecryptionFailed: it is not this organisation's recovery key.
        NotFound: no such desk or user.
    """
    desk = get_desk(desk_name)
    user = get_user(name)
    count = 0
    for generation, key in _keys_from_paper_key(desk, paper_key):
        _wrap_generation(generation, key, user)
        count += 1
    Membership.objects.update_or_create(desk=desk, user=user, defaults={"active": True})
    Account.objects.filter(user=user).update(session_epoch=F("session_epoch") + 1)
    record(actor, "desk.recover", "desk", f"{desk_name}:{name}")
    return count


def desk_identities_from_paper_key(desk_name: str, paper_key: str) -> list[Identity]:
    """Every generation of a desk's key, newest first, opened with the recovery paper key
    (for ``refugium desk export-identity`` when no member can unlock).

    Raises:
        BadInput: the paper key is malformed.
        DecryptionFailed: it is not this organisation's recovery key.
        NotFound: no such desk.
    """
    keys = _keys_from_paper_key(get_desk(desk_name), paper_key)
    return [key.identity for _generation, key in keys]


def _keys_from_paper_key(desk: Desk, paper_key: str) -> list[tuple[DeskKeyGeneration, DeskKey]]:
    """Every generation of ``desk``'s key, newest first, unwrapped from its copy to the
    recovery recipient.

    Raises:
        BadInput: the paper key is malformed.
        DecryptionFailed: it is not this organisation's recovery key.
    """
    recovery = Identity.from_secret_string(paper_key)
    if str(recovery.recipient) != organisation().recovery_recipient:
        raise DecryptionFailed("this is not the organisation's recovery key")
    wraps = DeskKeyWrap.objects.filter(generation__desk=desk, user=None).select_related(
        "generation"
    )
    return [
        (wrap.generation, DeskKey.unwrap(bytes(wrap.blob), recovery))
        for wrap in wraps.order_by("-generation__number")
    ]


# --- Login ----------------------------------------------------------------------------------

_dummy_blob: bytes | None = None


def _dummy_unwrap(passphrase: str) -> None:
    """Spends one Argon2id run, as a real login does, for names that don't exist or are
    locked, so that timing tells nothing (contrib/auth's ``fake_runtime`` idea)."""
    global _dummy_blob
    if _dummy_blob is None:
        _dummy_blob = wrap_identity(Identity.generate(), secrets.token_urlsafe(16), _profile())
    with contextlib.suppress(DecryptionFailed, BadInput):
        unwrap_identity(_dummy_blob, passphrase)


def lockout_seconds(failures: int) -> int:
    """Progressive delay: free attempts, then 1 min, 2 min, 4 min, … up to a day."""
    free = settings.REFUGIUM_LOCKOUT_FREE_ATTEMPTS
    if failures < free:
        return 0
    delay = settings.REFUGIUM_LOCKOUT_BASE_SECONDS * 2 ** (failures - free)
    return int(min(delay, settings.REFUGIUM_LOCKOUT_MAX_SECONDS))


def _fail(account: Account) -> None:
    Account.objects.filter(pk=account.pk).update(failed_logins=F("failed_logins") + 1)
    account.refresh_from_db(fields=["failed_logins"])
    seconds = lockout_seconds(account.failed_logins)
    if seconds:
        Account.objects.filter(pk=account.pk).update(
            locked_until=timezone.now() + timedelta(seconds=seconds)
        )
        record("system", "user.lockout", "user", account.user.username)


def check_login(name: str, passphrase: str, code: str) -> tuple[User, Identity]:
    """Checks passphrase and TOTP code; returns the user and their unlocked identity.

    Raises:
        LoginFailed: for any reason (unknown name, disabled, locked, wrong passphrase, wrong
            or replayed code); the reason is not told, and each case costs one Argon2id run.
        BadInput: the passphrase is longer than any passphrase can be (before Argon2id).
    """
    if len(passphrase.encode("utf-8")) > MAX_SECRET_BYTES:
        raise BadInput("passphrase too long", code="passphrase_too_long")
    try:
        user = User.objects.select_related("account").get(username=name)
        account = user.account
    except (User.DoesNotExist, Account.DoesNotExist):
        _dummy_unwrap(passphrase)
        raise LoginFailed from None
    locked = account.locked_until is not None and account.locked_until > timezone.now()
    if locked or not user.is_active:
        _dummy_unwrap(passphrase)
        raise LoginFailed
    try:
        identity = unwrap_identity(bytes(account.wrapped_identity), passphrase)
        totp_secret = decrypt(bytes(account.totp_sealed), [identity]).decode("ascii")
    except DecryptionFailed:
        _fail(account)
        raise LoginFailed from None
    totp = pyotp.TOTP(totp_secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD)
    now = timezone.now()
    step = _matching_step(totp, code.strip().replace(" ", ""), now.timestamp())
    # A code is good once: replaying an observed code is refused (RFC 6238 §5.2).
    if step is None or step <= account.totp_last_step:
        _fail(account)
        raise LoginFailed
    Account.objects.filter(pk=account.pk).update(
        failed_logins=0, locked_until=None, totp_last_step=step
    )
    return user, identity


def _matching_step(totp: pyotp.TOTP, code: str, now: float) -> int | None:
    """The time step whose code matches, allowing one step of clock drift either way."""
    if not re.fullmatch(r"\d{6}", code):
        return None
    current = int(now // TOTP_PERIOD)
    for step in (current - 1, current, current + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None

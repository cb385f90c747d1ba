"""Unlocked keys between requests: sealed in the session, openable only with the cookie.

At login the user's identity and every desk key they hold are unwrapped once, serialised and
sealed with a ``SessionBox`` whose key goes to the browser in an ``HttpOnly`` cookie and is
never stored on the server. The session row (database) holds only the sealed text: a copy of
the database, live or seized, opens nothing without the cookie (DESIGN §2).

Residual risk (docs/threat-model.md): while a request is being served, the running process
holds that session's keys in memory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse

from refugium.crypto import DecryptionFailed, DeskKey, Identity, SessionBox
from refugium.errors import BadInput
from refugium.web.accounts.models import DeskKeyWrap, Membership
from refugium.web.core.cookies import delete_session_cookie, set_session_cookie

SESSION_KEY = "refugium_keyring"


@dataclass
class Keyring:
    """The keys one signed-in user holds for this request."""

    identity: Identity
    desks: dict[str, dict[int, DeskKey]] = field(default_factory=dict)

    def desk_keys(self, desk: str) -> list[DeskKey]:
        """Newest generation first: the shape FieldCipher and KeyedHasher take."""
        generations = self.desks.get(desk, {})
        return [generations[n] for n in sorted(generations, reverse=True)]

    def _to_json(self) -> bytes:
        return json.dumps(
            {
                "identity": self.identity.to_secret_string(),
                "desks": {
                    desk: {str(n): k.identity.to_secret_string() for n, k in gens.items()}
                    for desk, gens in self.desks.items()
                },
            }
        ).encode("utf-8")

    @classmethod
    def _from_json(cls, data: bytes) -> Keyring:
        raw = json.loads(data)
        return cls(
            identity=Identity.from_secret_string(raw["identity"]),
            desks={
                desk: {
                    int(n): DeskKey(Identity.from_secret_string(s))
                    for n, s in gens.items()
                }
                for desk, gens in raw["desks"].items()
            },
        )

    def __repr__(self) -> str:
        return f"<Keyring desks={sorted(self.desks)}>"


def build(user: User, identity: Identity) -> Keyring:
    """Unwraps every desk key the user holds on desks where they are an active member."""
    active = set(
        Membership.objects.filter(user=user, active=True).values_list("desk_id", flat=True)
    )
    keyring = Keyring(identity=identity)
    wraps = DeskKeyWrap.objects.filter(user=user, generation__desk_id__in=active).select_related(
        "generation__desk"
    )
    for wrap in wraps:
        desk = wrap.generation.desk.name
        key = DeskKey.unwrap(bytes(wrap.blob), identity)
        keyring.desks.setdefault(desk, {})[wrap.generation.number] = key
    return keyring


def _context(user_pk: object) -> str:
    return f"keyring:{user_pk}"


def seal_into(request: HttpRequest, response: HttpResponse, keyring: Keyring) -> None:
    """Seals the keyring into the session and gives the browser the only key to it."""
    box = SessionBox.generate()
    request.session[SESSION_KEY] = box.seal(keyring._to_json(), context=_context(request.user.pk))
    set_session_cookie(response, settings.REFUGIUM_KEYBOX_COOKIE, box.to_cookie_value())


def open_from(request: HttpRequest) -> Keyring | None:
    """The keyring of this request, or None when the cookie or the sealed data is missing or
    does not open (then the session is useless and must end)."""
    sealed = request.session.get(SESSION_KEY)
    cookie = request.COOKIES.get(settings.REFUGIUM_KEYBOX_COOKIE)
    if not sealed or not cookie:
        return None
    try:
        box = SessionBox.from_cookie_value(cookie)
        return Keyring._from_json(box.open(sealed, context=_context(request.user.pk)))
    except (BadInput, DecryptionFailed):
        return None


def forget(response: HttpResponse) -> None:
    delete_session_cookie(response, settings.REFUGIUM_KEYBOX_COOKIE)

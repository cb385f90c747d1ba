"""Rules for account names, importable before Django is set up (``refugium init`` checks
them before it creates anything)."""

from __future__ import annotations

import re

from refugium.audit import check_identifier
from refugium.errors import BadInput

# Names appear in the audit log, which accepts identifier-like strings only: a name must not
# be a person's real name in any script, and must never need escaping.
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")


def validate_username(name: str) -> str:
    """Raises:
    BadInput: the name breaks the rules above.
    """
    if not USERNAME_RE.fullmatch(name):
        raise BadInput(
            "a user name is 2 to 32 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            code="bad_username",
        )
    # A name goes into the audit log as actor and object, so it must pass the log's own rule
    # as well, which refuses five dotted words: the shape of a receipt.
    try:
        check_identifier("user name", name, required=True)
    except BadInput:
        raise BadInput(
            "a user name may not be five or more words joined by '.', '_' or '-'",
            code="bad_username",
        ) from None
    return name

"""In-app notices to caseworkers (``models.Notice``): who must see what, and marking it read.

A reveal of a location notifies a second person, a check-in alert notifies its tier, an
overdue task its owner. Notices are rows, not messages sent elsewhere (see ``Notice``), so a
caller creates them in the same transaction as the change they tell of: a rolled-back reveal
leaves no notice, and a notice never tells of something that did not happen.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from refugium.errors import BadInput
from refugium.web.casework.models import Case, Notice

MAX_TEXT = Notice._meta.get_field("text").max_length


def notify(
    users: Iterable[User],
    kind: str,
    text: str,
    *,
    case: Case | None = None,
    now: datetime | None = None,
) -> list[Notice]:
    """One unread notice per distinct user, in the caller's transaction.

    Raises:
        BadInput: an unknown kind, or a text that is empty or longer than a notice holds.
    """
    if kind not in Notice.Kind.values:
        raise BadInput(f"no kind of notice {kind!r}; kinds: {', '.join(Notice.Kind.values)}")
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise BadInput(f"a notice's text must be 1 to {MAX_TEXT} characters")
    at = now or timezone.now()
    unique = {user.pk: user for user in users}
    return Notice.objects.bulk_create(
        Notice(user=user, kind=kind, case=case, text=text, created_at=at)
        for user in unique.values()
    )


def unread(user: User) -> list[Notice]:
    """The user's unread notices, newest first."""
    return list(Notice.objects.filter(user=user, read_at=None).select_related("case"))


@transaction.atomic
def mark_read(user: User, numbers: Iterable[int], *, now: datetime | None = None) -> int:
    """Marks the user's own notices read (another user's numbers are ignored, not an error:
    a notice's number says nothing). Returns how many were marked."""
    return Notice.objects.filter(user=user, pk__in=list(numbers), read_at=None).update(
        read_at=now or timezone.now()
    )

"""In-app notices to caseworkers (issue 9: a reveal notifies a second person)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User

from refugium.errors import BadInput
from refugium.web.casework import notices
from refugium.web.casework.models import Notice
from tests import factories

AT = datetime(2017, 4, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def people(org: factories.Org) -> tuple[User, User]:
    factories.add_user(org, "rita", ["casework"])
    return User.objects.get(username="admin"), User.objects.get(username="rita")


def test_one_notice_per_distinct_user_unread_until_marked(people: tuple[User, User]) -> None:
    admin, rita = people
    made = notices.notify([rita, admin, rita], "reveal", "admin revealed a location", now=AT)

    assert sorted(n.user.username for n in made) == ["admin", "rita"]
    [own] = notices.unread(rita)
    assert (own.kind, own.text, own.created_at) == ("reveal", "admin revealed a location", AT)

    assert notices.mark_read(rita, [own.pk], now=AT) == 1
    assert notices.unread(rita) == []
    assert len(notices.unread(admin)) == 1


def test_a_user_cannot_mark_another_users_notice_read(people: tuple[User, User]) -> None:
    admin, rita = people
    [theirs] = notices.notify([admin], "checkin", "alert at tier 2", now=AT)

    assert notices.mark_read(rita, [theirs.pk]) == 0
    assert Notice.objects.get(pk=theirs.pk).read_at is None


@pytest.mark.parametrize(("kind", "text"), [("gossip", "x"), ("task", ""), ("task", "x" * 201)])
def test_unknown_kinds_and_bad_texts_are_refused(
    people: tuple[User, User], kind: str, text: str
) -> None:
    with pytest.raises(BadInput):
        notices.notify([people[0]], kind, text)
    assert Notice.objects.count() == 0

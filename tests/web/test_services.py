"""Accounts, desks and the key hierarchy as `refugium` commands drive them (issue 3)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from refugium.crypto import DecryptionFailed, DeskKey, FieldCipher, Identity
from refugium.errors import BadInput, Conflict, NotFound
from refugium.web.accounts import services
from refugium.web.accounts.models import (
    Account,
    Desk,
    DeskKeyGeneration,
    DeskKeyWrap,
    Membership,
    Organisation,
)
from tests import factories


def _desk_keys(name: str, desk: str, passphrase: str) -> dict[int, DeskKey]:
    identity = services.unlock_identity(name, passphrase)
    user = User.objects.get(username=name)
    return services._unwrapped_keys(Desk.objects.get(name=desk), user, identity)


def test_initialise_creates_desks_admin_and_recovery(org):
    assert sorted(Desk.objects.values_list("name", flat=True)) == [
        "casework",
        "documentation",
        "intake",
    ]
    admin = User.objects.get(username="admin")
    assert admin.is_superuser is True
    assert admin.has_usable_password() is False
    assert Membership.objects.filter(user=admin, active=True).count() == 3
    for desk in Desk.objects.all():
        generation = desk.current_generation()
        assert generation.number == 1
        assert DeskKeyWrap.objects.filter(generation=generation, user=admin).count() == 1
        assert DeskKeyWrap.objects.filter(generation=generation, user=None).count() == 1
    assert org.paper_key.startswith("AGE-SECRET-KEY-1")
    recovery = Identity.from_secret_string(org.paper_key)
    assert str(recovery.recipient) == Organisation.objects.get().recovery_recipient


def test_initialise_twice_is_refused(org):
    with pytest.raises(Conflict):
        factories.make_org()


def test_admin_unwraps_every_desk_key(org):
    for desk in ("intake", "documentation", "casework"):
        keys = _desk_keys("admin", desk, factories.ADMIN_PASSPHRASE)
        generation = Desk.objects.get(name=desk).current_generation()
        assert list(keys) == [1]
        assert str(keys[1].recipient) == generation.recipient


def test_wrong_passphrase_fails_cleanly(org):
    with pytest.raises(DecryptionFailed):
        services.unlock_identity("admin", "not the passphrase at all")


def test_add_user_is_pending_until_granted(org):
    factories.add_user(org, "rita", ["documentation"])
    rita = User.objects.get(username="rita")
    membership = Membership.objects.get(user=rita)
    assert membership.active is False
    assert DeskKeyWrap.objects.filter(user=rita).count() == 0

    count = services.grant(
        "rita", "documentation", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE
    )
    assert count == 1
    membership.refresh_from_db()
    assert membership.active is True
    admin_key = _desk_keys("admin", "documentation", factories.ADMIN_PASSPHRASE)[1]
    rita_key = _desk_keys("rita", "documentation", factories.USER_PASSPHRASE)[1]
    assert rita_key.key_id == admin_key.key_id


def test_grant_needs_the_granters_passphrase(org):
    factories.add_user(org, "rita", ["documentation"])
    with pytest.raises(DecryptionFailed):
        services.grant("rita", "documentation", by="admin", by_passphrase="wrong passphrase!!")
    assert Membership.objects.get(user__username="rita").active is False
    assert DeskKeyWrap.objects.filter(user__username="rita").count() == 0


def test_grant_by_a_non_member_is_refused(org):
    factories.add_user(org, "rita", ["documentation"])
    factories.add_user(org, "kamil", [], passphrase="kamil's long passphrase")
    with pytest.raises(BadInput):
        services.grant("rita", "documentation", by="kamil", by_passphrase="kamil's long passphrase")


def test_revoked_member_cannot_unwrap_keys_created_after_revocation(org):
    factories.add_user(org, "rita", ["documentation"])
    services.grant("rita", "documentation", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    rita_identity = services.unlock_identity("rita", factories.USER_PASSPHRASE)

    number = services.revoke("rita", "documentation")

    assert number == 2
    desk = Desk.objects.get(name="documentation")
    generation = desk.current_generation()
    assert generation.number == 2
    assert not Membership.objects.filter(user__username="rita", desk=desk).exists()
    assert not DeskKeyWrap.objects.filter(user__username="rita").exists()
    # Even with every wrap of the new generation in hand, rita's identity opens none.
    for wrap in DeskKeyWrap.objects.filter(generation=generation):
        with pytest.raises(DecryptionFailed):
            DeskKey.unwrap(bytes(wrap.blob), rita_identity)
    # The remaining member can, and data encrypted for the new generation is theirs alone.
    admin_keys = _desk_keys("admin", "documentation", factories.ADMIN_PASSPHRASE)
    assert sorted(admin_keys) == [1, 2]
    assert str(admin_keys[2].recipient) == generation.recipient
    cipher = FieldCipher([admin_keys[2], admin_keys[1]])
    token = cipher.encrypt(b"after revocation", table="t", row="1", field="f")
    old_generation_only = FieldCipher([admin_keys[1]])
    with pytest.raises(DecryptionFailed):
        old_generation_only.decrypt(token, table="t", row="1", field="f")


def test_revoke_ends_the_members_sessions(org):
    factories.add_user(org, "rita", ["documentation"])
    services.grant("rita", "documentation", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    before = Account.objects.get(user__username="rita").session_epoch
    services.revoke("rita", "documentation")
    assert Account.objects.get(user__username="rita").session_epoch == before + 1


def test_revoke_of_a_non_member_is_not_found(org):
    factories.add_user(org, "rita", [])
    with pytest.raises(NotFound):
        services.revoke("rita", "casework")
    assert DeskKeyGeneration.objects.filter(desk__name="casework").count() == 1


def test_recovery_with_the_paper_key(org):
    # Every member lost their passphrase: a new account gets the keys back from paper.
    services.revoke("admin", "casework")  # two generations, neither wrapped to anyone now
    factories.add_user(org, "kamil", [], passphrase="kamil's new long passphrase")
    typed = "  " + org.paper_key.lower() + "\n"  # as typed from paper: case and spacing vary

    count = services.recover("casework", typed, "kamil")

    assert count == 2
    keys = _desk_keys("kamil", "casework", "kamil's new long passphrase")
    desk = Desk.objects.get(name="casework")
    assert sorted(keys) == [1, 2]
    assert str(keys[2].recipient) == desk.current_generation().recipient
    assert Membership.objects.get(user__username="kamil", desk=desk).active is True


def test_recovery_with_another_key_is_refused(org):
    factories.add_user(org, "kamil", [])
    with pytest.raises(DecryptionFailed):
        services.recover("casework", Identity.generate().to_secret_string(), "kamil")
    assert not DeskKeyWrap.objects.filter(user__username="kamil").exists()


def test_recovery_with_garbage_is_bad_input(org):
    factories.add_user(org, "kamil", [])
    with pytest.raises(BadInput):
        services.recover("casework", "not a key", "kamil")


@pytest.mark.parametrize(
    "name", ["", "a", "Admin", "-x", "x" * 33, "rita smith", "рита", "the.big.red.dog.run"]
)
def test_bad_usernames_are_refused(org, name):
    with pytest.raises(BadInput):
        services.add_user(name, factories.USER_PASSPHRASE, [])


def test_weak_passphrase_is_refused(org):
    with pytest.raises(BadInput):
        services.add_user("rita", "short", [])
    assert not User.objects.filter(username="rita").exists()


def test_unknown_desk_names_the_known_ones(org):
    with pytest.raises(NotFound, match="casework, documentation, intake"):
        services.add_user("rita", factories.USER_PASSPHRASE, ["archive"])
    assert not User.objects.filter(username="rita").exists()


def test_duplicate_user_is_refused(org):
    factories.add_user(org, "rita", [])
    with pytest.raises(Conflict):
        services.add_user("rita", factories.USER_PASSPHRASE, [])


def test_disable_user(org):
    factories.add_user(org, "rita", [])
    services.disable_user("rita")
    rows = {r["name"]: r for r in services.list_users()}
    assert rows["rita"]["active"] is False
    assert rows["admin"]["desks"] == ["casework", "documentation", "intake"]


def test_audit_log_records_operations_without_content(org, data_dir):
    factories.add_user(org, "rita", ["documentation"])
    services.grant("rita", "documentation", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    services.revoke("rita", "documentation")
    text = data_dir.audit_log.read_text()
    assert '"action":"desk.revoke"' in text
    assert factories.USER_PASSPHRASE not in text
    assert factories.ADMIN_PASSPHRASE not in text
    assert org.paper_key not in text
    from refugium.web.core.auditing import audit_log

    assert audit_log().verify() == text.count("\n")

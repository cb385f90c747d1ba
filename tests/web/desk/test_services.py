"""The inbox's shared logic, as both the web pages and ``refugium inbox`` use it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection

from refugium.crypto import DecryptionFailed, Identity
from refugium.errors import BadInput, NotFound
from refugium.web.accounts import services as accounts
from refugium.web.desk import services
from refugium.web.intake import submissions
from refugium.web.intake.models import Message, Submission
from tests import factories
from tests.web.desk.conftest import DOCUMENT, PHOTO, audit_entries


def _admin_keys():  # type: ignore[no-untyped-def]
    user, keyring = services.unlock("admin", factories.ADMIN_PASSPHRASE)
    return user, services.identities(user, keyring, services.inbox_desk())


def test_unlock_with_a_wrong_passphrase_fails(org):
    with pytest.raises(DecryptionFailed):
        services.unlock("admin", "not the passphrase at all")


def test_unlock_of_an_unknown_user_is_not_found(org):
    with pytest.raises(NotFound):
        services.unlock("ghost", factories.ADMIN_PASSPHRASE)


def test_a_disabled_account_cannot_unlock_the_inbox(org):
    factories.add_user(org, "rita", ["intake"])
    accounts.grant("rita", "intake", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    accounts.disable_user("rita")
    with pytest.raises(services.NoAccess):
        services.unlock("rita", factories.USER_PASSPHRASE)


def test_a_pending_member_has_no_keys(org):
    factories.add_user(org, "newbie", ["intake"])
    user, keyring = services.unlock("newbie", factories.USER_PASSPHRASE)
    with pytest.raises(services.NoAccess):
        services.identities(user, keyring, services.inbox_desk())


def test_a_submission_of_another_desk_is_not_in_the_inbox(casework_submission):
    with pytest.raises(NotFound):
        services.get_submission(services.inbox_desk(), casework_submission.code)


def test_read_decrypts_everything_and_marks_read(submit):
    made = submit(
        text="первое сообщение",
        files=[("a.png", PHOTO, "image/png"), ("b.txt", DOCUMENT, "text/plain")],
        hints={"where": "chechnya", "harm": ["x", 3]},
    )
    _user, keys = _admin_keys()
    view = services.read(made.submission, keys, actor="admin")
    (message,) = view.messages
    assert message.readable is True
    assert message.text == "первое сообщение"
    assert message.hints == [("where", "Chechnya"), ("harm", "x")]
    assert [(a.name, a.type, a.size, a.readable) for a in message.attachments] == [
        ("a.png", "image/png", len(PHOTO), True),
        ("b.txt", "text/plain", len(DOCUMENT), True),
    ]
    made.submission.refresh_from_db()
    assert made.submission.unread is False
    assert audit_entries()[-1] == ("admin", "submission.read", "submission", made.code)


def test_a_message_the_keys_cannot_open_is_shown_as_unreadable(submit):
    made = submit()
    Message.objects.create(
        submission=made.submission,
        author=Message.Author.REPORTER,
        sent_on=made.submission.received_on,
        body=submissions.seal_json({"text": "x"}, [Identity.generate().recipient]),
    )
    Message.objects.create(
        submission=made.submission,
        author=Message.Author.REPORTER,
        sent_on=made.submission.received_on,
        body=submissions.seal_json(["not", "a", "dict"], [submissions.desk_recipient(
            made.submission.desk)]),
    )
    _user, keys = _admin_keys()
    view = services.read(made.submission, keys, actor="admin")
    assert [(m.readable, m.text) for m in view.messages] == [
        (True, "They took him from the market on Tuesday."),
        (False, ""),
        (True, ""),
    ]


def test_open_file_streams_and_audits(submit):
    made = submit(files=[("a.png", PHOTO, "image/png")])
    (stored,) = made.stored_names()
    _user, keys = _admin_keys()
    meta, chunks = services.open_file(made.submission, stored, keys, actor="admin")
    assert meta.name == "a.png"
    assert b"".join(chunks) == PHOTO
    assert audit_entries()[-1] == (
        "admin", "attachment.download", "attachment", f"{made.code}:{stored}"
    )


def test_a_file_that_does_not_match_its_hash_is_cut_off(submit):
    made = submit(files=[("a.png", PHOTO, "image/png")])
    (stored,) = made.stored_names()
    attachment = made.submission.messages.get().attachments.get()
    attachment.meta = submissions.seal_json(
        {"name": "a.png", "sha256": "0" * 64, "type": "image/png"},
        [submissions.desk_recipient(made.submission.desk)],
    )
    attachment.save()
    _user, keys = _admin_keys()
    _meta, chunks = services.open_file(made.submission, stored, keys, actor="admin")
    with pytest.raises(DecryptionFailed):
        b"".join(chunks)


def test_reply_limits(submit):
    made = submit()
    user = User.objects.get(username="admin")
    with pytest.raises(BadInput):
        services.reply(made.submission, " \n\t", user=user)
    with pytest.raises(BadInput):
        services.reply(made.submission, "x" * (services.MAX_REPLY_CHARS + 1), user=user)
    services.reply(made.submission, "x" * services.MAX_REPLY_CHARS, user=user)
    assert made.submission.messages.count() == 2


def test_set_status_accepts_exactly_the_model_statuses(submit):
    made = submit()
    for status in Submission.Status.values:
        services.set_status(made.submission, status, actor="admin")
        made.submission.refresh_from_db()
        assert made.submission.status == status
    with pytest.raises(BadInput):
        services.set_status(made.submission, "NEW", actor="admin")


def test_the_cli_offers_exactly_the_model_statuses():
    from refugium.cli import STATUSES

    assert list(STATUSES) == Submission.Status.values


@pytest.mark.django_db(transaction=True)
def test_delete_leaves_no_ciphertext_in_the_database_or_its_wal(data_dir, submit):
    made = submit(text="canary " * 50, files=[("a.png", PHOTO, "image/png")])
    body = bytes(made.submission.messages.get().body)
    marker = body[-64:]  # ciphertext: random-looking, unique to this message
    database = connection.settings_dict["NAME"]
    with open(database, "rb") as db, open(f"{database}-wal", "rb") as wal:
        assert marker in db.read() + wal.read()
    result = services.delete(made.submission, actor="admin")
    assert result.files == 1
    assert result.wal_truncated is True
    with open(f"{database}-wal", "rb") as wal:
        assert wal.read() == b""
    with open(database, "rb") as db:
        assert marker not in db.read()
    assert list((data_dir.root / "store" / "files").iterdir()) == []


def test_checkpoint_inside_a_transaction_reports_it_could_not(db):
    assert connection.in_atomic_block is True
    assert services.checkpoint_wal() is False

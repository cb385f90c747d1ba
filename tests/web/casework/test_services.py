"""The provocation watchlist: every written form matches, neighbours do not, nothing plaintext
(issue 9, "Provocation flags")."""

from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings
from django.db import connection

from refugium.crypto import DecryptionFailed
from refugium.errors import BadInput
from refugium.web.accounts import services as accounts
from refugium.web.casework import services
from refugium.web.casework.models import WatchlistEntry
from refugium.web.desk import services as desk_services
from tests import factories
from tests.web.casework.seized import seized_bytes, written_forms

FORMS = ["+7 (928) 555-12-34", "89285551234", "8 928 555 12 34", "+79285551234", "8-928-555-12-34"]
REASON = "Seized from the phone of a detainee, Argun, March 2017 — MARKER-REASON-7731"


def _audit_actions() -> list[tuple[str, str, str]]:
    from refugium.web.core.auditing import audit_log

    bodies = [entry["body"] for entry in audit_log().entries()]
    return [(b["action"], b["object"]["type"], b["object"]["id"]) for b in bodies]


@pytest.mark.parametrize("listed", FORMS)
def test_a_contact_listed_in_one_form_matches_in_every_other(
    cw: services.Workspace, listed: str
) -> None:
    entry, created = services.add_to_watchlist(cw, listed, "phone", REASON)
    assert created is True
    matches = services.check_contacts(cw, [(form, "phone") for form in FORMS])
    assert [m.entry.pk for m in matches] == [entry.pk] * len(FORMS)
    assert {m.reason for m in matches} == {REASON}
    assert [m.identifier for m in matches] == FORMS


def test_the_kind_is_guessed_when_not_given(cw: services.Workspace) -> None:
    entry, _ = services.add_to_watchlist(cw, "8 928 555 12 34", None, REASON)
    assert entry.kind == "phone"
    assert [m.entry.pk for m in services.check_contacts(cw, [("+79285551234", None)])] == [entry.pk]


def test_a_neighbouring_number_does_not_match(cw: services.Workspace) -> None:
    services.add_to_watchlist(cw, "+7 (928) 555-12-34", "phone", REASON)
    assert services.check_contacts(cw, [("+79285551235", "phone")]) == []
    assert services.check_contacts(cw, [("8 928 555 12 33", "phone")]) == []


def test_kinds_are_kept_apart(cw: services.Workspace) -> None:
    services.add_to_watchlist(cw, "@lure_bot", "telegram", REASON)
    assert services.check_contacts(cw, [("lure_bot", "other")]) == []
    assert len(services.check_contacts(cw, [("https://t.me/Lure_Bot", "telegram")])) == 1


def test_telegram_and_email_match_across_forms(cw: services.Workspace) -> None:
    services.add_to_watchlist(cw, "@Lure_Bot", "telegram", "lure")
    services.add_to_watchlist(cw, "Lure@Mail.RU", "email", "officer")
    matches = services.check_contacts(cw, [("t.me/lure_bot", None), ("lure@mail.ru", None)])
    assert [m.reason for m in matches] == ["lure", "officer"]


def test_the_same_contact_twice_is_one_entry_with_both_reasons(cw: services.Workspace) -> None:
    first, created = services.add_to_watchlist(cw, "89285551234", "phone", "seized phone")
    again, created_again = services.add_to_watchlist(cw, "+7 928 555-12-34", "phone", "lure")
    same, created_third = services.add_to_watchlist(cw, "+79285551234", "phone", "lure")
    assert (created, created_again, created_third) == (True, False, False)
    assert first.pk == again.pk == same.pk
    assert WatchlistEntry.objects.count() == 1
    assert services.watchlist_size(cw.desk) == 1
    [match] = services.check_contacts(cw, [("89285551234", "phone")])
    assert match.reason == "seized phone\nlure"


def test_a_contact_listed_by_another_request_meanwhile_becomes_a_second_reason(
    cw: services.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry, _ = services.add_to_watchlist(cw, "89285551234", "phone", "seized phone")
    real = services._listed
    calls: list[int] = []

    def late(ws: services.Workspace, key: str) -> WatchlistEntry | None:
        calls.append(1)
        return None if len(calls) == 1 else real(ws, key)  # the first look-up came too early

    monkeypatch.setattr(services, "_listed", late)
    again, created = services.add_to_watchlist(cw, "+79285551234", "phone", "lure")
    assert (again.pk, created, len(calls)) == (entry.pk, False, 2)
    assert services.watchlist_size(cw.desk) == 1
    [match] = services.check_contacts(cw, [("89285551234", "phone")])
    assert match.reason == "seized phone\nlure"


def test_a_contact_listed_before_a_key_rotation_still_matches(
    cw: services.Workspace, org: factories.Org
) -> None:
    entry, _ = services.add_to_watchlist(cw, "89285551234", "phone", REASON)
    factories.add_user(org, "rita", ["casework"])
    accounts.revoke("rita", "casework")  # a new generation of the casework key
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    rotated = services.workspace(user, keyring)
    assert len(rotated.keys) == 2
    [match] = services.check_contacts(rotated, [("+7 928 555 12 34", "phone")])
    assert (match.entry.pk, match.reason) == (entry.pk, REASON)
    again, created = services.add_to_watchlist(rotated, "8 928 555 12 34", "phone", REASON)
    assert (again.pk, created) == (entry.pk, False)
    result = services.add_many(
        rotated, [("+79285551234", "phone", "x"), ("+79285551299", None, "y")]
    )
    assert (result.added, result.already_listed) == (1, 1)


def test_each_add_is_audited_with_the_entry_number_only(cw: services.Workspace) -> None:
    entry, _ = services.add_to_watchlist(cw, "89285551234", "phone", REASON)
    services.add_to_watchlist(cw, "+79285551234", "phone", "second reason")
    services.check_contacts(cw, [("89285551234", "phone")])
    actions = [a for a in _audit_actions() if a[0].startswith("casework.")]
    assert actions == [
        ("casework.watchlist_add", "watchlist", str(entry.pk)),
        ("casework.watchlist_reason", "watchlist", str(entry.pk)),
        ("casework.watchlist_match", "watchlist", str(entry.pk)),
    ]
    log = settings.DATA.audit_log.read_bytes()
    assert b"5551234" not in log
    assert b"MARKER-REASON" not in log


def test_a_user_without_casework_membership_can_neither_add_nor_check(
    org: factories.Org,
) -> None:
    factories.add_user(org, "rita", ["casework"])  # waits for a grant: no key yet
    factories.add_user(org, "omar", ["documentation"], passphrase="omar's long passphrase")
    for name in ("rita", "omar"):
        user, keyring = desk_services.unlock(name, org.passphrases[name])
        with pytest.raises(services.NoAccess, match="not an active member of desk 'casework'"):
            services.workspace(user, keyring)
    with pytest.raises(services.NoAccess):
        services.workspace(None, None)


def test_a_workspace_of_another_desks_keys_cannot_read_the_reason(
    cw: services.Workspace,
) -> None:
    entry, _ = services.add_to_watchlist(cw, "89285551234", "phone", REASON)
    _user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    wrong = services.Workspace(desk=cw.desk, keys=keyring.desk_keys("intake"), actor="admin")
    assert services.check_contacts(wrong, [("89285551234", "phone")]) == []
    with pytest.raises(DecryptionFailed):
        services.reason_of(wrong, entry)


def test_a_reason_moved_to_another_row_does_not_open(cw: services.Workspace) -> None:
    a, _ = services.add_to_watchlist(cw, "89285551234", "phone", REASON)
    b, _ = services.add_to_watchlist(cw, "89285551299", "phone", "other")
    b.reason = a.reason
    with pytest.raises(DecryptionFailed):
        services.reason_of(cw, b)


@pytest.mark.parametrize(
    ("identifier", "kind", "reason", "message"),
    [
        ("123", "phone", REASON, "not a possible phone number"),
        ("89285551234", "fax", REASON, "no kind of contact"),
        ("89285551234", "phone", "  ", "needs a reason"),
        ("89285551234", "phone", "x" * 1001, "longer than 1000"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    cw: services.Workspace, identifier: str, kind: str, reason: str, message: str
) -> None:
    with pytest.raises(BadInput, match=message):
        services.add_to_watchlist(cw, identifier, kind, reason)
    assert WatchlistEntry.objects.count() == 0


def test_the_plaintext_columns_are_coded(cw: services.Workspace) -> None:
    services.add_to_watchlist(cw, "89285551234", "phone", REASON, today=date(2017, 4, 1))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {WatchlistEntry._meta.db_table}")  # noqa: S608
        [row] = cursor.fetchall()
    values = dict(zip([c[0] for c in cursor.description], row, strict=True))
    assert values["kind"] == "phone"
    assert values["origin"] == "manual"
    assert str(values["added_on"]) == "2017-04-01"
    assert values["digest"].startswith("k1:")
    assert len(bytes(values["reason"])) % 64 == 1 + 8 + 12 + 16  # padded plaintext


def test_add_many_skips_contacts_listed_before_and_repeats(cw: services.Workspace) -> None:
    services.add_to_watchlist(cw, "89285551234", "phone", REASON)
    result = services.add_many(
        cw,
        [
            ("+7 928 555 12 34", "phone", "again"),
            ("+7 928 555 12 35", "phone", "new"),
            ("8 928 555 12 35", None, "repeat in the batch"),
            ("@lure", None, "handle"),
        ],
    )
    assert (result.added, result.already_listed) == (2, 2)
    assert _audit_actions()[-1] == ("casework.watchlist_import", "watchlist", "2")
    matches = services.check_contacts(cw, [("89285551235", "phone"), ("89285551234", "phone")])
    assert [m.reason for m in matches] == ["new", REASON]
    with pytest.raises(BadInput, match="item 2: not a possible phone number"):
        services.add_many(cw, [("+79285551236", "phone", "ok"), ("123", "phone", "bad")])
    assert services.watchlist_size(cw.desk) == 3


@pytest.mark.django_db(transaction=True)
def test_a_seized_database_holds_no_listed_contact_or_reason(
    data_dir: object, django_db_blocker: object
) -> None:
    factories.make_org()
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    cw = services.workspace(user, keyring)
    services.add_to_watchlist(cw, "+7 (928) 555-12-34", "phone", REASON)
    services.add_to_watchlist(cw, "@Lure_Bot_Marker", "telegram", "ЛОВУШКА-МАРКЕР бот полиции")
    services.add_to_watchlist(cw, "officer.marker@mail.ru", "email", "named officer")
    services.add_many(
        cw, [(f"+7 928 444 {i:02d} {i:02d}", "phone", f"BULK-MARK-{i}") for i in range(20)]
    )
    secrets = [
        *FORMS,
        "9285551234",
        "555-12-34",
        "5551234",
        "Lure_Bot_Marker",
        "officer.marker",
        "MARKER-REASON",
        "ЛОВУШКА-МАРКЕР",
        "BULK-MARK",
        "79284440505",
    ]
    seized = seized_bytes()
    # The right files were read: the digests and the coded columns are there.
    assert WatchlistEntry.objects.first().digest.encode() in seized  # type: ignore[union-attr]
    hits = [s for s in secrets for form in written_forms(s) if form in seized]
    assert hits == []


def test_every_column_of_the_app_is_declared_with_why_it_may_be_plaintext() -> None:
    """As tests/web/records/test_schema.py does for the records: a new column must be
    declared here, as coded, a keyed hash or sealed."""
    from django.apps import apps

    columns = {
        "WatchlistEntry": {
            "id": "row number",
            "uid": "random, what the reason is bound to",
            "desk": "coded",
            "kind": "coded: phone, telegram, email, other",
            "digest": "keyed hash of the contact",
            "reason": "sealed",
            "origin": "coded: manual or detained",
            "added_on": "a day",
            "added_by": "an account",
        },
        # Cases (cases.py): the person, contacts, channel, reasons and who attested what are
        # sealed under the case key; the rest is coded or a link between the app's own rows.
        "Case": {
            "id": "row number, shown as C-0001",
            "uid": "random, what the sealed part is bound to",
            "desk": "coded",
            "stage": "coded: refugium.casework.stages",
            "risk": "coded: low, medium, high, critical (triage)",
            "needs": "coded set: shelter, travel, documents, medical, …",
            "opened_on": "a day",
            "submission": "an intake submission's random code",
            "sealed": "sealed under the case key (person, contacts, channel, notes)",
        },
        "CaseKeyGeneration": {
            "id": "row number",
            "case": "link",
            "number": "counter",
            "recipient": "public key",
            "key_id": "public key's id",
        },
        "CaseKeyWrap": {
            "id": "row number",
            "generation": "link",
            "user": "an account (an assignee) or none (recovery)",
            "blob": "age file to that recipient",
        },
        "Assignment": {
            "id": "row number",
            "case": "link",
            "user": "an account",
            "role": "coded: caseworker, logistics, coordinator",
            "since": "a day",
        },
        "Flag": {
            "id": "row number",
            "uid": "random, what the reason is bound to",
            "case": "link",
            "source": "coded: watchlist or manual",
            "reason": "sealed under the case key, or an age file to its recipient",
            "sealing": "coded: case or recipient",
            "raised_on": "a day",
            "raised_by": "an account",
            "cleared_by": "an account",
            "cleared_on": "a day",
        },
        "CaseAttestation": {
            "id": "row number",
            "uid": "random, what the details are bound to",
            "case": "link",
            "signal": "coded: a checklist id (verification.toml)",
            "details": "sealed under the case key (channel, by, on, note)",
        },
        "StageChange": {
            "id": "row number",
            "case": "link",
            "from_stage": "coded",
            "to_stage": "coded",
            "on": "a day",
            "by": "an account",
        },
        # Not part of the check-ins, but declared by no one yet (notices.py): its text names
        # only account names and codes.
        "Notice": {
            "id": "row number",
            "user": "an account",
            "kind": "coded: reveal, checkin, task, flag, referral",
            "case": "link",
            "text": "coded text: account names and codes only",
            "created_at": "when (a notice must be timely)",
            "read_at": "when",
        },
        "CaseContact": {
            "id": "row number",
            "case": "link",
            "digest": "keyed digest under the desk key (purpose case-contact.v1)",
            "flag": "link",
        },
        "PendingWatch": {
            "id": "row number",
            "desk": "coded",
            "blob": "age file to the casework desk's recipient",
            "queued_on": "a day",
        },
        # The location compartment (location.py): the contents under the compartment's own
        # key, the region and a reveal's reason under the case key.
        "LocationCompartment": {
            "id": "row number",
            "uid": "random, what the region is bound to",
            "case": "link",
            "stage": "coded: safe, exit, relocated",
            "details": "sealed under the case key (the coarse region)",
            "filled_on": "a day",
            "destroyed_on": "a day",
            "digest": "SHA-256 of the destroyed ciphertext, never of the plaintext",
        },
        "LocationContent": {
            "id": "row number",
            "uid": "random, what the contents are bound to",
            "compartment": "link",
            "key_id": "public key's id",
            "sealed": "sealed under the compartment key (address, route, tickets, dates)",
        },
        "LocationKeyWrap": {
            "id": "row number",
            "content": "link",
            "assignment": "the logistics owner's assignment or none (recovery)",
            "blob": "age file to that recipient",
        },
        "LocationReveal": {
            "id": "row number",
            "uid": "random, what the reason is bound to",
            "case": "link",
            "user": "an account",
            "reason": "sealed under the case key",
            "granted_at": "a timestamp: a reveal lasts minutes",
            "expires_at": "a timestamp",
        },
        # The do-not-disclose list and referrals (referrals.py).
        "DoNotDisclose": {
            "id": "row number",
            "uid": "random, what the sealed part is bound to",
            "case": "link",
            "kind": "coded: relative, officer, informer, other",
            "sealed": "sealed under the case key (name, contacts, note)",
            "added_on": "a day",
            "added_by": "an account",
        },
        "DisclosureDigest": {
            "id": "row number",
            "entry": "link",
            "case": "link",
            "what": "coded: name or contact",
            "digest": "keyed under the case key, with the case's uid",
        },
        "Partner": {
            "id": "row number",
            "uid": "random, what the sealed part is bound to",
            "desk": "coded",
            "sealed": "sealed under the desk key (name, recipient, contacts)",
            "active": "a flag",
            "added_on": "a day",
            "added_by": "an account",
        },
        "Referral": {
            "id": "row number",
            "uid": "random, what the details are bound to",
            "case": "link",
            "partner": "link",
            "fields": "coded: which fields were projected",
            "details": "sealed under the case key (consent, contact sent)",
            "token_digest": "SHA-256 of a 256-bit random token",
            "state": "coded: waiting, fetched, expired, revoked",
            "created_on": "a day",
            "expires_on": "a day",
            "ended_on": "a day",
            "created_by": "an account",
        },
        "ReferralFile": {
            "id": "row number",
            "referral": "link",
            "blob": "age file to the partner's recipient",
        },
        # Tasks, notes, documents and costs (tasks.py, ledger.py).
        "Task": {
            "id": "row number",
            "uid": "random, what the details are bound to",
            "case": "link",
            "details": "sealed under the case key (title, details)",
            "due_on": "a day",
            "owner": "an account",
            "created_on": "a day",
            "created_by": "an account",
            "done_on": "a day",
            "done_by": "an account",
            "escalation": "coded: the step reached",
            "owner_notified_at": "a timestamp: escalation delays are minutes",
            "coordinators_notified_at": "a timestamp",
        },
        "CaseNote": {
            "id": "row number",
            "uid": "random, what the details are bound to",
            "case": "link",
            "details": "sealed under the case key (the text)",
            "written_on": "a day",
            "author": "an account",
        },
        "CaseDocument": {
            "id": "row number",
            "uid": "random, what the details are bound to",
            "case": "link",
            "details": "sealed under the case key (the vault item's code, a label)",
            "attached_on": "a day",
            "attached_by": "an account",
        },
        "Cost": {
            "id": "row number",
            "uid": "random, what the details are bound to",
            "desk": "coded",
            "case_tag": "keyed digest of case and entry: groups nothing",
            "month": "a month, for grant reports",
            "category": "coded: tickets, shelter, …",
            "amount": "minor units, for totals without keys",
            "currency": "coded: ISO 4217",
            "details": "sealed under the case key (day, description)",
        },
        # Check-ins (checkin_store.py): the pass runs with no key, so the clock is plaintext;
        # the code is an HMAC and the answers Argon2id digests under the server's secret.
        "CheckinSchedule": {
            "id": "row number",
            "uid": "random",
            "case": "link",
            "lookup": "HMAC of the check-in code under the check-in secret",
            "salt": "random",
            "normal_digest": "peppered Argon2id of an answer",
            "duress_digest": "peppered Argon2id of an answer",
            "every_minutes": "minutes",
            "grace_minutes": "minutes",
            "starts": "a time (the clock)",
            "ended_at": "a time (the clock)",
            "handler": "an account",
            "active": "a flag",
        },
        "CheckinEntry": {
            "id": "row number",
            "schedule": "link",
            "at": "a time (the clock)",
            "counts": "a flag: an agreed answer or not",
        },
        "CheckinAlert": {
            "id": "row number, the alert's number",
            "schedule": "link",
            "reason": "coded: missed, duress, unknown",
            "due_since": "a time",
            "raised_at": "a time",
            "raised_tier": "a tier",
            "tier": "a tier",
            "tier_since": "a time",
            "notified_at": "a time",
            "acknowledged_by": "an account",
            "acknowledged_at": "a time",
            "resolved_by": "an account",
            "resolved_at": "a time",
        },
    }
    for model in apps.get_app_config("casework").get_models():
        assert model.__name__ in columns, f"{model.__name__}: declare its columns here"
        assert {f.name for f in model._meta.concrete_fields} == set(columns[model.__name__])

"""Cases are flagged when the watchlist grows, and arrests list the arrested person's contacts
(issue 9, "Provocation flags": "A Person of the records whose status becomes detained has
their contacts added automatically. Every contact on a case is checked against it on entry
and whenever the watchlist grows.")."""

from __future__ import annotations

from datetime import date

import pytest

from refugium.crypto import DecryptionFailed
from refugium.web.accounts import services as accounts
from refugium.web.casework import cases, notices, recheck, services
from refugium.web.casework.models import CaseContact, Flag, PendingWatch, WatchlistEntry
from refugium.web.core.auditing import audit_log
from refugium.web.desk import services as desk_services
from refugium.web.records import services as records
from refugium.web.records.models import Act, Event, Person
from tests import factories
from tests.web.casework.seized import seized_bytes, written_forms

DAY = date(2017, 4, 2)
CONTACT = "+7 (928) 555-12-34"



def _open(ws: services.Workspace, *contacts: str) -> cases.Case:
    return cases.open_case(ws, risk="high", contacts=[(c, None) for c in contacts], today=DAY).case


def _forms(*secrets: str) -> list[bytes]:
    return [form for secret in secrets for form in written_forms(secret)]


def _flags(case: cases.Case) -> list[Flag]:
    return list(Flag.objects.filter(case=case).order_by("pk"))


def test_listing_a_contact_later_flags_the_case_for_its_assignee_only(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _open(cw, CONTACT, "@friend_of_a_friend")
    assert _flags(case) == []

    # Rita is not assigned to the case and holds none of its keys: listing still flags it.
    services.add_to_watchlist(rita, "89285551234", "phone", "seized from a detainee's phone")

    [flag] = _flags(case)
    assert (flag.source, flag.sealing, flag.raised_by.username) == (
        "watchlist",
        "recipient",
        "rita",
    )
    with pytest.raises(cases.NotFound):
        cases.open_case_view(rita, case.code)
    view = cases.open_case_view(cw, case.code)
    assert [(f.source, f.reason, f.cleared) for f in view.flags] == [
        ("watchlist", "seized from a detainee's phone", False)
    ]
    [notice] = notices.unread(cw.user)
    assert (notice.kind, notice.case_id) == ("flag", case.pk)
    assert ("casework.flag", "case", case.code) in [
        (e["body"]["action"], e["body"]["object"]["type"], e["body"]["object"]["id"])
        for e in audit_log().entries()
    ]


def test_an_open_flag_from_a_recheck_raises_the_gate_like_any_other(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _open(cw, CONTACT)
    services.add_to_watchlist(rita, CONTACT, "phone", "a known lure")
    cases.record_attestation(cw, case, "referee", "+7 900 111 22 33", on=DAY)
    cases.record_attestation(cw, case, "code_answer", "in person", on=DAY)
    cases.move_stage(cw, case, "verification", today=DAY)

    with pytest.raises(cases.GateClosed):
        cases.move_stage(cw, case, "safe", today=DAY)


def test_a_neighbouring_number_and_a_second_reason_raise_nothing_new(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _open(cw, CONTACT)
    services.add_to_watchlist(rita, "+7 928 555 12 35", "phone", "a neighbour's number")
    assert _flags(case) == []

    services.add_to_watchlist(rita, "8 928 555 12 34", "phone", "a lure")
    services.add_to_watchlist(rita, "+79285551234", "phone", "and seized in April")
    services.add_to_watchlist(rita, "+79285551234", "phone", "a lure")

    assert len(_flags(case)) == 1
    assert CaseContact.objects.filter(case=case, flag__isnull=False).count() == 1


def test_a_contact_that_flagged_the_case_on_entry_is_not_flagged_again(
    cw: services.Workspace,
) -> None:
    services.add_to_watchlist(cw, CONTACT, "phone", "a lure")
    case = _open(cw, "89285551234")
    assert len(_flags(case)) == 1

    services.add_many(cw, [("+7 928 555-12-34", "phone", "again, from a partner's list")])

    assert len(_flags(case)) == 1


def test_an_import_flags_every_case_with_one_of_its_contacts(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    first = _open(cw, CONTACT)
    second = _open(cw, "lure@example.org", "@Lure_Handle")
    untouched = _open(cw, "+7 900 000 00 01")

    added = services.add_many(
        rita,
        [
            ("8 (928) 555-12-34", None, "partner's list"),
            ("t.me/lure_handle", None, "partner's list"),
            ("LURE@example.org", None, "partner's list"),
            ("+7 900 000 00 02", None, "partner's list"),
        ],
    )

    assert (added.added, added.flags) == (4, 3)
    assert [len(_flags(c)) for c in (first, second, untouched)] == [1, 2, 0]


def test_a_recheck_still_matches_after_the_desk_key_was_rotated(
    org: factories.Org, cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _open(cw, CONTACT)
    factories.add_user(org, "vera", ["casework"])
    accounts.grant("vera", "casework", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    accounts.revoke("vera", "casework")  # a new generation of the casework desk's key
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    rotated = services.workspace(user, keyring)
    assert len(rotated.keys) == 2

    services.add_to_watchlist(rotated, CONTACT, "phone", "listed after the rotation")

    assert len(_flags(case)) == 1


def test_a_flag_reason_moved_to_another_flag_does_not_open(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _open(cw, CONTACT, "+7 900 000 00 01")
    services.add_to_watchlist(rita, CONTACT, "phone", "first")
    services.add_to_watchlist(rita, "+7 900 000 00 01", "phone", "second")
    first, second = _flags(case)
    keys = cases._keys(cw, case)
    assert recheck.open_from_case(keys, first)["reason"] == "first"

    first.reason = second.reason
    with pytest.raises(DecryptionFailed):
        recheck.open_from_case(keys, first)


# --- Arrests documented on the records desk -------------------------------------------------


@pytest.fixture
def documentation(org: factories.Org) -> records.Workspace:
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    return records.workspace(user, keyring)


def _arrest(ws: records.Workspace, contacts: list[str], status: str = "currently-held") -> Act:
    victim = records.save(ws, Person(), {"full_name": "Synthetic Person", "contacts": contacts})
    event = records.save(ws, Event(), {"title": "Synthetic detention"})
    return records.save(  # type: ignore[return-value]
        ws, Act(event=event, victim=victim), public={"act_type": "arrest", "victim_status": status}
    )


def test_an_arrested_persons_contacts_flag_an_existing_case(
    org: factories.Org, cw: services.Workspace, documentation: records.Workspace
) -> None:
    case = _open(cw, CONTACT)
    act = _arrest(documentation, ["8 928 555 12 34", "@arrested_friend", "not a contact at all!"])

    [pending] = PendingWatch.objects.all()
    for form in _forms(CONTACT, "89285551234", "+79285551234", "arrested_friend"):
        assert form not in bytes(pending.blob)

    # The next casework workspace opened lists them and re-checks the cases.
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    ws = services.workspace(user, keyring)

    assert PendingWatch.objects.count() == 0
    entries = WatchlistEntry.objects.filter(origin="detained")
    assert sorted(entries.values_list("kind", flat=True)) == ["other", "phone", "telegram"]
    view = cases.open_case_view(ws, case.code)
    assert [f.reason for f in view.flags] == [
        f"Contact of {act.victim.code}, arrested (act {act.code})"
    ]


def test_an_act_with_a_narrower_arrest_term_queues_and_another_status_does_not(
    documentation: records.Workspace,
) -> None:
    _arrest(documentation, ["+7 900 000 00 03"], status="wounded")
    assert PendingWatch.objects.count() == 0

    _arrest(documentation, ["+7 900 000 00 04"], status="released-or-escaped")
    assert PendingWatch.objects.count() == 1


def test_new_contacts_of_a_person_arrested_before_are_queued(
    documentation: records.Workspace,
) -> None:
    act = _arrest(documentation, ["+7 900 000 00 05"])
    PendingWatch.objects.all().delete()

    records.save(documentation, act.victim, {"contacts": ["+7 900 000 00 05", "@new_handle"]})

    assert PendingWatch.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_seized_database_holds_no_contact_of_an_arrest_or_a_case(data_dir: object) -> None:
    from refugium.web.records.vocab import sync_shipped

    sync_shipped()  # an earlier transactional test may have flushed the migrations' terms
    factories.make_org()
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    cw = services.workspace(user, keyring)
    documentation = records.workspace(user, keyring)
    _open(cw, CONTACT)
    _arrest(documentation, ["+7 (928) 555-77-88", "@arrested_friend"])
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    services.workspace(user, keyring)

    found = seized_bytes()
    secrets = (CONTACT, "89285551234", "+79285551234", "+7 (928) 555-77-88", "89285557788")
    for form in _forms(*secrets, "+79285557788", "arrested_friend"):
        assert form not in found, form

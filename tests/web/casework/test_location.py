"""The location compartment: its own key, masked by default, reveals, destruction (issue 9,
"Location compartment")."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User

from refugium.crypto import DecryptionFailed, DeskKey, Identity
from refugium.errors import BadInput, Conflict, NotFound
from refugium.web.casework import cases, location, services
from refugium.web.casework.models import (
    Assignment,
    Case,
    LocationCompartment,
    LocationContent,
    LocationKeyWrap,
    LocationReveal,
    Notice,
)
from refugium.web.desk import services as desk_services
from tests import factories
from tests.web.casework.seized import seized_bytes, written_forms
from tests.web.casework.test_cases import _audit_actions, _caseworker

DAY = date(2017, 4, 2)
AT = datetime(2017, 4, 2, 9, 30, tzinfo=UTC)
ADDRESS = "ул. Ленина 12, кв. 34, Нальчик"
ROUTE = "bus Nalchik–Moscow, 4 April"
CONTACT = "+7 (928) 555-12-34"




def _case(cw: services.Workspace, logistics: services.Workspace, **extra: object) -> Case:
    """A case in verification, opened by ``cw``, with ``logistics`` as its logistics owner."""
    case = cases.open_case(cw, risk="high", channel="@asker", today=DAY, **extra).case  # type: ignore[arg-type]
    cases.move_stage(cw, case, "verification", today=DAY)
    cases.assign(cw, case, logistics.user, role="logistics", today=DAY)
    return case


def _fill(ws: services.Workspace, case: Case, stage: str = "safe") -> LocationCompartment:
    return location.fill(
        ws, case, stage, region="Kabardino-Balkaria", address=ADDRESS, route=ROUTE, today=DAY
    )


def _to_safe(cw: services.Workspace, case: Case) -> None:
    cases.record_attestation(cw, case, "referee", "signal: zarema", on=DAY)
    cases.record_attestation(cw, case, "callback", "+7 928 000 11 22", on=DAY)
    cases.move_stage(cw, case, "safe", today=DAY)


def _opens(ws: services.Workspace, case: Case) -> list[int]:
    """The location contents of the case whose key any wrap lets ``ws``'s identity open."""
    opened = []
    for wrap in LocationKeyWrap.objects.filter(content__compartment__case=case):
        try:
            DeskKey.unwrap(bytes(wrap.blob), ws.identity)  # type: ignore[arg-type]
        except DecryptionFailed:
            continue
        opened.append(wrap.content_id)
    return opened


# --- Its own key ----------------------------------------------------------------------------


def test_the_compartment_key_is_wrapped_only_to_the_logistics_owner_and_recovery(
    cw: services.Workspace, rita: services.Workspace, org: factories.Org
) -> None:
    case = _case(cw, rita)
    compartment = _fill(rita, case)
    content = LocationContent.objects.get(compartment=compartment)
    wraps = LocationKeyWrap.objects.filter(content=content)
    assert sorted(str(w.assignment.user) if w.assignment else "recovery" for w in wraps) == [
        "recovery",
        "rita",
    ]
    assert _opens(rita, case) == [content.pk]
    assert _opens(cw, case) == []  # an assignee, but not logistics
    recovery = Identity.from_secret_string(org.paper_key)
    key = DeskKey.unwrap(bytes(wraps.get(assignment=None).blob), recovery)
    assert key.key_id == content.key_id
    assert cases._open([key], content, "sealed")["address"] == ADDRESS
    # Not the case key, and not the desk key: neither opens the contents.
    for keys in (cases._keys(cw, case), cases._keys(rita, case), cw.keys, rita.keys):
        with pytest.raises(DecryptionFailed):
            cases._open(keys, content, "sealed")
    assert ADDRESS.encode() not in bytes(content.sealed)
    assert ("casework.location_fill", "case", case.code) in _audit_actions()


def test_no_logistics_owner_no_compartment(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = cases.open_case(cw, risk="high", today=DAY).case
    cases.move_stage(cw, case, "verification", today=DAY)
    cases.assign(cw, case, rita.user, role="coordinator")
    for ws in (cw, rita):
        with pytest.raises(BadInput, match="C-0001 has no logistics owner"):
            _fill(ws, case)
    assert LocationCompartment.objects.count() == 0
    assert LocationContent.objects.count() == 0


def test_only_the_logistics_owner_fills_and_only_the_stages_at_hand(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _case(cw, rita)
    with pytest.raises(location.NotLogisticsOwner, match=r"logistics owner of C-0001 \(rita\)"):
        _fill(cw, case)
    with pytest.raises(BadInput, match="it can fill safe"):
        _fill(rita, case, "exit")  # two stages ahead
    with pytest.raises(BadInput, match="no location compartment for stage 'request'"):
        _fill(rita, case, "request")
    with pytest.raises(BadInput, match="a region is needed"):
        location.fill(rita, case, "safe", region="  ", address=ADDRESS)
    assert LocationCompartment.objects.count() == 0
    first = _fill(rita, case)
    old = bytes(LocationContent.objects.get(compartment=first).sealed)
    again = location.fill(rita, case, "safe", region="Moscow", address="another flat")
    assert again.pk == first.pk  # the same compartment, new contents under a new key
    [content] = LocationContent.objects.filter(compartment=first)
    assert bytes(content.sealed) != old
    assert LocationKeyWrap.objects.filter(content__compartment=first).count() == 2


# --- Masked by default, and reveals ---------------------------------------------------------


def test_masked_until_the_owner_reveals_and_only_for_the_owner(
    cw: services.Workspace, rita: services.Workspace, omar: services.Workspace
) -> None:
    case = _case(cw, rita)
    _fill(rita, case)
    masked = location.location_view(rita, case, now=AT)
    [compartment] = masked.compartments
    assert (masked.owner, masked.is_owner, masked.revealed_until) == ("rita", True, None)
    assert (compartment.masked, compartment.address, compartment.region) == (
        True,
        location.MASK,
        location.MASK,
    )
    location.reveal(rita, case, "meeting the driver at the flat", 30, now=AT)
    shown = location.location_view(rita, case, now=AT + timedelta(minutes=5))
    [compartment] = shown.compartments
    assert (compartment.masked, compartment.address, compartment.route) == (False, ADDRESS, ROUTE)
    assert compartment.region == "Kabardino-Balkaria"
    assert shown.revealed_until == AT + timedelta(minutes=30)
    assert ("casework.location_view", "case", case.code) in _audit_actions()
    # Another assignee sees it masked, even while the owner's reveal runs.
    other = location.location_view(cw, case, now=AT + timedelta(minutes=5))
    assert [c.address for c in other.compartments] == [location.MASK]
    assert other.is_owner is False
    with pytest.raises(location.NotLogisticsOwner):
        location.reveal(cw, case, "curious", now=AT)
    # An unassigned caseworker: the same "no case" as for a missing case, and no key opens.
    with pytest.raises(NotFound) as missing:
        location.location_view(omar, "C-0099", now=AT)
    with pytest.raises(NotFound) as unassigned:
        location.location_view(omar, "C-0001", now=AT)
    assert str(missing.value) == "no case 'C-0099'"
    assert str(unassigned.value) == "no case 'C-0001'"
    with pytest.raises(NotFound, match="no case 'C-0001'"):
        location.reveal(omar, case, "curious", now=AT)
    assert _opens(omar, case) == []
    content = LocationContent.objects.get(compartment__case=case)
    with pytest.raises(DecryptionFailed):
        cases._open(omar.keys, content, "sealed")


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reveal_without_a_reason_is_refused_and_writes_nothing(
    cw: services.Workspace, rita: services.Workspace, reason: str | None
) -> None:
    case = _case(cw, rita)
    _fill(rita, case)
    before = _audit_actions()
    with pytest.raises(BadInput, match="a reveal needs a reason"):
        location.reveal(rita, case, reason, now=AT)  # type: ignore[arg-type]
    assert LocationReveal.objects.count() == 0
    assert Notice.objects.count() == 0
    assert _audit_actions() == before
    assert location.location_view(rita, case, now=AT).compartments[0].masked


@pytest.mark.parametrize("minutes", [0, -5, location.MAX_REVEAL_MINUTES + 1, 2.5, True])
def test_a_reveal_lasts_a_limited_time(
    cw: services.Workspace, rita: services.Workspace, minutes: object
) -> None:
    case = _case(cw, rita)
    _fill(rita, case)
    with pytest.raises(BadInput, match="minutes"):
        location.reveal(rita, case, "driver", minutes, now=AT)  # type: ignore[arg-type]
    assert LocationReveal.objects.count() == 0


def test_an_expired_reveal_is_masked_again(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _case(cw, rita)
    _fill(rita, case)
    location.reveal(rita, case, "driver", location.MAX_REVEAL_MINUTES, now=AT)
    end = AT + timedelta(minutes=location.MAX_REVEAL_MINUTES)
    last = location.location_view(rita, case, now=end - timedelta(seconds=1))
    assert last.compartments[0].address == ADDRESS
    after = location.location_view(rita, case, now=end)
    assert (after.revealed_until, after.compartments[0].masked) == (None, True)
    assert after.compartments[0].address == location.MASK


def test_every_reveal_is_in_the_audit_chain_and_tells_a_second_person(
    cw: services.Workspace, rita: services.Workspace, omar: services.Workspace
) -> None:
    from refugium.web.core.auditing import audit_log

    case = _case(cw, rita)
    _fill(rita, case)
    first = location.reveal(rita, case, "driver at 10", 10, now=AT)
    # No coordinator on the case: every other assignee is told (here admin).
    [notice] = Notice.objects.all()
    assert (notice.user.username, notice.kind, notice.case_id) == ("admin", "reveal", case.pk)
    assert notice.text == "rita revealed the location of C-0001 for 10 min"
    cases.assign(cw, case, omar.user, role="coordinator")
    location.reveal(rita, case, "driver at 11", 10, now=AT + timedelta(hours=1))
    assert [n.user.username for n in Notice.objects.order_by("pk")] == ["admin", "omar"]
    reveals = [a for a in _audit_actions() if a[0] == "casework.reveal"]
    assert reveals == [("casework.reveal", "case", "C-0001")] * 2
    assert audit_log().verify() == len(list(audit_log().entries()))
    # The reason is sealed under the case key, not written in the clear.
    assert b"driver" not in bytes(first.reason)
    # The second person reads why; a caseworker not on the case cannot.
    log = location.reveals(omar, case)
    assert [(r.user, r.reason, r.expires_at - r.granted_at) for r in log] == [
        ("rita", "driver at 10", timedelta(minutes=10)),
        ("rita", "driver at 11", timedelta(minutes=10)),
    ]
    assert ("casework.reveal_log", "case", "C-0001") in _audit_actions()
    cases.unassign(cw, case, omar.user)
    with pytest.raises(NotFound, match="no case 'C-0001'"):
        location.reveals(omar, case)


def test_a_lone_owner_tells_the_admins_and_with_nobody_to_tell_no_reveal(
    org: factories.Org, rita: services.Workspace
) -> None:
    case = cases.open_case(rita, risk="high", today=DAY).case
    cases.move_stage(rita, case, "verification", today=DAY)
    Assignment.objects.filter(case=case).update(role="logistics")
    _fill(rita, case)
    location.reveal(rita, case, "driver", now=AT)
    assert [n.user.username for n in Notice.objects.all()] == ["admin"]
    User.objects.filter(username="admin").update(is_active=False)
    with pytest.raises(BadInput, match="nobody else to tell"):
        location.reveal(rita, case, "driver", now=AT)
    assert LocationReveal.objects.count() == 1


def test_an_open_flag_blocks_a_reveal_until_a_second_caseworker_clears_it(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    services.add_to_watchlist(cw, "89285551234", "phone", "Seized phone of a detainee")
    case = _case(cw, rita, contacts=[(CONTACT, "phone")])
    _fill(rita, case)
    [flag] = case.flags.all()
    with pytest.raises(Conflict, match="1 open provocation flag"):
        location.reveal(rita, case, "driver", now=AT)
    assert (LocationReveal.objects.count(), Notice.objects.count()) == (0, 0)
    with pytest.raises(BadInput, match="second caseworker"):
        cases.clear_flag(cw, case, flag.pk)  # cw raised it
    cases.clear_flag(rita, case, flag.pk)
    location.reveal(rita, case, "driver", now=AT)
    assert location.location_view(rita, case, now=AT).compartments[0].address == ADDRESS


# --- Handing over ---------------------------------------------------------------------------


def test_handing_logistics_over_rewraps_to_the_new_owner_only(
    cw: services.Workspace, rita: services.Workspace, omar: services.Workspace
) -> None:
    case = _case(cw, rita)
    cases.assign(cw, case, omar.user)
    _fill(rita, case)
    location.reveal(rita, case, "driver", now=AT)
    with pytest.raises(location.NotLogisticsOwner):
        location.hand_over(omar, case, omar.user)
    with pytest.raises(BadInput, match="'rita' is the logistics owner"):
        location.hand_over(rita, case, rita.user)
    User.objects.filter(username="admin").update(is_active=False)
    with pytest.raises(BadInput, match="'admin' is not an active member"):
        location.hand_over(rita, case, User.objects.get(username="admin"))
    User.objects.filter(username="admin").update(is_active=True)
    assert location.hand_over(rita, case, omar.user, now=AT + timedelta(minutes=1)) == 1
    content = LocationContent.objects.get(compartment__case=case)
    assert _opens(omar, case) == [content.pk]
    assert _opens(rita, case) == []
    roles = dict(Assignment.objects.filter(case=case).values_list("user__username", "role"))
    assert roles == {"admin": "caseworker", "rita": "caseworker", "omar": "logistics"}
    # Rita's reveal ended with her role; omar reads after a reveal of his own.
    later = AT + timedelta(minutes=2)
    assert location.location_view(rita, case, now=later).compartments[0].masked
    location.reveal(omar, case, "new driver", now=later)
    assert location.location_view(omar, case, now=later).compartments[0].address == ADDRESS
    assert ("casework.location_handover", "case", case.code) in _audit_actions()


def test_cutting_off_the_owner_deletes_their_wrap(
    cw: services.Workspace, rita: services.Workspace, omar: services.Workspace
) -> None:
    case = _case(cw, rita)
    _fill(rita, case)
    cases.cut_off(cw, rita.user)
    assert not LocationKeyWrap.objects.filter(assignment__isnull=False).exists()
    assert LocationKeyWrap.objects.filter(assignment=None).count() == 1  # recovery only
    cases.assign(cw, case, omar.user, role="logistics")
    location.reveal(omar, case, "the owner was detained", now=AT)
    [held] = location.location_view(omar, case, now=AT).compartments
    assert (held.masked, held.held) == (True, False)
    location.fill(omar, case, "safe", region="Moscow", address="a new flat")
    assert location.location_view(omar, case, now=AT).compartments[0].address == "a new flat"


# --- Destruction ----------------------------------------------------------------------------


def test_leaving_the_stage_destroys_the_compartment_leaving_a_tombstone(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _case(cw, rita)
    _fill(rita, case)
    _to_safe(cw, case)  # its own stage: the compartment lives on
    _fill(rita, case, "exit")  # the next stage's, planned while safe
    assert LocationContent.objects.count() == 2
    ciphertext = bytes(LocationContent.objects.get(compartment__stage="safe").sealed)
    cases.move_stage(cw, case, "exit", today=date(2017, 4, 9))
    assert LocationContent.objects.filter(compartment__stage="safe").count() == 0
    assert LocationKeyWrap.objects.filter(content__compartment__stage="safe").count() == 0
    view = location.location_view(cw, case, now=AT)
    [tombstone] = view.tombstones
    assert (tombstone.stage, tombstone.destroyed_on) == ("safe", date(2017, 4, 9))
    assert tombstone.summary == "relocated / Kabardino-Balkaria"
    assert tombstone.digest == hashlib.sha256(ciphertext).hexdigest()
    assert [c.stage for c in view.compartments] == ["exit"]
    assert ("casework.location_destroy", "case", case.code) in _audit_actions()
    # A step back ends a stage too: the failed route goes.
    cases.move_stage(cw, case, "safe", today=DAY)
    assert LocationContent.objects.count() == 0
    assert [t.stage for t in location.location_view(cw, case, now=AT).tombstones] == [
        "safe",
        "exit",
    ]


def test_closing_destroys_every_compartment(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _case(cw, rita)
    _fill(rita, case)
    cases.move_stage(cw, case, "rejected", today=DAY)
    assert LocationContent.objects.count() == 0
    assert LocationKeyWrap.objects.count() == 0
    assert LocationCompartment.objects.get().destroyed_on == DAY
    with pytest.raises(BadInput, match="no location compartment"):
        _fill(rita, case)


def _pieces(data: bytes, size: int = 32) -> list[bytes]:
    """Every ``size``-byte piece of ``data``: a fragment left in a freed page is a hit too."""
    return [data[i : i + size] for i in range(0, len(data) - size + 1, size)]


# A short compartment fits in its row; a long one (over 4 KiB) spills into overflow pages,
# which are freed apart from the row.
@pytest.mark.parametrize("padding", [0, 390])
@pytest.mark.django_db(transaction=True)
def test_a_seized_database_holds_nothing_of_a_destroyed_compartment(
    data_dir: object, padding: int
) -> None:
    org = factories.make_org()
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    cw = services.workspace(user, keyring)
    rita = _caseworker(org, "rita")
    case = _case(cw, rita)
    location.fill(rita, case, "safe", region="FIRST-REGION", address="FIRST-FLAT Пушкина 7")
    replaced = bytes(LocationContent.objects.get().sealed)
    location.fill(
        rita,
        case,
        "safe",
        region="REGION-MARK",
        address=ADDRESS,
        route="ROUTE-MARK via Mineralnye Vody",
        tickets="TICKET-MARK 7712" + " seat" * padding,
        dates="DATES-MARK",
        notes="NOTES-MARK" + " long" * padding,
        today=DAY,
    )
    location.reveal(rita, case, "REASON-MARK", now=AT)
    content = LocationContent.objects.get()
    ciphertext = bytes(content.sealed)
    assert len(ciphertext) > 4096 if padding else len(ciphertext) < 1024
    blobs = [bytes(w.blob) for w in LocationKeyWrap.objects.all()]
    before = seized_bytes()
    # The grep finds what is there (a piece across an overflow page's boundary is split).
    found = [piece for piece in _pieces(ciphertext) if piece in before]
    assert len(found) >= 0.9 * len(_pieces(ciphertext))
    assert [p for p in _pieces(replaced) if p in before] == []  # a refill leaves no old copy
    _to_safe(cw, case)
    cases.move_stage(cw, case, "exit", today=DAY)
    assert LocationContent.objects.count() == 0
    assert LocationKeyWrap.objects.count() == 0
    seized = seized_bytes()
    secrets = [
        ADDRESS,
        "Ленина",
        "Пушкина",
        "FIRST-FLAT",
        "FIRST-REGION",
        "ROUTE-MARK",
        "TICKET-MARK",
        "DATES-MARK",
        "NOTES-MARK",
        "REGION-MARK",
        "REASON-MARK",
    ]
    hits = [s for s in secrets for form in written_forms(s) if form in seized]
    assert hits == []
    assert [p for p in _pieces(ciphertext) if p in seized] == []
    header = b"age-encryption.org/v1\n-> X25519 "  # the same in every age file
    assert all(blob.startswith(header) for blob in blobs)
    assert [p for blob in blobs for p in _pieces(blob[len(header) :]) if p in seized] == []
    [tombstone] = location.location_view(cw, case, now=AT).tombstones
    assert tombstone.summary == "relocated / REGION-MARK"
    assert tombstone.digest == hashlib.sha256(ciphertext).hexdigest()
    assert tombstone.digest.encode() in seized  # the hash stays; the ciphertext does not

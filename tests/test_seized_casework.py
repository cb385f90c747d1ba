"""A seized casework server names no one (issue 9, "Done when": "with 200 synthetic cases,
grep the data folder for every phone number, handle, address and name used, in all written
forms: 0 hits").

200 synthetic cases (generated here; no real person, number or place) go through the real
services, touching every part that stores something sensitive: contacts of every kind and
written form, names in Cyrillic and Latin, notes, request channels, a linked records Person;
watchlist entries listed before the cases (flags on entry) and after them (flags by re-check)
and by an arrest documented on the records desk (queued, drained, flags); attestations; flags
raised by hand; location compartments filled, revealed and destroyed by a stage move;
do-not-disclose entries; partners and referrals with consent notes; check-in schedules,
check-ins and the escalation pass; tasks, notes and costs. Every string typed is kept, with
every form the code computes from it (E.164, digits only, lower case, handles without ``@``,
folded names, normalised answers and codes), and the whole data folder (database, WAL, shared
memory, audit log, keys folder) is searched for each in the forms of
``tests/web/casework/seized.py`` and as hex: 0 hits.

Not marked ``slow``: the marker is for real servers and production-cost Argon2id, and this
runs in-process with the test profile (the check-in answers' Argon2id too).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.db import connection

from refugium.casework import contacts as contact_forms
from refugium.casework.checkins import normalise_answer
from refugium.crypto import Identity
from refugium.linkage.names import name_keys as linkage_name_keys
from refugium.web.casework import (
    cases,
    checkin_store,
    ledger,
    location,
    recheck,
    referrals,
    services,
    tasks,
)
from refugium.web.casework.models import (
    Case,
    CaseNote,
    CheckinEntry,
    CheckinSchedule,
    Cost,
    DoNotDisclose,
    Flag,
    LocationCompartment,
    LocationReveal,
    PendingWatch,
    Referral,
    Task,
)
from refugium.web.desk import services as desk_services
from refugium.web.records import services as records
from refugium.web.records.models import Act, Event, Person
from tests import factories
from tests.web.casework.seized import written_forms
from tests.web.casework.test_cases import _caseworker

CASES = 200
DAY = date(2017, 4, 2)
AT = datetime(2017, 4, 2, 9, 30, tzinfo=UTC)
EVERY, GRACE = timedelta(hours=6), timedelta(minutes=30)

GIVEN_RU = ["Зелимхан", "Руслан", "Ахмед", "Хамзат", "Ислам", "Мовсар"]
GIVEN_LAT = ["Magomed", "Ibragim", "Adam", "Shamil", "Rizvan", "Timur"]
SYLLABLES_RU = ["ка", "ло", "ми", "ну", "ра", "се", "ти", "зу", "ха", "ше"]
SYLLABLES_LAT = ["ka", "lo", "mi", "nu", "ra", "se", "ti", "zu", "kha", "she"]
STREETS = ["ул. Садовая", "пр-т Победы", "ul. Lenina", "пер. Тихий"]


# --- The synthetic people and what is typed about them ----------------------------------------


def _token(i: int, latin: bool) -> str:
    """A made-up syllable word unique to ``i`` (no digits: names do not have them)."""
    syllables = SYLLABLES_LAT if latin else SYLLABLES_RU
    return "".join(syllables[int(d)] for d in f"{i:03d}").capitalize()


def _name(i: int, role: str) -> str:
    """The i-th synthetic full name for ``role`` (person, relative, victim, ...), Cyrillic or
    Latin by turns."""
    latin = i % 2 == 1
    given = (GIVEN_LAT if latin else GIVEN_RU)[(i + len(role)) % 6]
    ending = {"person": ("ев", "ev"), "relative": ("ова", "ova")}.get(role, ("ин", "in"))
    return f"{given} {_token(i, latin)}{role[:2]}{ending[latin]}"


def _national(i: int, line: int) -> str:
    """A synthetic Russian mobile number's 10 national digits, unique to (i, line)."""
    operator = "012356"[line]  # 91x, 92x, 93x, 95x, 96x: Russian mobile prefixes
    return f"9{operator}4{i:03d}{(i * 7 + line) % 100:02d}{line}7"


def _phone_written(national: str, style: int) -> str:
    """The number as people write it: Russian ``8…``, ``+7…``, brackets, dashes, spaces."""
    a, b, c, d = national[:3], national[3:6], national[6:8], national[8:]
    return [
        f"8{national}",
        f"+7 ({a}) {b}-{c}-{d}",
        f"8 {a} {b} {c} {d}",
        f"+7{national}",
        f"8 ({a}) {b}-{c}-{d}",
        f"+7-{a}-{b}-{c}-{d}",
    ][style % 6]


@dataclass
class Secrets:
    """Every string typed in, each with the forms the code computes from it."""

    found: set[str] = field(default_factory=set)

    def text(self, *values: str) -> None:
        self.found.update(value for value in values if value)

    def phone(self, national: str) -> None:
        self.text(
            *(_phone_written(national, s) for s in range(6)),
            national,
            f"7{national}",
            f"8{national}",
            contact_forms.normalise(national, "phone"),
            contact_forms.lookup_key(f"8{national}", "phone"),
        )

    def handle(self, written: str) -> None:
        bare = written.removeprefix("@")
        self.text(written, bare, f"@{bare}", bare.lower(), f"https://t.me/{bare}")
        self.text(contact_forms.lookup_key(bare, "telegram"))

    def email(self, written: str) -> None:
        self.text(written, written.lower(), contact_forms.lookup_key(written, "email"))

    def name(self, written: str) -> None:
        """The name, its family name alone, and the keys the referrals' list digests."""
        self.text(written, written.split()[-1], referrals.name_key(written))
        self.text(linkage_name_keys(full_name=written).folded)

    def answer(self, written: str) -> None:
        self.text(written, normalise_answer(written), written.replace("ё", "е"))

    def code(self, written: str) -> None:
        digits = checkin_store.normalise_code(written)
        self.text(written, digits, checkin_store.format_code(digits))


# --- Searching the seized files ----------------------------------------------------------------

PREFIX = 8
WEIGHTS = (256 ** np.arange(PREFIX, dtype=np.uint64)).astype(np.uint64)


def _prefix_key(data: bytes) -> int:
    return int.from_bytes(data[:PREFIX], "little")


def _hits(blobs: dict[str, bytes], needles: dict[bytes, str]) -> list[tuple[str, str]]:
    """(file, secret) for every needle found in a blob. Exact, and fast enough for tens of
    thousands of needles over megabytes: every 8-byte window of a blob is read as an
    integer, the windows equal to some needle's first 8 bytes are found at once with numpy,
    and only those positions are compared in full. Needles shorter than 8 bytes are looked
    for one by one."""
    short = [n for n in needles if len(n) < PREFIX]
    by_prefix: dict[int, list[bytes]] = defaultdict(list)
    for needle in needles:
        if len(needle) >= PREFIX:
            by_prefix[_prefix_key(needle)].append(needle)
    wanted = np.array(sorted(by_prefix), dtype=np.uint64)
    hits = []
    for name, blob in blobs.items():
        hits += [(name, needles[n]) for n in short if n in blob]
        array = np.frombuffer(blob, dtype=np.uint8)
        windows = len(array) - PREFIX + 1
        if windows <= 0:
            continue
        keys = np.zeros(windows, dtype=np.uint64)
        for j in range(PREFIX):
            keys |= array[j : j + windows].astype(np.uint64) << np.uint64(8 * j)
        for position in np.flatnonzero(np.isin(keys, wanted)):
            for needle in by_prefix[int(keys[position])]:
                if blob.startswith(needle, int(position)):
                    hits.append((name, needles[needle]))
    return sorted(set(hits))


def _needles(secrets: Iterable[str]) -> dict[bytes, str]:
    found: dict[bytes, str] = {}
    for secret in secrets:
        for form in [*written_forms(secret), secret.encode().hex().encode()]:
            found[form] = secret
    return found


def _seized_files() -> dict[str, bytes]:
    """Every file of the data folder (keys, audit log and whatever else lies there) and the
    database with its WAL and shared memory, as they lie on disk."""
    database = Path(connection.settings_dict["NAME"])
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
    paths = {p for p in Path(settings.DATA.root).rglob("*") if p.is_file()}
    paths |= {p for p in database.parent.glob(f"{database.name}*") if p.is_file()}
    assert database in paths
    assert Path(settings.DATA.audit_log) in paths
    return {str(p): p.read_bytes() for p in sorted(paths)}


def test_the_search_finds_each_form_of_a_secret_wherever_it_lies() -> None:
    """The search itself can fail: a needle at a blob's very start, end, in UTF-16, in
    base64, and one shorter than the 8-byte prefix, are all found."""
    needles = _needles(["+7 (928) 470-01-05", "Зелимхан Хасуев", "ab12"])
    blobs = {
        "start": b"+7 (928) 470-01-05 tail",
        "end": b"\x00" * 999 + "Зелимхан Хасуев".encode("utf-16-le"),
        "b64": b"xx" + written_forms("+7 (928) 470-01-05")[3] + b"yy",
        "short": b"..ab12..",
        "none": bytes(range(256)) * 40,
    }
    assert _hits(blobs, needles) == [
        ("b64", "+7 (928) 470-01-05"),
        ("end", "Зелимхан Хасуев"),
        ("short", "ab12"),
        ("start", "+7 (928) 470-01-05"),
    ]


# --- 200 cases ---------------------------------------------------------------------------------


@dataclass
class Desk:
    cw: services.Workspace
    rita: services.Workspace
    documentation: records.Workspace
    partners: list[referrals.Partner]
    secrets: Secrets


def _partners(cw: services.Workspace, secrets: Secrets) -> list[referrals.Partner]:
    made = []
    for n, name in enumerate(["Приют Ласточка Синтетика", "Northern Shelter Synthetic"]):
        national, mail = _national(900 + n, 1), f"Intake.Partner{n}@Shelter-Synthetic.example"
        secrets.phone(national)
        secrets.email(mail)
        secrets.name(name)
        made.append(
            referrals.add_partner(
                cw,
                name,
                str(Identity.generate().recipient),
                contacts=[(f"+7{national}", "phone"), (mail, None)],
                now=AT,
            )
        )
    return made


def _open(desk: Desk, i: int) -> Case:
    """The i-th case, opened with three contacts, a name, notes and a request channel."""
    s, cw = desk.secrets, desk.cw
    phone, second = _national(i, 2), _national(i, 3)
    handle = f"Zk_Asker{i:03d}q" if i % 2 else f"@Zk_Asker{i:03d}q"
    mail = f"Mixed.Case{i:03d}@Example-Synthetic.org"
    name, notes = _name(i, "person"), f"Просит помощи {_token(i, False)}ной: notes-{i:03d}-mk"
    channel = [f"@Req_Chan{i:03d}z", f"8{second}", f"Req.Chan{i:03d}@Mail-Synthetic.ru"][i % 3]
    s.phone(phone)
    s.phone(second)
    s.handle(handle)
    s.email(mail)
    s.name(name)
    s.text(notes, f"notes-{i:03d}-mk")
    s.handle(f"@Req_Chan{i:03d}z")
    s.email(f"Req.Chan{i:03d}@Mail-Synthetic.ru")
    person = None
    if i % 10 == 5:
        linked_name = _name(i, "documented")
        s.name(linked_name)
        person = records.save(
            desk.documentation, Person(), {"full_name": linked_name, "contacts": [f"+7{phone}"]}
        )
        s.text(person.code)
    return cases.open_case(
        cw,
        risk=["low", "medium", "high", "critical"][i % 4],
        needs=["shelter", "travel"],
        contacts=[
            (_phone_written(phone, i), None),
            (handle, "telegram"),
            (mail, "email" if i % 3 else None),
        ],
        person=person,
        channel=channel,
        name=name,
        notes=notes,
        today=DAY,
    ).case


def _verify(desk: Desk, case: Case, i: int) -> None:
    """Two independent signals over channels known before the request."""
    referee, callback = f"signal: Referee{i:03d}vx", _national(i, 4)
    desk.secrets.text(referee, f"Referee{i:03d}vx", f"attest-note-{i:03d}-mk")
    desk.secrets.phone(callback)
    cases.record_attestation(
        desk.cw, case, "referee", referee, note=f"attest-note-{i:03d}-mk", on=DAY
    )
    cases.record_attestation(desk.cw, case, "callback", _phone_written(callback, i + 1), on=DAY)


def _location(desk: Desk, case: Case, i: int) -> None:
    """Rita, the logistics owner, fills the safe stage's compartment; some are revealed; a
    move to ``exit`` destroys it for others (after the exit compartment is filled)."""
    s, cw, rita = desk.secrets, desk.cw, desk.rita
    cases.assign(cw, case, rita.user, role="logistics", today=DAY)
    address = f"{STREETS[i % 4]} {i + 3}, кв. {i % 90 + 1}, дом {_token(i, False)}ова"
    route = f"bus Nalchik–Rostov {_token(i, True)}burg, seat {i % 40 + 1}"
    tickets, dates = f"PNR-{_token(i, True).upper()}-{i:03d}", f"выезд {i % 28 + 1} апреля"
    s.text(address, f"{_token(i, False)}ова", route, tickets, dates, f"loc-note-{i:03d}-mk")
    location.fill(
        rita,
        case,
        "safe",
        region="Southern Federal District",
        address=address,
        route=route,
        tickets=tickets,
        dates=dates,
        notes=f"loc-note-{i:03d}-mk",
        today=DAY,
    )
    if i % 8 == 0:
        reason = f"покупка билетов {_token(i, False)}: reveal-{i:03d}-mk"
        s.text(reason, f"reveal-{i:03d}-mk")
        location.reveal(rita, case, reason, 15, now=AT)
    if i % 8 == 4:
        cases.move_stage(cw, case, "safe", today=DAY)
        exit_address = f"Flat {_token(i, True)}strasse {i}, Berlin"
        s.text(exit_address, f"{_token(i, True)}strasse")
        location.fill(rita, case, "exit", region="Germany", address=exit_address, today=DAY)
        cases.move_stage(cw, case, "exit", today=DAY)


def _protect(desk: Desk, case: Case, i: int) -> None:
    """A relative on the do-not-disclose list; for other cases a referral with consent."""
    s = desk.secrets
    if i % 3 == 0:
        relative, phone = _name(i, "relative"), _national(i, 5)
        s.name(relative)
        s.phone(phone)
        s.text(f"dnd-note-{i:03d}-mk: ищет через полицию")
        referrals.add_do_not_disclose(
            desk.cw,
            case,
            ["relative", "officer", "informer"][i % 9 // 3],
            name=relative,
            contacts=[(_phone_written(phone, i), None)],
            note=f"dnd-note-{i:03d}-mk: ищет через полицию",
            now=AT,
        )
    elif i % 8 == 2:
        consent = f"согласие {_token(i, False)}: consent-{i:03d}-mk"
        s.text(consent, f"consent-{i:03d}-mk")
        referrals.refer(
            desk.cw,
            case,
            desk.partners[i % 2],
            ["needs", "risk", "name", "contact"],
            consent=referrals.Consent(how="call", on=DAY, note=consent),
            now=AT,
        )


def _paperwork(desk: Desk, case: Case, i: int) -> None:
    """A task, a note and a cost, each with text about the person."""
    s, cw = desk.secrets, desk.cw
    title, details = f"Купить билет {_token(i, False)}у", f"task-details-{i:03d}-mk"
    note, cost = f"Звонил брат {_token(i, True)}: note-{i:03d}-mk", f"cost-desc-{i:03d}-mk"
    s.text(title, details, note, cost)
    task = tasks.add_task(
        cw, case, title, due_on=DAY + timedelta(days=7), details=details, today=DAY
    )
    if i % 4 == 1:
        tasks.complete_task(cw, case, task.pk, today=DAY)
    tasks.add_note(cw, case, note, today=DAY)
    ledger.add_cost(
        cw,
        case,
        spent_on=DAY,
        category="tickets",
        amount=120_000 + i,
        currency="RUB",
        description=cost,
        today=DAY,
    )


def _checkins(desk: Desk, case: Case, i: int) -> None:
    """A schedule with agreed answers: half the people check in (their answer typed in
    capitals), a quarter answer under duress, a quarter miss (the escalation pass raises it)."""
    normal, duress = f"Зелёный чай {_token(i, False)}", f"Tikhaya Gavan {_token(i, True)}"
    desk.secrets.answer(normal)
    desk.secrets.answer(duress)
    enrolled = checkin_store.enrol(desk.cw, case, EVERY, GRACE, normal, duress, now=AT)
    desk.secrets.code(enrolled.code)
    if i % 40 == 11:
        checkin_store.receive(enrolled.code, duress, now=AT + timedelta(hours=1))
    elif i % 40 != 1:
        checkin_store.receive(enrolled.code, normal.upper(), now=AT + timedelta(hours=5))


def _arrest(desk: Desk) -> Act:
    """An arrest documented on the records desk, its victim holding contacts of cases 5 and
    15 in other written forms, and one of their own."""
    s, ws = desk.secrets, desk.documentation
    victim, own, title = _name(777, "victim"), "@Arrested_Friend_Syn", "Synthetic detention 777"
    s.name(victim)
    s.handle(own)
    s.text(title)
    contacts = [_phone_written(_national(5, 2), 4), "MIXED.CASE015@EXAMPLE-SYNTHETIC.ORG", own]
    person = records.save(ws, Person(), {"full_name": victim, "contacts": contacts})
    # Not the victim's code: the records desk audits by code every read of a Person's
    # identity, and reading the arrested victim's contacts for the watchlist is one
    # (``records.watchlist``); that the act was an arrest is a public field of the records.
    # The codes of the Persons linked to cases are searched for: nothing reads them here.
    event = records.save(ws, Event(), {"title": title})
    act = records.save(
        ws,
        Act(event=event, victim=person),
        public={"act_type": "arrest", "victim_status": "currently-held"},
    )
    return act  # type: ignore[return-value]


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_a_seized_casework_server_names_no_one_of_200_cases(data_dir: object) -> None:
    from refugium.web.records.vocab import sync_shipped

    sync_shipped()  # a transactional test before may have flushed the migrations' terms
    org = factories.make_org()
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    secrets = Secrets()
    cw = services.workspace(user, keyring)
    desk = Desk(cw, _caseworker(org, "rita"), records.workspace(user, keyring), [], secrets)
    desk.partners = _partners(cw, secrets)  # partner codes P-0001, P-0002 are audited
    for filler in range(2):  # so that no linked Person has a partner's code
        records.save(desk.documentation, Person(), {"full_name": _name(filler, "filler")})
        secrets.name(_name(filler, "filler"))

    # Listed before the cases: contacts of every tenth case, in another written form.
    for i in range(3, CASES, 10):
        reason = f"Изъятый телефон {_token(i, False)}а: watch-{i:03d}-mk"
        secrets.text(reason, f"watch-{i:03d}-mk")
        services.add_to_watchlist(cw, _phone_written(_national(i, 2), i + 3), None, reason)

    for i in range(CASES):
        case = _open(desk, i)
        _verify(desk, case, i)
        if i % 4 == 0:
            cases.move_stage(cw, case, "verification", today=DAY)
            _location(desk, case, i)
        _protect(desk, case, i)
        _paperwork(desk, case, i)
        if i % 10 == 1:
            _checkins(desk, case, i)
        if i % 10 == 9:
            note = f"Настаивает на встрече {_token(i, False)}: manual-{i:03d}-mk"
            secrets.text(note, f"manual-{i:03d}-mk")
            cases.raise_flag(cw, case, ["meet_in_person", "wanted_search"][i % 20 // 10], note)

    # Listed after: handles of other cases (the re-check flags them), one by one and by import.
    for i in range(7, CASES, 20):
        reason = f"Аккаунт-приманка {_token(i, True)}: lure-{i:03d}-mk"
        secrets.text(reason, f"lure-{i:03d}-mk")
        services.add_to_watchlist(cw, f"https://t.me/zk_asker{i:03d}Q", "telegram", reason)
    imported = [(f"zk_asker{i:03d}q", "telegram", f"import-{i:03d}-mk") for i in range(17, 200, 20)]
    secrets.text(*(reason for _i, _k, reason in imported))
    services.add_many(cw, imported)
    act = _arrest(desk)
    secrets.text(act.code)
    assert PendingWatch.objects.count() == 1
    drained = recheck.drain_pending(cw)
    checkin_store.run_pass(AT + timedelta(hours=8))

    # It all happened: every part holds rows.
    assert Case.objects.count() == CASES
    flags = Flag.objects.values_list("source", flat=True)
    assert sum(s == "watchlist" for s in flags) >= 20 + 20 + 2
    assert sum(s == "manual" for s in flags) == 20
    assert drained.flags == 2
    # 50 cases with a safe compartment, 25 of them moved on to exit: their safe one destroyed.
    assert LocationCompartment.objects.filter(destroyed_on__isnull=False).count() == 25
    assert LocationCompartment.objects.filter(destroyed_on=None).count() == 50
    assert LocationReveal.objects.count() == 25
    assert DoNotDisclose.objects.count() == 67
    assert Referral.objects.count() == 17
    assert CheckinSchedule.objects.count() == 20
    assert CheckinEntry.objects.count() >= 15
    assert Task.objects.count() == CaseNote.objects.count() == Cost.objects.count() == CASES

    seized = _seized_files()
    # The search reads what is meant to be there: case codes are in the audit log.
    controls = _hits(seized, {b"C-0200": "C-0200", b"C-0001": "C-0001"})
    assert {secret for _file, secret in controls} == {"C-0001", "C-0200"}
    assert len(secrets.found) > 30 * CASES
    assert _hits(seized, _needles(secrets.found)) == []


def test_the_secrets_include_every_form_a_phone_is_written_in() -> None:
    """The list searched for holds the forms of the "Done when" and the canonical ones."""
    secrets = Secrets()
    secrets.phone("9284700105")
    assert {
        "+7 (928) 470-01-05",
        "89284700105",
        "8 928 470 01 05",
        "+79284700105",
        "79284700105",
        "9284700105",
        "phone:+79284700105",
    } <= set(secrets.found)

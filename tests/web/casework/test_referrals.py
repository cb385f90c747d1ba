"""The do-not-disclose list, partners and referrals (issue 9: "Do-not-disclose list",
"Referrals"; done when "a referral to a do-not-disclose party is refused")."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from refugium.crypto import Identity, decrypt
from refugium.errors import BadInput, NotFound
from refugium.web.casework import cases, referrals, services
from refugium.web.casework.models import (
    Case,
    DisclosureDigest,
    DoNotDisclose,
    Notice,
    Partner,
    Referral,
    ReferralFile,
)
from refugium.web.casework.referrals import Consent, Disclosure
from tests import factories
from tests.web.casework.seized import seized_bytes, written_forms
from tests.web.casework.test_cases import _audit_actions

AT = datetime(2017, 4, 2, 9, 30, tzinfo=UTC)
DAY = AT.date()
CONTACT = "+7 (928) 555-12-34"
CONSENT = Consent(how="call", on=DAY, note="CONSENT-NOTE-MARK")
PARTNER_NAME = "Приют Ласточка"



@pytest.fixture
def key() -> Identity:
    """The partner's age identity: only they hold it."""
    return Identity.generate()


def _case(cw: services.Workspace, **extra: object) -> Case:
    values: dict[str, object] = {
        "risk": "high",
        "needs": ["shelter", "travel"],
        "contacts": [(CONTACT, None), ("@asker_handle", None)],
        "name": "Аслан Мирзоев",
        "notes": "CASE-NOTES-MARK",
        "channel": "@asker_handle",
        "today": DAY,
    }
    values.update(extra)
    return cases.open_case(cw, **values).case  # type: ignore[arg-type]


def _partner(
    cw: services.Workspace,
    key: Identity,
    name: str = PARTNER_NAME,
    contacts: list[tuple[str, str | None]] | None = None,
) -> Partner:
    found = [("+49 30 1234567", "phone"), ("north@shelter.example", None)]
    return referrals.add_partner(
        cw, name, str(key.recipient), contacts=found if contacts is None else contacts, now=AT
    )


def _refer(
    cw: services.Workspace, case: Case, partner: Partner, **extra: object
) -> referrals.Referred:
    values: dict[str, object] = {"consent": CONSENT, "now": AT}
    values.update(extra)
    fields = values.pop("fields", ["needs", "risk"])
    return referrals.refer(cw, case, partner, fields, **values)  # type: ignore[arg-type]


def _nothing_referred() -> None:
    assert (Referral.objects.count(), ReferralFile.objects.count()) == (0, 0)


# --- A referral to a do-not-disclose party is refused ---------------------------------------


@pytest.mark.parametrize(
    ("listed", "partner_form"),
    [
        ((CONTACT, None), ("89285551234", "phone")),
        (("89285551234", "phone"), ("8 928 555 12 34", None)),
        (("+79285551234", "phone"), ("8 (928) 555-12-34", "other")),  # given the wrong kind
        (("@Informer_Handle", "telegram"), ("t.me/informer_handle", "telegram")),
        (("Relative@Mail.RU", None), ("relative@mail.ru", "email")),
    ],
)
def test_a_partner_whose_contact_is_listed_in_another_written_form_is_refused(
    cw: services.Workspace,
    key: Identity,
    listed: tuple[str, str | None],
    partner_form: tuple[str, str | None],
) -> None:
    case = _case(cw)
    referrals.add_do_not_disclose(cw, case, "informer", contacts=[listed], now=AT)
    partner = _partner(cw, key, contacts=[("+49 30 1234567", "phone"), partner_form])

    with pytest.raises(Disclosure, match=r"do-not-disclose list \(matched by contact\)") as error:
        _refer(cw, case, partner)

    assert error.value.code == "do_not_disclose"
    assert listed[0] not in error.value.message
    assert partner_form[0] not in error.value.message
    _nothing_referred()
    assert ("casework.referral_refused", "case", "C-0001") in _audit_actions()
    assert ("casework.referral", "case", "C-0001") not in _audit_actions()


@pytest.mark.parametrize(
    "partner_name",
    ["фёдор ёлкин", "ФЕДОР  ЕЛКИН", "Фёдор\u00a0Ёлкин ", "Fyodor Yolkin", "Elkin Fedor"],
)
def test_a_partner_whose_name_is_listed_in_another_spelling_is_refused(
    cw: services.Workspace, key: Identity, partner_name: str
) -> None:
    case = _case(cw)
    referrals.add_do_not_disclose(cw, case, "officer", name="Фёдор Ёлкин", now=AT)
    partner = _partner(cw, key, name=partner_name)

    with pytest.raises(Disclosure, match=r"\(matched by name\)"):
        _refer(cw, case, partner)
    _nothing_referred()


def test_a_neighbouring_contact_and_another_name_are_not_refused(
    cw: services.Workspace, key: Identity
) -> None:
    case = _case(cw)
    referrals.add_do_not_disclose(
        cw, case, "relative", name="Фёдор Ёлкин", contacts=[("89285551234", None)], now=AT
    )
    partner = _partner(cw, key, name="Фёдор Ёлкинов", contacts=[("89285551235", None)])

    referred = _refer(cw, case, partner)

    assert referred.referral.state == "waiting"
    assert ReferralFile.objects.filter(referral=referred.referral).count() == 1


def test_the_projected_contact_is_checked_too(cw: services.Workspace, key: Identity) -> None:
    case = _case(cw)  # its first contact is CONTACT
    referrals.add_do_not_disclose(cw, case, "relative", contacts=[("89285551234", None)], now=AT)
    partner = _partner(cw, key)

    with pytest.raises(Disclosure, match=r"\(matched by contact\)"):
        _refer(cw, case, partner, fields=["needs", "contact"])
    _nothing_referred()
    # Its second contact is not listed, and without the contact nothing listed leaves.
    _refer(cw, case, partner, fields=["needs", "contact"], contact=1)
    _refer(cw, case, partner, fields=["needs"])
    assert Referral.objects.count() == 2


def test_the_gate_is_reusable_and_bound_to_its_case(cw: services.Workspace) -> None:
    case, other = _case(cw), _case(cw)
    referrals.add_do_not_disclose(cw, case, "informer", name="Зарема", now=AT)

    with pytest.raises(Disclosure, match="C-0001: this would reach"):
        referrals.check_disclosure(cw, case, names=["ЗАРЕМА"])
    referrals.add_do_not_disclose(cw, case, "other", contacts=[("@someone", None)], now=AT)
    with pytest.raises(Disclosure, match=r"matched by contact and name"):
        referrals.check_disclosure(cw, case, names=["зарема"], contacts=[("@SomeOne", None)])
    assert referrals.check_disclosure(cw, case, names=["Заира"], contacts=[("@some", None)]) is None
    assert referrals.check_disclosure(cw, other, names=["Зарема"]) is None
    # The same name on two cases gives unrelated digests: a seized database links nothing.
    referrals.add_do_not_disclose(cw, other, "informer", name="Зарема", now=AT)
    names = DisclosureDigest.objects.filter(what="name")
    first = set(names.filter(case=case).values_list("digest", flat=True))
    second = set(names.filter(case=other).values_list("digest", flat=True))
    assert len(first) == len(second) == 2  # as written, and transliterated
    assert first.isdisjoint(second)


def test_adding_a_party_revokes_a_waiting_referral_that_would_reach_them(
    cw: services.Workspace, key: Identity
) -> None:
    case = _case(cw)
    partner = _partner(cw, key)
    referred = _refer(cw, case, partner)
    other = _partner(cw, Identity.generate(), name="Другие", contacts=[("@elsewhere", None)])
    unrelated = _refer(cw, case, other)

    referrals.add_do_not_disclose(cw, case, "informer", contacts=[("+49301234567", None)], now=AT)

    referred.referral.refresh_from_db()
    unrelated.referral.refresh_from_db()
    assert (referred.referral.state, unrelated.referral.state) == ("revoked", "waiting")
    assert list(ReferralFile.objects.values_list("referral", flat=True)) == [unrelated.referral.pk]
    with pytest.raises(NotFound):
        referrals.fetch(referred.token, now=AT)


def test_removing_a_party_lets_the_referral_through(cw: services.Workspace, key: Identity) -> None:
    case = _case(cw)
    entry = referrals.add_do_not_disclose(cw, case, "relative", name=PARTNER_NAME, now=AT)
    partner = _partner(cw, key)
    with pytest.raises(Disclosure):
        _refer(cw, case, partner)

    referrals.remove_do_not_disclose(cw, case, entry.pk)

    assert DisclosureDigest.objects.count() == 0
    assert _refer(cw, case, partner).referral.state == "waiting"
    assert ("casework.dnd_remove", "case", "C-0001") in _audit_actions()


def test_the_list_reads_back_for_an_assignee(cw: services.Workspace) -> None:
    case = _case(cw)
    referrals.add_do_not_disclose(
        cw, case, "officer", name="Фёдор Ёлкин", contacts=[(CONTACT, None)], note="n", now=AT
    )
    [entry] = referrals.do_not_disclose(cw, case)
    assert (entry.kind, entry.name, entry.contacts, entry.note, entry.added_on) == (
        "officer",
        "Фёдор Ёлкин",
        [(CONTACT, "phone")],
        "n",
        DAY,
    )
    assert ("casework.dnd_add", "case", "C-0001") in _audit_actions()


@pytest.mark.parametrize(
    ("kind", "extra", "message"),
    [
        ("neighbour", {"name": "x"}, "no kind of party 'neighbour'"),
        ("relative", {}, "needs a name or a contact"),
        ("relative", {"contacts": [("123", "phone")]}, "contact 1: not a possible phone"),
    ],
)
def test_a_bad_entry_writes_nothing(
    cw: services.Workspace,
    kind: str,
    extra: dict,
    message: str,  # type: ignore[type-arg]
) -> None:
    case = _case(cw)
    with pytest.raises(BadInput, match=message):
        referrals.add_do_not_disclose(cw, case, kind, now=AT, **extra)
    assert (DoNotDisclose.objects.count(), DisclosureDigest.objects.count()) == (0, 0)


def test_an_other_contact_that_only_looks_like_an_address_is_kept(
    cw: services.Workspace,
) -> None:
    case = _case(cw)
    referrals.add_do_not_disclose(cw, case, "other", contacts=[("Kin@Village", "other")], now=AT)
    with pytest.raises(Disclosure, match="matched by contact"):
        referrals.check_disclosure(cw, case, contacts=[("kin@village", "other")])


# --- Consent, fields, expiry ----------------------------------------------------------------


def test_without_consent_nothing_is_referred(cw: services.Workspace, key: Identity) -> None:
    case, partner = _case(cw), _partner(cw, key)
    with pytest.raises(BadInput, match="no consent recorded"):
        _refer(cw, case, partner, consent=None)
    with pytest.raises(BadInput, match="no way of consent 'assumed'"):
        _refer(cw, case, partner, consent=Consent(how="assumed", on=DAY))
    with pytest.raises(BadInput, match="a day still to come"):
        _refer(cw, case, partner, consent=Consent(how="call", on=DAY + timedelta(days=1)))
    _nothing_referred()


def test_the_consent_is_kept_sealed_with_the_referral(
    cw: services.Workspace, key: Identity
) -> None:
    case, partner = _case(cw), _partner(cw, key)
    _refer(cw, case, partner)
    [view] = referrals.referrals_of(cw, case)
    assert (view.code, view.partner, view.fields, view.state) == (
        "R-0001",
        "P-0001",
        ["risk", "needs"],
        "waiting",
    )
    assert (view.consent, view.recorded_by, view.expires_on) == (
        CONSENT,
        "admin",
        DAY + timedelta(days=30),
    )


@pytest.mark.parametrize(
    "fields", [["location"], ["needs", "notes"], ["flags"], ["do_not_disclose"], []]
)
def test_only_fields_of_the_allowed_set_can_be_referred(
    cw: services.Workspace, key: Identity, fields: list[str]
) -> None:
    case, partner = _case(cw), _partner(cw, key)
    with pytest.raises(BadInput, match="field"):
        _refer(cw, case, partner, fields=fields)
    _nothing_referred()


def test_expiry_is_at_most_thirty_days_and_not_in_the_past(
    cw: services.Workspace, key: Identity
) -> None:
    case, partner = _case(cw), _partner(cw, key)
    longest = _refer(cw, case, partner, expires_on=DAY + timedelta(days=30))
    assert longest.referral.expires_on == date(2017, 5, 2)
    assert _refer(cw, case, partner, expires_on=DAY).referral.expires_on == DAY
    with pytest.raises(BadInput, match="within 30 days"):
        _refer(cw, case, partner, expires_on=DAY + timedelta(days=31))
    with pytest.raises(BadInput, match="before today"):
        _refer(cw, case, partner, expires_on=DAY - timedelta(days=1))
    assert Referral.objects.count() == 2


# --- The partner's download -----------------------------------------------------------------


def test_the_partner_decrypts_only_the_chosen_fields(
    cw: services.Workspace, key: Identity, client: Client
) -> None:
    case = _case(cw)
    referrals.add_do_not_disclose(cw, case, "relative", name="Фёдор Ёлкин", now=AT)
    cases.record_attestation(cw, case, "referee", "signal: zarema", on=DAY)
    now = datetime.now(UTC)
    today = timezone.localdate(now)
    referred = _refer(
        cw, case, _partner(cw, key), fields=["needs", "risk", "contact"], contact=1, now=now
    )
    url = f"/referrals/{referred.token}/"

    page = client.get(url)  # a link preview opening it spends nothing
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "no-referrer"
    assert ReferralFile.objects.count() == 1

    response = Client(enforce_csrf_checks=True).post(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert "no-store" in response["Cache-Control"]
    assert 'filename="referral.age"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "no-referrer"
    blob = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    plaintext = decrypt(blob, [key])
    document = json.loads(plaintext)
    assert document == {
        "format": "refugium-referral/1",
        "reference": "R-0001",
        "referred_on": today.isoformat(),
        "expires_on": (today + timedelta(days=30)).isoformat(),
        "fields": {
            "risk": "high",
            "needs": ["shelter", "travel"],
            "contact": {"identifier": "@asker_handle", "kind": "telegram"},
        },
    }
    for absent in ["Аслан", "CASE-NOTES-MARK", "Ёлкин", "zarema", "C-0001", "555"]:
        assert absent.encode() not in plaintext
    with pytest.raises(Exception, match="Could not decrypt"):
        decrypt(blob, [Identity.generate()])
    referred.referral.refresh_from_db()
    assert referred.referral.state == "fetched"
    assert ReferralFile.objects.count() == 0
    [notice] = Notice.objects.filter(kind="referral")
    assert notice.text.startswith("R-0001 on C-0001 was fetched by P-0001")
    assert ("casework.referral_fetch", "case", "C-0001") in _audit_actions()


def _not_found(client: Client, url: str) -> tuple[int, bytes]:
    response = client.post(url)
    return response.status_code, response.content


def test_fetched_expired_revoked_and_unknown_tokens_get_the_same_404(
    cw: services.Workspace, key: Identity, client: Client
) -> None:
    case, partner = _case(cw), _partner(cw, key)
    now = datetime.now(UTC)
    fetched = _refer(cw, case, partner, now=now)
    revoked = _refer(cw, case, partner, now=now)
    expired = _refer(cw, case, partner)  # made in 2017: long expired
    assert client.post(f"/referrals/{fetched.token}/").status_code == 200

    referrals.revoke_referral(cw, case, revoked.referral.pk)

    unknown = _not_found(client, "/referrals/" + "A" * 43 + "/")
    assert unknown[0] == 404
    for referred in (fetched, revoked, expired):
        url = f"/referrals/{referred.token}/"
        assert _not_found(client, url) == unknown
        assert client.get(url).status_code == 404
    assert ReferralFile.objects.filter(referral=revoked.referral).count() == 0
    assert ReferralFile.objects.filter(referral=fetched.referral).count() == 0
    assert ("casework.referral_revoke", "case", "C-0001") in _audit_actions()


def test_a_referral_expires_after_its_last_day_and_its_file_is_deleted(
    cw: services.Workspace, key: Identity
) -> None:
    case, partner = _case(cw), _partner(cw, key)
    referred = _refer(cw, case, partner, expires_on=DAY + timedelta(days=2))
    last_day = AT + timedelta(days=2)

    assert referrals.expire_referrals(last_day) == 0
    assert referrals.is_waiting(referred.token, now=last_day) is True
    assert referrals.is_waiting(referred.token, now=last_day + timedelta(days=1)) is False
    with pytest.raises(NotFound, match="no such referral"):
        referrals.fetch(referred.token, now=last_day + timedelta(days=1))

    assert referrals.expire_referrals(last_day + timedelta(days=1)) == 1

    referred.referral.refresh_from_db()
    assert (referred.referral.state, ReferralFile.objects.count()) == ("expired", 0)
    assert referrals.expire_referrals(last_day + timedelta(days=1)) == 0


def test_a_token_fetches_once(cw: services.Workspace, key: Identity) -> None:
    referred = _refer(cw, _case(cw), _partner(cw, key))
    assert decrypt(referrals.fetch(referred.token, now=AT), [key]).startswith(b"{")
    with pytest.raises(NotFound, match="no such referral"):
        referrals.fetch(referred.token, now=AT)
    for token in ["", "x" * 101, referred.token + "x"]:
        assert referrals.is_waiting(token, now=AT) is False


# --- Who may ---------------------------------------------------------------------------------


def test_an_unassigned_caseworker_gets_the_same_not_found_as_for_no_case(
    cw: services.Workspace, rita: services.Workspace, key: Identity
) -> None:
    case, partner = _case(cw), _partner(cw, key)
    referred = _refer(cw, case, partner)
    with pytest.raises(NotFound) as missing:
        cases.get_case(rita, "C-0009")
    expected = missing.value.message.replace("C-0009", "C-0001")

    attempts = [
        lambda: _refer(rita, case, partner),
        lambda: referrals.add_do_not_disclose(rita, case, "relative", name="x", now=AT),
        lambda: referrals.check_disclosure(rita, case, names=["x"]),
        lambda: referrals.do_not_disclose(rita, case),
        lambda: referrals.revoke_referral(rita, case, referred.referral.pk),
        lambda: referrals.referrals_of(rita, case),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound) as error:
            attempt()
        assert error.value.message == expected
    assert Referral.objects.count() == 1
    assert DoNotDisclose.objects.count() == 0


def test_only_a_coordinator_adds_a_partner_and_a_bad_key_is_refused(
    cw: services.Workspace, rita: services.Workspace, key: Identity
) -> None:
    with pytest.raises(services.NoAccess, match="only a coordinator"):
        _partner(rita, key)
    for bad in ["age1notakey", key.to_secret_string(), ""]:
        with pytest.raises(BadInput, match="not an age recipient") as error:
            referrals.add_partner(cw, PARTNER_NAME, bad)
        assert error.value.code == "bad_recipient"
    with pytest.raises(BadInput, match="a partner needs a name"):
        referrals.add_partner(cw, " ", str(key.recipient))
    assert referrals.partners(cw) == []
    partner = _partner(cw, key)
    [view] = referrals.partners(cw)
    assert (view.code, view.name, view.recipient, view.active) == (
        "P-0001",
        PARTNER_NAME,
        key.recipient,
        True,
    )
    assert referrals.get_partner(cw, "p-1") == partner
    assert ("casework.partner_add", "partner", "P-0001") in _audit_actions()


def test_a_retired_partner_gets_nothing_more(cw: services.Workspace, key: Identity) -> None:
    case, partner = _case(cw), _partner(cw, key)
    referred = _refer(cw, case, partner)

    assert referrals.retire_partner(cw, partner, now=AT) == 1

    assert ReferralFile.objects.count() == 0
    with pytest.raises(NotFound):
        referrals.fetch(referred.token, now=AT)
    with pytest.raises(BadInput, match="P-0001 is not an active partner"):
        _refer(cw, case, partner)


# --- A seized database ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_seized_database_shows_no_party_no_partner_and_no_consent(
    data_dir: object, key: Identity
) -> None:
    from refugium.web.desk import services as desk_services

    factories.make_org()
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    cw = services.workspace(user, keyring)
    case = _case(cw)
    referrals.add_do_not_disclose(
        cw,
        case,
        "officer",
        name="Фёдор Ёлкин",
        contacts=[("+7 (928) 777-66-55", None), ("@Officer_Mark", None)],
        note="DND-NOTE-MARK",
        now=AT,
    )
    referrals.add_do_not_disclose(
        cw, case, "relative", name="Petimat Dudayeva", contacts=[("kin.mark@mail.ru", None)]
    )
    partner = _partner(cw, key, contacts=[("+49 30 1234567", None), ("@North_Shelter", None)])
    _refer(cw, case, partner, fields=["name", "contact", "needs"])
    waiting = _refer(cw, case, partner, fields=["name"])
    referrals.revoke_referral(cw, case, waiting.referral.pk)

    seized = seized_bytes()

    assert b"casework.referral" in seized  # the audit log was read
    secrets = [
        "Фёдор Ёлкин",
        "Федор Елкин",
        "Ёлкин",
        "Petimat Dudayeva",
        "Dudayeva",
        "+7 (928) 777-66-55",
        "89287776655",
        "+79287776655",
        "777-66-55",
        "Officer_Mark",
        "kin.mark@mail.ru",
        "DND-NOTE-MARK",
        PARTNER_NAME,
        "Ласточка",
        "+49 30 1234567",
        "+49301234567",
        "North_Shelter",
        "north@shelter.example",
        str(key.recipient),
        "CONSENT-NOTE-MARK",
        "Аслан",
        waiting.token,
    ]
    hits = [s for s in secrets for form in written_forms(s) if form in seized]
    assert hits == []

"""The cost ledger of cases and its totals by month for grant reports (issue 9: "a small
ledger of costs per case (tickets, shelter) with totals by month for grant reports")."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from refugium.crypto import DecryptionFailed
from refugium.errors import BadInput, NotFound
from refugium.web.casework import cases, ledger, services
from refugium.web.casework.models import Case, Cost
from refugium.web.desk import services as desk_services
from tests import factories
from tests.web.casework.seized import seized_bytes, written_forms
from tests.web.casework.test_cases import _audit_actions

TODAY = date(2026, 11, 26)




def _open(ws: services.Workspace) -> Case:
    return cases.open_case(ws, risk="high", needs=["travel"], today=date(2026, 1, 2)).case


def _cost(ws: services.Workspace, case: Case, day: date, category: str, amount: int, cur: str):  # type: ignore[no-untyped-def]
    return ledger.add_cost(
        ws,
        case,
        spent_on=day,
        category=category,
        amount=amount,
        currency=cur,
        description=f"{category} {amount}",
        today=TODAY,
    )


def test_a_cost_is_recorded_and_read_back_by_an_assignee(cw: services.Workspace) -> None:
    case = _open(cw)
    row = ledger.add_cost(
        cw,
        case.code,
        spent_on=date(2026, 3, 14),
        category="tickets",
        amount=1_250_000,
        currency="rub",
        description="Train to Moscow, coupe 7",
        today=TODAY,
    )
    assert (row.month, row.currency, row.amount, row.category) == (
        date(2026, 3, 1),
        "RUB",
        1_250_000,
        "tickets",
    )
    [view] = ledger.costs_of(cw, case)
    assert (view.spent_on, view.description, view.recorded_by, view.shown) == (
        date(2026, 3, 14),
        "Train to Moscow, coupe 7",
        "admin",
        "12500.00 RUB",
    )
    assert "Moscow" not in repr(view)
    actions = _audit_actions()
    assert ("casework.cost_add", "case", case.code) in actions
    assert ("casework.cost_view", "case", case.code) in actions


def test_costs_belong_to_their_own_case_only(cw: services.Workspace) -> None:
    first, second = _open(cw), _open(cw)
    _cost(cw, first, date(2026, 3, 1), "tickets", 100, "EUR")
    _cost(cw, second, date(2026, 3, 2), "shelter", 200, "EUR")
    assert [v.amount for v in ledger.costs_of(cw, first)] == [100]
    assert [v.amount for v in ledger.costs_of(cw, second)] == [200]


def test_a_cost_moved_to_another_case_by_its_tag_does_not_open(cw: services.Workspace) -> None:
    first, second = _open(cw), _open(cw)
    _cost(cw, first, date(2026, 3, 1), "tickets", 100, "EUR")
    moved = Cost.objects.get()
    moved.case_tag = cw.hasher.digest(f"{second.uid}:{moved.uid}", purpose=ledger.LEDGER)
    moved.save()
    with pytest.raises(DecryptionFailed):
        ledger.costs_of(cw, second)


def test_no_two_costs_share_a_tag_so_a_seized_ledger_cannot_group_them_by_case(
    cw: services.Workspace,
) -> None:
    case = _open(cw)
    for day in (1, 2, 3):
        _cost(cw, case, date(2026, 3, day), "tickets", 100, "EUR")
    tags = list(Cost.objects.values_list("case_tag", flat=True))
    assert len(set(tags)) == 3
    assert not any(str(case.uid) in tag or case.code in tag for tag in tags)
    assert [v.spent_on.day for v in ledger.costs_of(cw, case)] == [1, 2, 3]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": 0}, "more than zero"),
        ({"amount": -500}, "more than zero"),
        ({"amount": 12.5}, "whole number"),
        ({"amount": "1250"}, "whole number"),
        ({"amount": 10**10 + 1}, "not one cost"),
        ({"amount": 10**30}, "not one cost"),
        ({"currency": "EURO"}, "ISO 4217"),
        ({"currency": "ABC"}, "not a current ISO 4217"),
        ({"currency": ""}, "ISO 4217"),
        ({"category": "bribes"}, "no cost category"),
        ({"spent_on": date(2026, 11, 27)}, "not for a day still to come"),
        ({"spent_on": "2026-03-01"}, "is a date"),
        ({"description": "x" * 2001}, "longer than 2000"),
    ],
)
def test_bad_costs_are_refused_with_nothing_written(
    cw: services.Workspace, changes: dict[str, object], message: str
) -> None:
    case = _open(cw)
    values: dict[str, object] = {
        "spent_on": date(2026, 3, 1),
        "category": "tickets",
        "amount": 1000,
        "currency": "EUR",
        "description": "",
        "today": TODAY,
    }
    values.update(changes)
    with pytest.raises(BadInput, match=message):
        ledger.add_cost(cw, case, **values)  # type: ignore[arg-type]
    assert Cost.objects.count() == 0
    assert not [a for a in _audit_actions() if a[0] == "casework.cost_add"]


def test_an_unassigned_caseworker_gets_the_same_not_found_as_for_a_missing_case(
    cw: services.Workspace, olga: services.Workspace
) -> None:
    case = _open(cw)
    row = _cost(cw, case, date(2026, 3, 1), "tickets", 100, "EUR")
    with pytest.raises(NotFound) as missing:
        ledger.costs_of(olga, "C-0999")
    for call in (
        lambda: ledger.costs_of(olga, case),
        lambda: _cost(olga, case, date(2026, 3, 1), "tickets", 100, "EUR"),
        lambda: ledger.delete_cost(olga, case, row.pk),
    ):
        with pytest.raises(NotFound) as refused:
            call()
        assert refused.value.message == missing.value.message.replace("C-0999", case.code)
    assert Cost.objects.count() == 1


def test_a_cost_recorded_in_error_is_deleted_by_an_assignee(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case, other = _open(cw), _open(cw)
    cases.assign(cw, case, rita.user)
    row = _cost(cw, case, date(2026, 3, 1), "tickets", 100, "EUR")
    kept = _cost(cw, other, date(2026, 3, 1), "tickets", 100, "EUR")
    with pytest.raises(NotFound, match="no cost"):
        ledger.delete_cost(cw, case, kept.pk)  # another case's cost, by its number
    ledger.delete_cost(rita, case, row.pk)
    assert list(Cost.objects.values_list("pk", flat=True)) == [kept.pk]
    assert ("casework.cost_delete", "case", case.code) in _audit_actions()


def _ledger_of_two_cases(cw: services.Workspace) -> None:
    first, second = _open(cw), _open(cw)
    _cost(cw, first, date(2026, 1, 31), "tickets", 1_250_050, "RUB")
    _cost(cw, second, date(2026, 1, 1), "tickets", 349_999, "RUB")
    _cost(cw, first, date(2026, 1, 15), "shelter", 40_000, "EUR")
    _cost(cw, second, date(2026, 1, 16), "shelter", 1, "EUR")
    _cost(cw, first, date(2026, 2, 1), "tickets", 99, "EUR")
    _cost(cw, second, date(2026, 2, 28), "medical", 5_000, "JPY")
    _cost(cw, first, date(2025, 12, 31), "legal", 777, "EUR")


def test_totals_by_month_are_exact_per_month_currency_and_category(
    cw: services.Workspace,
) -> None:
    _ledger_of_two_cases(cw)
    totals = [
        (t.month, t.currency, t.category, t.amount, t.entries)
        for t in ledger.totals_by_month(cw.desk)
    ]
    assert totals == [
        ("2025-12", "EUR", "legal", 777, 1),
        ("2026-01", "EUR", "shelter", 40_001, 2),
        ("2026-01", "RUB", "tickets", 1_600_049, 2),
        ("2026-02", "EUR", "tickets", 99, 1),
        ("2026-02", "JPY", "medical", 5_000, 1),
    ]
    assert [t.month for t in ledger.totals_by_month(cw.desk, 2025)] == ["2025-12"]
    assert ledger.totals_by_month(cw.desk, 2024) == []
    with pytest.raises(BadInput, match="year"):
        ledger.totals_by_month(cw.desk, 26_000)


def test_the_csv_for_a_grant_report_closes_each_month_and_currency_with_a_total(
    cw: services.Workspace,
) -> None:
    _ledger_of_two_cases(cw)
    _cost(cw, _open(cw), date(2026, 1, 20), "subsistence", 9, "EUR")
    rows = list(csv.reader(io.StringIO(ledger.report_csv(cw, 2026))))
    assert rows == [
        ["month", "currency", "category", "entries", "amount", "amount_minor"],
        ["2026-01", "EUR", "shelter", "2", "400.01", "40001"],
        ["2026-01", "EUR", "subsistence", "1", "0.09", "9"],
        ["2026-01", "EUR", "total", "3", "400.10", "40010"],
        ["2026-01", "RUB", "tickets", "2", "16000.49", "1600049"],
        ["2026-01", "RUB", "total", "2", "16000.49", "1600049"],
        ["2026-02", "EUR", "tickets", "1", "0.99", "99"],
        ["2026-02", "EUR", "total", "1", "0.99", "99"],
        ["2026-02", "JPY", "medical", "1", "5000", "5000"],
        ["2026-02", "JPY", "total", "1", "5000", "5000"],
    ]
    assert ("casework.ledger_report", "ledger", "2026") in _audit_actions()


def test_the_report_is_for_coordinators_who_need_not_be_assigned(
    cw: services.Workspace, rita: services.Workspace, olga: services.Workspace
) -> None:
    case = _open(cw)
    _cost(cw, case, date(2026, 3, 1), "tickets", 100, "EUR")
    with pytest.raises(services.NoAccess, match="coordinators"):
        ledger.report(rita, 2026)
    other = _open(cw)
    cases.assign(cw, other, olga.user, role="coordinator")
    # olga coordinates another case, not this one: the report opens no case, so she may.
    assert [(t.category, t.amount) for t in ledger.report(olga)] == [("tickets", 100)]


@pytest.mark.django_db(transaction=True)
def test_a_seized_database_holds_no_description_or_day_and_no_case_of_a_cost(
    data_dir: object,
) -> None:
    factories.make_org()
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    cw = services.workspace(user, keyring)
    case = _open(cw)
    ledger.add_cost(
        cw,
        case,
        spent_on=date(2026, 3, 17),
        category="shelter",
        amount=4_200_000,
        currency="GEL",
        description="COST-MARK flat on Rustaveli avenue, Tbilisi",
        today=TODAY,
    )
    ledger.costs_of(cw, case)
    ledger.report_csv(cw)

    seized = seized_bytes()
    assert case.code.encode() in seized  # the audit log was read
    secrets = ["COST-MARK", "Rustaveli", "Tbilisi", "2026-03-17", "20260317"]
    assert [s for s in secrets for form in written_forms(s) if form in seized] == []
    columns = [f.column for f in Cost._meta.get_fields() if hasattr(f, "column")]
    assert not any(c == "case_id" for c in columns)

"""The cost ledger of cases, and its totals by month for grant reports (issue 9: "a small
ledger of costs per case (tickets, shelter) with totals by month for grant reports").

A grant report needs, per month, how much was spent in each currency on each category; a
coordinator must produce it without opening every case, and often without being assigned
to them. So a ``Cost`` row keeps the month, the category, the amount (integer minor units)
and the ISO 4217 currency in plaintext, and seals the rest under the case's key: the day it
was paid (the day tickets are bought is near the day a person travels), what it was for
(routes, shelters, people) and who recorded it.

Decisions, with their reasons:

- **A cost row does not name its case.** Instead of a foreign key it holds ``case_tag``, a
  keyed hash of the case's uid and the row's own uid under the casework desk's key
  (``KeyedHasher``, purpose ``LEDGER``), which the server does not hold. A seized database
  shows "tickets, 12,000.00 RUB, March 2026" but not which case paid it, nor which costs
  were paid by one case: the currency hints at a country, and a case's costs in a row (RUB
  in March, GEL in April) would trace a route. Members of the desk can compute the tags;
  only the case's assignees open the descriptions.
- **Costs outlive their case.** Deleting a case does not delete its costs: a grant's
  accounts must still add up after a case is closed and minimised to a tombstone, and an
  untied cost says nothing of the person.
- **Amounts are exact and per currency**, never converted and never floats
  (``refugium.casework.ledger``): converting needs a rate and a day, which is the finance
  officer's call.
- **Only the month is plaintext**, not the day: the month is all a report needs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from refugium.casework import ledger as rules
from refugium.errors import BadInput, NotFound
from refugium.web.accounts.models import Desk
from refugium.web.casework import cases
from refugium.web.casework.models import Case, Cost
from refugium.web.casework.services import NoAccess, Workspace
from refugium.web.core.auditing import record as audit

# The purpose of the keyed hash that ties a cost to its case (versioned, as WATCHLIST is).
LEDGER = "casework.ledger.v1"
MAX_DESCRIPTION = 2_000
#: The columns of ``totals_csv``, in order (documented in docs/casework.md, "Costs").
CSV_COLUMNS = ("month", "currency", "category", "entries", "amount", "amount_minor")
TOTAL = "total"


def _case(ws: Workspace, case: Case | str) -> Case:
    return cases.get_case(ws, case) if isinstance(case, str) else Case.objects.get(pk=case.pk)


def _tag_value(case: Case, uid: object) -> str:
    return f"{case.uid}:{uid}"


def _rows_of(ws: Workspace, case: Case) -> list[int]:
    """The numbers of the case's costs: the desk's rows whose tag is the case's and the row's
    under some generation of the desk key. One keyed hash per row and generation (a few
    microseconds each): a ledger of a hundred thousand costs is read in well under a
    second, and no two rows share a tag."""
    found = []
    for pk, uid, tag in Cost.objects.filter(desk=ws.desk).values_list("pk", "uid", "case_tag"):
        if tag in ws.hasher.candidates(_tag_value(case, uid), purpose=LEDGER):
            found.append(pk)
    return found


# --- Entries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostView:
    """A cost as an assignee of its case reads it, decrypted in memory."""

    number: int
    spent_on: date
    category: str
    amount: int
    currency: str
    description: str = field(repr=False)
    recorded_by: str = ""

    @property
    def shown(self) -> str:
        """The amount with its currency's decimals: ``"12.50 EUR"``."""
        return f"{rules.format_amount(self.amount, self.currency)} {self.currency}"


@sensitive_variables("description", "keys")
@transaction.atomic
def add_cost(
    ws: Workspace,
    case: Case | str,
    *,
    spent_on: date,
    category: str,
    amount: int,
    currency: str,
    description: str = "",
    actor: str | None = None,
    today: date | None = None,
) -> Cost:
    """Records a cost of the case: ``amount`` in minor units of ``currency`` (views parse
    typed amounts with ``refugium.casework.ledger.parse_amount``). Audited:
    ``casework.cost_add`` (the case's code, never the amount).

    Raises:
        NotFound: the actor is not assigned to the case (or it does not exist).
        BadInput: an unknown category or currency, an amount that is not a positive whole
            number of minor units or is absurdly large, a day in the future, a description
            that is too long. Nothing is written.
    """
    case = _case(ws, case)
    keys = cases._keys(ws, case)
    code = rules.currency(currency)
    checked = rules.check_amount(amount, code)
    kind = rules.category(category)
    if not isinstance(spent_on, date):
        raise BadInput("the day a cost was paid is a date")
    if spent_on > (today or timezone.localdate()):
        raise BadInput("a cost is recorded once paid, not for a day still to come")
    row = Cost(
        desk=ws.desk,
        month=spent_on.replace(day=1),
        category=kind,
        amount=checked,
        currency=code,
    )
    row.case_tag = ws.hasher.digest(_tag_value(case, row.uid), purpose=LEDGER)
    row.details = cases._seal(
        keys,
        row,
        "details",
        {
            "case": str(case.uid),
            "day": spent_on.isoformat(),
            "description": cases._text(description, "description", MAX_DESCRIPTION),
            "by": ws.actor,
        },
    )
    row.save()
    audit(actor or ws.actor, "casework.cost_add", "case", case.code)
    return row


@sensitive_variables("keys", "sealed")
def costs_of(ws: Workspace, case: Case | str) -> list[CostView]:
    """The case's costs, by day paid. Audited: ``casework.cost_view``.

    Raises:
        NotFound: the actor is not assigned to the case (or it does not exist).
        DecryptionFailed: damage, or a row whose tag was moved from another case.
    """
    case = _case(ws, case)
    keys = cases._keys(ws, case)
    views = []
    for row in Cost.objects.filter(pk__in=_rows_of(ws, case)).order_by("pk"):
        sealed = cases._open(keys, row, "details")
        if sealed.get("case") != str(case.uid):
            from refugium.crypto import DecryptionFailed

            raise DecryptionFailed("A cost's sealed part belongs to another case.")
        views.append(
            CostView(
                number=row.pk,
                spent_on=date.fromisoformat(sealed["day"]),
                category=row.category,
                amount=row.amount,
                currency=row.currency,
                description=str(sealed.get("description") or ""),
                recorded_by=str(sealed.get("by") or ""),
            )
        )
    audit(ws.actor, "casework.cost_view", "case", case.code)
    return sorted(views, key=lambda v: (v.spent_on, v.number))


@transaction.atomic
def delete_cost(ws: Workspace, case: Case | str, number: int, *, actor: str | None = None) -> None:
    """Deletes a cost recorded in error (a correction is a deletion and a new entry).
    Audited: ``casework.cost_delete``.

    Raises:
        NotFound: the actor is not assigned to the case, or it has no cost ``number``.
    """
    case = _case(ws, case)
    cases._held(ws, case)
    deleted = 0
    if number in _rows_of(ws, case):
        deleted, _counts = Cost.objects.filter(pk=number).delete()
    if not deleted:
        raise NotFound(f"{case.code} has no cost {number}")
    audit(actor or ws.actor, "casework.cost_delete", "case", case.code)


# --- Totals for grant reports ---------------------------------------------------------------


@dataclass(frozen=True)
class MonthTotal:
    """What was spent in one month, in one currency, on one category (``TOTAL``: all)."""

    month: str
    currency: str
    category: str
    amount: int
    entries: int

    @property
    def shown(self) -> str:
        return rules.format_amount(self.amount, self.currency)


def totals_by_month(desk: Desk, year: int | None = None) -> list[MonthTotal]:
    """Per month (``YYYY-MM``), per currency and per category, the sum of the desk's costs
    and how many there were, summed by the database from plaintext columns: no case is
    opened, no key is needed. Sorted by month, currency, then category in the order of
    ``CATEGORIES``. Callers decide who may see it (``report`` allows coordinators).

    Raises:
        BadInput: a year outside 1900 to 9999.
    """
    rows = Cost.objects.filter(desk=desk)
    if year is not None:
        if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 9999:
            raise BadInput("a report's year is a number such as 2026")
        rows = rows.filter(month__year=year)
    grouped = (
        rows.values("month", "currency", "category")
        .annotate(total=Sum("amount"), entries=Count("id"))
        .order_by()
    )
    order = {name: index for index, name in enumerate(rules.CATEGORIES)}
    totals = [
        MonthTotal(
            month=row["month"].strftime("%Y-%m"),
            currency=row["currency"],
            category=row["category"],
            amount=int(row["total"]),
            entries=int(row["entries"]),
        )
        for row in grouped
    ]
    return sorted(totals, key=lambda t: (t.month, t.currency, order.get(t.category, 99)))


def with_totals(rows: Iterable[MonthTotal]) -> list[MonthTotal]:
    """``rows`` with, after each month's rows of a currency, a row of category ``total``
    summing them."""
    out: list[MonthTotal] = []
    pending: list[MonthTotal] = []

    def close() -> None:
        if pending:
            out.extend(pending)
            out.append(
                MonthTotal(
                    month=pending[0].month,
                    currency=pending[0].currency,
                    category=TOTAL,
                    amount=sum(r.amount for r in pending),
                    entries=sum(r.entries for r in pending),
                )
            )
            pending.clear()

    for row in rows:
        if pending and (row.month, row.currency) != (pending[0].month, pending[0].currency):
            close()
        pending.append(row)
    close()
    return out


def totals_csv(rows: Iterable[MonthTotal]) -> str:
    """The totals as CSV (``CSV_COLUMNS``), a ``total`` row closing each month and
    currency. ``amount`` has the currency's decimals (``12.50``); ``amount_minor`` is the
    same exact integer in minor units, for a spreadsheet that must not round."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in with_totals(rows):
        writer.writerow([row.month, row.currency, row.category, row.entries, row.shown, row.amount])
    return buffer.getvalue()


def report(ws: Workspace, year: int | None = None) -> list[MonthTotal]:
    """``totals_by_month`` of the casework desk, for a coordinator. Audited:
    ``casework.ledger_report`` (the year, or ``all``).

    Raises:
        NoAccess: the actor is not a coordinator.
        BadInput: a bad year.
    """
    if not cases.is_coordinator(ws.user):
        raise NoAccess("the cost totals are for coordinators")
    rows = totals_by_month(ws.desk, year)
    audit(ws.actor, "casework.ledger_report", "ledger", str(year) if year else "all")
    return rows


def report_csv(ws: Workspace, year: int | None = None) -> str:
    """``report`` as CSV (``totals_csv``), for a grant report. Same errors as ``report``."""
    return totals_csv(report(ws, year))

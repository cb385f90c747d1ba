"""A case the actor is not assigned to costs what a missing case costs (issue 9, "Done when":
"a caseworker not assigned to a case gets the same 404 as for a missing one").

The same 404 page is not enough if the unassigned answer does more database work: a caseworker
probing codes would tell "exists, not mine" from "no such case" by how long the 404 takes.
Counting queries is the clock-free proxy: both paths must run the same statements, differing
only in the number asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from refugium.errors import NotFound
from refugium.web.casework import cases, ledger, location, services, tasks
from refugium.web.casework.models import Case
from tests import factories
from tests.web.casework.test_cases import _caseworker

pytestmark = pytest.mark.django_db


def _statements(call: Callable[[], Any]) -> list[str]:
    """The SQL ``call`` runs, with every string literal written as S and every number as N:
    the asked case's number, and the session's signed data and timestamps (which change from
    one second to the next), are the only things allowed to differ."""
    with CaptureQueriesContext(connection) as captured:
        call()
    return [
        re.sub(r"\d+", "N", re.sub(r"'[^']*'", "S", query["sql"]))
        for query in captured.captured_queries
    ]


def _not_found(call: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        with pytest.raises(NotFound) as error:
            call()
        assert error.value.message in {"no case 'C-0001'", "no case 'C-0099'"}

    return run


def _opened(cw: services.Workspace) -> Case:
    case = cases.open_case(cw, risk="high", contacts=[("+7 (928) 555-12-34", None)]).case
    assert case.code == "C-0001"
    return case


def test_the_services_do_the_same_queries_for_an_unassigned_and_a_missing_case(
    org: factories.Org, cw: services.Workspace
) -> None:
    _opened(cw)
    rita = _caseworker(org, "rita")
    readers: list[Callable[[str], Any]] = [
        lambda code: cases.open_case_view(rita, code),
        lambda code: cases.get_case(rita, code),
        lambda code: location.location_view(rita, code),
        lambda code: tasks.tasks_of(rita, code),
        lambda code: tasks.notes_of(rita, code),
        lambda code: ledger.costs_of(rita, code),
    ]
    for read in readers:
        unassigned = _statements(_not_found(partial(read, "C-0001")))
        missing = _statements(_not_found(partial(read, "C-0099")))
        assert unassigned == missing
        assert 1 <= len(missing) <= 4
    # The counter can tell: the assignee's read of the same case does more.
    assert len(_statements(lambda: cases.open_case_view(cw, "C-0001"))) > 4


def test_the_pages_do_the_same_queries_for_an_unassigned_and_a_missing_case(
    org: factories.Org, cw: services.Workspace, signed_in: Any
) -> None:
    _opened(cw)
    _caseworker(org, "rita")
    rita: Client = signed_in("rita")
    rita.get("/casework/")  # the session's first use writes to it; the probes come after
    for method, action, data in (
        ("get", "", {}),
        ("post", "attest/", {"signal": "referee", "channel": "signal: zarema"}),
        ("post", "stage/", {"stage": "verification"}),
        ("post", "flag/", {"reason": "urgency"}),
        ("post", "assign/", {"user": "rita", "role": "caseworker"}),
        ("post", "unassign/", {"user": "admin"}),
    ):
        answers: dict[str, Any] = {}

        def probe(code: str) -> None:
            answers[code] = getattr(rita, method)(f"/casework/{code}/{action}", data)  # noqa: B023

        unassigned, missing = (
            _statements(lambda: probe("C-0001")),
            _statements(lambda: probe("C-0099")),
        )
        assert unassigned == missing, action
        assert answers["C-0001"].status_code == answers["C-0099"].status_code == 404
        assert answers["C-0001"].content == answers["C-0099"].content


def test_a_coordinator_still_reaches_a_case_they_are_not_assigned_to(
    org: factories.Org, cw: services.Workspace
) -> None:
    """The refusal in ``get_case`` spares coordinators: they unassign without reading."""
    first = _opened(cw)
    rita, ivan = _caseworker(org, "rita"), _caseworker(org, "ivan")
    cases.assign(cw, first, ivan.user)
    with pytest.raises(NotFound):
        cases.get_case(rita, "C-0001")
    cases.assign(cw, cases.open_case(cw, risk="low").case, rita.user, role="coordinator")
    assert cases.get_case(rita, "C-0001") == first
    with pytest.raises(NotFound):
        cases.open_case_view(rita, "C-0001")
    cases.unassign(rita, cases.get_case(rita, "C-0001"), ivan.user)
    with pytest.raises(NotFound):
        cases.get_case(ivan, "C-0001")

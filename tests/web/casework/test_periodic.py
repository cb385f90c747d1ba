"""The periodic pass `refugium checkins run` runs: check-ins, overdue tasks, expired referrals
(issue 9: "Check-ins", "Tasks with deadlines and overdue escalation", "Referrals")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from refugium.crypto import Identity
from refugium.web.casework import cases, checkin_store, periodic, referrals, services, tasks
from refugium.web.casework.models import ReferralFile

AT = datetime(2017, 4, 2, 9, 30, tzinfo=UTC)
DAY = AT.date()


def test_one_pass_raises_the_alert_escalates_the_task_and_expires_the_referral(
    cw: services.Workspace,
) -> None:
    case = cases.open_case(cw, risk="high", contacts=[("+7 928 555 12 34", None)], today=DAY).case
    checkin_store.enrol(
        cw, case, timedelta(hours=1), timedelta(minutes=10), "утро", "вечер", now=AT
    )
    task = tasks.add_task(cw, case, "Buy the tickets", due_on=DAY, today=DAY)
    partner = referrals.add_partner(cw, "Shelter North", str(Identity.generate().recipient), now=AT)
    consent = referrals.Consent(how="call", on=DAY, note="")
    referrals.refer(
        cw, case, partner, ["needs"], consent=consent, expires_on=DAY + timedelta(days=1), now=AT
    )
    later = AT + timedelta(days=3)

    lines = periodic.run(later)

    assert lines == [
        f"{case.code}: check-in alert 1 (missed) raised at tier 1 (handler)",
        f"{case.code}: task {task.pk} overdue, the owner notified (1)",
        "referrals expired: 1 (their files deleted)",
    ]
    assert ReferralFile.objects.count() == 0
    assert periodic.run(later) == []

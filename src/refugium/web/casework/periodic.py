"""The casework steps a timer runs every minute, with no key (``refugium checkins run``).

Check-ins first: an alert is what cannot wait. Then overdue tasks, then referrals past their
expiry day. Each step is its own module's; this one only orders them and turns what they did
into the operator's lines, which name codes, numbers and tiers, never a person.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from refugium.web.casework import checkin_store, referrals, tasks


def run(now: datetime | None = None) -> list[str]:
    """Runs every periodic step as at ``now`` (the clock when None); one line per action.

    Raises:
        ValueError: a naive ``now``.
        BadInput: a broken escalation or tasks file (the steps before it have run).
    """
    at = now or timezone.now()
    lines = [done.line() for done in checkin_store.run_pass(at)]
    for step in tasks.overdue_pass(at):
        told = "the owner" if step.step == "owner" else "the coordinators"
        lines.append(f"{step.case}: task {step.task} overdue, {told} notified ({len(step.users)})")
    expired = referrals.expire_referrals(at)
    if expired:
        lines.append(f"referrals expired: {expired} (their files deleted)")
    return lines

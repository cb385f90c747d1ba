"""``refugium serve``: gunicorn, configured so that it records nothing about visitors."""

from __future__ import annotations

import logging
import resource
from typing import Any

from gunicorn.app.base import BaseApplication

from refugium.errors import RefugiumError

logger = logging.getLogger("refugium.security.StartupSweep")


class _Application(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from refugium.web.wsgi import application

        return application


def sweep_leftovers() -> None:
    """Removes what a crash left half-written, before anything is served.

    An audit-log line without its newline was never acknowledged (``SignedChain.append``
    returns only after the whole line is on disk), and while it is there every append, and
    so every sign-in, is refused. Uploads left in the store's staging folder, and stored files
    no database row names (a crash between the rename and the commit), were never
    acknowledged either: the reporter saw no receipt.
    """
    from refugium.web.core.auditing import audit_log
    from refugium.web.evidence.models import Item
    from refugium.web.evidence.services import custody
    from refugium.web.intake import submissions
    from refugium.web.intake.models import Attachment

    for name, chain in (("audit", audit_log().chain), ("custody", custody().chain)):
        removed = chain.repair_torn_tail()
        if removed:
            logger.warning(
                "removed an incomplete last line of the %s log (%d bytes)", name, removed
            )
    # One store holds reporters' files and evidence: keep every file either names.
    names = set(Attachment.objects.values_list("stored_name", flat=True))
    names |= set(Item.objects.values_list("stored_name", flat=True))
    report = submissions.store().sweep(names)
    if report.temp_removed or report.orphans_removed:
        logger.warning(
            "removed %d unfinished uploads and %d files no submission names",
            report.temp_removed,
            report.orphans_removed,
        )
    if report.missing:
        logger.error("%d stored files named by submissions are missing", len(report.missing))


def serve(*, host: str, port: int, workers: int) -> None:
    """Runs until interrupted.

    Raises:
        RefugiumError: DEBUG is on, or a deployment check fails.
    """
    from django.conf import settings
    from django.core import checks
    from django.db import connections

    if settings.DEBUG:
        raise RefugiumError("refusing to serve with DEBUG on", code="debug_on")
    errors = [
        m
        for m in checks.run_checks(include_deployment_checks=True, databases=["default"])
        if m.level >= checks.ERROR and not m.is_silenced()
    ]
    if errors:
        raise RefugiumError(
            f"refusing to serve: {errors[0].id}: {errors[0].msg} (see `refugium check`)",
            code="check_failed",
        )
    sweep_leftovers()
    connections.close_all()  # never share a database connection across the fork
    # A crashing worker must not leave a core file with keys in it (T10).
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _Application(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "sync",
            "accesslog": None,  # no IPs, user agents or URLs of visitors, ever
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "refugium",
            "limit_request_line": 4094,
            "limit_request_fields": 100,
            "timeout": 120,
            "graceful_timeout": 20,
        }
    ).run()

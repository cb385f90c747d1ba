"""Deployment invariants as system checks, as ``contrib/auth/checks.py`` registers its own.

``refugium check`` runs them with ``--deploy``; ``refugium serve`` refuses to start on errors.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def check_no_debug(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if settings.DEBUG:
        return [Error("DEBUG is on; refugium never runs with DEBUG.", id="refugium.E001")]
    return []


@register(Tags.security)
def check_upload_handlers(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    bad = [h for h in settings.FILE_UPLOAD_HANDLERS if h.endswith("TemporaryFileUploadHandler")]
    if bad:
        return [
            Error(
                "TemporaryFileUploadHandler writes uploads to disk in plaintext.",
                hint="Remove it from FILE_UPLOAD_HANDLERS.",
                id="refugium.E002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_argon2_profile(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    profile = settings.REFUGIUM_ARGON2_PROFILE
    if profile != "production" and not getattr(settings, "REFUGIUM_TESTING", False):
        return [
            Error(
                f"Argon2 profile {profile!r} is for tests only.",
                hint="Unset REFUGIUM_ARGON2_PROFILE.",
                id="refugium.E003",
            )
        ]
    return []


@register(Tags.database, deploy=True)
def check_sqlite_pragmas(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    from django.db import connection

    from refugium.web.core.sqlite import EXPECTED, read_pragmas

    if connection.vendor != "sqlite":
        return []
    actual = read_pragmas(connection)
    wrong = {k: v for k, v in actual.items() if v != EXPECTED[k]}
    if wrong:
        return [Error(f"SQLite pragmas not as required: {wrong}", id="refugium.E004")]
    return []


@register(Tags.security, deploy=True)
def check_data_folder(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    data = settings.DATA
    if getattr(settings, "DATABASES", {}).get("default", {}).get("ENGINE", "").endswith(
        "sqlite3"
    ) and not data.is_initialised():
        return [
            Error(
                f"The data folder {data.root} is not initialised.",
                hint="Run `refugium init` first, or set REFUGIUM_DATA.",
                id="refugium.E005",
            )
        ]
    errors = [Error(p, id="refugium.E006") for p in data.permission_problems()]
    for path in (data.secret_key, data.log_signing_key, data.log_verify_key):
        if data.is_initialised() and not path.is_file():
            errors.append(Error(f"Missing key file {path.name}", id="refugium.E007"))
    return errors


@register(Tags.security)
def check_csrf_middleware(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if "refugium.web.core.csrf.ReporterAwareCsrfViewMiddleware" not in settings.MIDDLEWARE:
        return [
            Error(
                "CSRF protection is off: ReporterAwareCsrfViewMiddleware is not in MIDDLEWARE.",
                id="refugium.E008",
            )
        ]
    return []

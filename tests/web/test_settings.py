"""Deployment invariants of the production settings (reliability.md §0, T13, T19, T26)."""

from __future__ import annotations

import subprocess
import sys

from django.conf import settings
from django.core import checks

from tests.cli_runner import REPO


def _production_settings(expression: str, **env: str) -> str:
    """Evaluates an expression over refugium.web.settings in a fresh interpreter."""
    code = f"from refugium.web import settings as s; print({expression})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", **env},
    )
    return result.stdout.strip()


def test_production_settings_have_no_debug_and_production_argon2():
    assert _production_settings("s.DEBUG, s.REFUGIUM_ARGON2_PROFILE") == "False production"


def test_no_plaintext_temp_file_upload_handler():
    assert all("TemporaryFile" not in h for h in settings.FILE_UPLOAD_HANDLERS)
    assert _production_settings("s.FILE_UPLOAD_HANDLERS") == (
        "['refugium.web.intake.upload_handler.EncryptingUploadHandler']"
    )


def test_the_upload_handler_check_catches_a_temp_file_handler(settings):
    from refugium.web.core.checks import check_upload_handlers

    settings.FILE_UPLOAD_HANDLERS = [
        "django.core.files.uploadhandler.TemporaryFileUploadHandler"
    ]
    assert [e.id for e in check_upload_handlers()] == ["refugium.E002"]


def test_testing_argon2_profile_is_refused_outside_tests(settings):
    from refugium.web.core.checks import check_argon2_profile

    settings.REFUGIUM_TESTING = False
    settings.REFUGIUM_ARGON2_PROFILE = "testing"
    assert [e.id for e in check_argon2_profile()] == ["refugium.E003"]
    settings.REFUGIUM_ARGON2_PROFILE = "production"
    assert check_argon2_profile() == []


def test_debug_check(settings):
    from refugium.web.core.checks import check_no_debug

    settings.DEBUG = True
    assert [e.id for e in check_no_debug()] == ["refugium.E001"]


def test_logging_has_no_access_log_and_drops_request_objects():
    handlers = settings.LOGGING["handlers"]
    assert set(handlers) == {"stderr"}
    assert handlers["stderr"]["filters"] == ["drop_request"]
    assert settings.LOGGING["loggers"]["django.server"]["handlers"] == []
    assert "%(" not in settings.LOGGING["formatters"]["plain"]["format"].replace(
        "%(asctime)s", ""
    ).replace("%(levelname)s", "").replace("%(name)s", "").replace("%(message)s", "")


def test_no_file_based_cache():
    backends = [c["BACKEND"] for c in getattr(settings, "CACHES", {}).values()]
    assert all("FileBasedCache" not in b for b in backends)


def test_deploy_checks_are_clean_under_test_settings(data_dir, db):
    from refugium.durable import write_atomic

    write_atomic(data_dir.secret_key, b"x" * 60)
    write_atomic(data_dir.initialised_marker, b"refugium data folder\n")
    messages = [
        m
        for m in checks.run_checks(include_deployment_checks=True, databases=["default"])
        if m.level >= checks.WARNING and not m.is_silenced()
    ]
    assert messages == []


def test_csrf_middleware_check(settings):
    from refugium.web.core.checks import check_csrf_middleware

    assert check_csrf_middleware() == []
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if not m.endswith("ReporterAwareCsrfViewMiddleware")
    ]
    assert [e.id for e in check_csrf_middleware()] == ["refugium.E008"]


def test_upload_target_middleware_comes_before_csrf():
    # The CSRF check reads request.POST; the upload target must be set before that.
    order = settings.MIDDLEWARE
    assert order.index("refugium.web.intake.middleware.UploadTargetMiddleware") < order.index(
        "refugium.web.core.csrf.ReporterAwareCsrfViewMiddleware"
    )

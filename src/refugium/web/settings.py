"""Django settings for refugium: plain Python, secrets and paths from the environment.

Environment:
- ``REFUGIUM_DATA``: the data folder (default ``./refugium-data``).
- ``DATABASE_URL``: use this database (PostgreSQL) instead of SQLite in the data folder.
- ``REFUGIUM_ALLOWED_HOSTS``: comma-separated host names (default ``127.0.0.1,localhost``).
- ``REFUGIUM_TRANSPORT``: ``https`` (default: behind a TLS reverse proxy, cookies ``Secure``,
  HSTS) or ``onion`` (a Tor onion service or the local demo over plain HTTP: the transport is
  encrypted by Tor or never leaves the machine, so cookies cannot be ``Secure``).
- ``REFUGIUM_ARGON2_PROFILE``: ``production`` (default). ``testing`` only under the test
  settings; ``refugium check`` fails on anything else.

There is no ``DEBUG`` switch: production settings never run with ``DEBUG``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from refugium.datadir import DataDir

DATA = DataDir.from_environment()

DEBUG = False

if DATA.secret_key.is_file():
    SECRET_KEY = DATA.secret_key.read_text(encoding="ascii").strip()
else:
    # Before `refugium init` there is nothing to sign; a throwaway key keeps commands that
    # need no sessions working. `refugium serve` refuses an uninitialised folder.
    SECRET_KEY = secrets.token_urlsafe(50)

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("REFUGIUM_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]

REFUGIUM_TRANSPORT = os.environ.get("REFUGIUM_TRANSPORT", "https")
if REFUGIUM_TRANSPORT not in ("https", "onion"):
    raise ValueError("REFUGIUM_TRANSPORT must be 'https' or 'onion'")
_HTTPS = REFUGIUM_TRANSPORT == "https"

REFUGIUM_ARGON2_PROFILE = os.environ.get("REFUGIUM_ARGON2_PROFILE", "production")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "refugium.web.core",
    "refugium.web.accounts",
    "refugium.web.intake",
    "refugium.web.desk",
    "refugium.web.records",
    "refugium.web.evidence",
    "refugium.web.matches",
    "refugium.web.estimates",
    "refugium.web.reports",
    "refugium.web.casework",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "refugium.web.core.middleware.SecurityHeadersMiddleware",
    "refugium.web.core.middleware.StorageFailureMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "refugium.web.intake.middleware.UploadTargetMiddleware",
    "refugium.web.core.middleware.CompleteBodyMiddleware",
    "refugium.web.core.csrf.ReporterAwareCsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "refugium.web.accounts.middleware.SessionLimitsMiddleware",
    "refugium.web.accounts.middleware.KeyringMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "refugium.web.urls"
WSGI_APPLICATION = "refugium.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# SQLite in the data folder by default; every connection gets the pragmas of
# refugium.web.core.sqlite (WAL, synchronous=FULL, secure_delete, ...).
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=0)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA.database),
            "OPTIONS": {
                # Take the write lock at BEGIN, so concurrent writers wait for each other
                # (up to `timeout`) instead of failing on a lock upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and sessions ----------------------------------------------------------------
AUTH_USER_MODEL = "auth.User"
AUTHENTICATION_BACKENDS = ["refugium.web.accounts.backends.PassphraseTotpBackend"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]  # unused: see backends
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_NAME = "__Host-refugium-session" if _HTTPS else "refugium-session"
SESSION_COOKIE_AGE = 30 * 60  # idle timeout: saved on every request, so it slides
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_SECURE = _HTTPS
REFUGIUM_SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
REFUGIUM_KEYBOX_COOKIE = "__Host-refugium-keybox" if _HTTPS else "refugium-keybox"

CSRF_COOKIE_NAME = "__Host-refugium-csrf" if _HTTPS else "refugium-csrf"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_AGE = None  # a browser-session cookie, like every other one here
CSRF_FAILURE_VIEW = "refugium.web.core.views.csrf_failure"

# Lockout after failed logins (refugium.web.accounts.lockout).
REFUGIUM_LOCKOUT_FREE_ATTEMPTS = 5
REFUGIUM_LOCKOUT_BASE_SECONDS = 60
REFUGIUM_LOCKOUT_MAX_SECONDS = 24 * 60 * 60

# --- Transport security -------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
# Not "no-referrer": with it, browsers send "Origin: null" on same-origin form posts (Fetch
# standard, "serializing a request origin") and Django's CSRF check refuses every form.
# "same-origin" still sends nothing to any other site.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if _HTTPS:
    # refugium serve listens on loopback behind a TLS-terminating proxy that sets this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 63072000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SILENCED_SYSTEM_CHECKS: list[str] = []
else:
    # Onion services have no TLS (Tor encrypts and authenticates the transport), so the
    # HTTPS-only checks do not apply. Documented in docs/operations.md.
    SILENCED_SYSTEM_CHECKS = [
        "security.W004",  # HSTS
        "security.W008",  # SSL redirect
        "security.W012",  # SESSION_COOKIE_SECURE
        "security.W016",  # CSRF_COOKIE_SECURE
    ]
# Django's check looks for its own CSRF middleware by name; ours subclasses it (core.csrf),
# and refugium.E008 checks that ours is in place.
SILENCED_SYSTEM_CHECKS.append("security.W003")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "style-src": [SELF],
        "img-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
    },
}

# --- Uploads and the intake ---------------------------------------------------------------
# Never Django's TemporaryFileUploadHandler: it writes plaintext to /tmp (reliability.md §0.4).
# Our handler encrypts each chunk as it arrives; it is the only one.
FILE_UPLOAD_HANDLERS = ["refugium.web.intake.upload_handler.EncryptingUploadHandler"]
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # the text fields of one request
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
DATA_UPLOAD_MAX_NUMBER_FILES = 100


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


REFUGIUM_MAX_SUBMISSION_BYTES = _env_int("REFUGIUM_MAX_SUBMISSION_MB", 500) * 1024 * 1024
REFUGIUM_MAX_FILES_PER_SUBMISSION = 20
REFUGIUM_QUOTA_BYTES = _env_int("REFUGIUM_QUOTA_GB", 50) * 1024**3
# A form token is good from this many seconds after the form was served (a person needs
# longer than that to write anything; a script must wait too) until the maximum age.
REFUGIUM_FORM_MIN_SECONDS = _env_int("REFUGIUM_FORM_MIN_SECONDS", 5)
REFUGIUM_FORM_MAX_AGE_SECONDS = 24 * 60 * 60
REFUGIUM_SUBMISSIONS_PER_MINUTE = _env_int("REFUGIUM_SUBMISSIONS_PER_MINUTE", 30)
REFUGIUM_RECEIPT_CHECKS_PER_MINUTE = _env_int("REFUGIUM_RECEIPT_CHECKS_PER_MINUTE", 60)
REFUGIUM_REPORTER_SESSION_SECONDS = 30 * 60
REFUGIUM_REPORTER_COOKIE = "__Host-refugium-reporter" if _HTTPS else "refugium-reporter"
REFUGIUM_RECEIPT_COOKIE = "__Host-refugium-receipt" if _HTTPS else "refugium-receipt"

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
# One catalogue for the project; `scripts/bootstrap` compiles it (the .mo files are built,
# never committed).
LOCALE_PATHS = [str(Path(__file__).resolve().parent.parent / "locale")]
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Strict"
LANGUAGE_COOKIE_SECURE = _HTTPS
LANGUAGE_COOKIE_AGE = None  # a browser-session cookie: nothing outlives the tab

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

# --- Logging ------------------------------------------------------------------------------
# Never IPs, user agents, request bodies or secrets: no access log, no request objects in
# records (refugium.web.core.logging.DropRequestFilter), no AdminEmailHandler.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"drop_request": {"()": "refugium.web.core.logfilter.DropRequestFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["drop_request"],
        }
    },
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        "django": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "django.server": {"handlers": [], "propagate": False},
        "refugium": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}

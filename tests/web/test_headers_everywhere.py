"""The security headers on every URL pattern, every method and every status we can reach
(reliability.md T13; issue 4: "exactly" these headers on every reporter response)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation

from refugium.web.access import POLICIES, PUBLIC_REPORTER

CSP = {
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
}
METHODS = ("get", "head", "post", "options", "put", "delete", "patch")


def _patterns(resolver: URLResolver, namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, inner)
        elif entry.name:
            yield f"{namespace}{entry.name}", entry


def _url(name: str, pattern: URLPattern, code: str) -> str:
    kwargs = {k: (code if k == "code" else "0" * 32) for k in pattern.pattern.converters}
    with translation.override("en"):
        return reverse(name, kwargs=kwargs)


def check(response: Any, *, reporter: bool) -> None:
    headers = response.headers
    assert {d.strip() for d in headers["Content-Security-Policy"].split(";")} == CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == ("no-referrer" if reporter else "same-origin")
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert re.fullmatch(r"([a-z-]+=\(\), )*[a-z-]+=\(\)", headers["Permissions-Policy"])
    assert "Server" not in headers
    assert "X-Powered-By" not in headers


@pytest.fixture
def code(org) -> str:  # type: ignore[no-untyped-def]
    from refugium.web.intake import flood, submissions
    from refugium.web.intake.models import Submission

    submissions.create(
        text="x", hints={}, uploads=[], language="en", form_token=flood.issue_form_token()
    )
    return str(Submission.objects.get().code)


def test_every_pattern_is_covered_by_this_test():
    names = {name for name, _ in _patterns(get_resolver())}
    assert names == set(POLICIES)


@pytest.mark.parametrize("signed_in", [False, True])
def test_headers_on_every_url_and_method(client, login, code, signed_in, settings):
    settings.REFUGIUM_FORM_MIN_SECONDS = 0
    if signed_in:
        assert login().status_code == 302
    statuses = set()
    # Sign-out and delete last: they end the session or the object the others need.
    ordered = sorted(_patterns(get_resolver()), key=lambda p: p[0].endswith(("logout", "delete")))
    for name, pattern in ordered:
        url = _url(name, pattern, code)
        for language_prefix in ("", "/ru") if POLICIES[name] == PUBLIC_REPORTER else ("",):
            for method in METHODS:
                response = getattr(client, method)(language_prefix + url)
                statuses.add(response.status_code)
                try:
                    check(response, reporter=POLICIES[name] == PUBLIC_REPORTER)
                except AssertionError as failure:
                    raise AssertionError(
                        f"{method.upper()} {language_prefix + url} "
                        f"({response.status_code}): {failure}"
                    ) from None
    expected = {200, 302, 400, 405} | ({404} if signed_in else set())
    assert expected <= statuses


def test_headers_on_refusals_and_errors(reporter_client, settings, monkeypatch):
    settings.REFUGIUM_MAX_SUBMISSION_BYTES = 10
    big = SimpleUploadedFile("big.bin", b"x" * (3 * 1024 * 1024))
    too_large = reporter_client.post("/submit/?t=t", {"text": "x", "files": [big]})
    assert too_large.status_code == 413
    check(too_large, reporter=True)

    refused = reporter_client.post("/submit/?t=forged", {"text": "x"})
    assert refused.status_code == 429
    check(refused, reporter=True)

    strict = Client(enforce_csrf_checks=True)
    from refugium.web.intake import flood

    settings.REFUGIUM_FORM_MIN_SECONDS = 0
    forbidden = strict.post(f"/submit/?t={flood.issue_form_token()}", {"text": "x"})
    assert forbidden.status_code == 403
    check(forbidden, reporter=True)

    from refugium.web.intake import views

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("forced")

    monkeypatch.setattr(views, "_language_links", broken)
    crashing = Client(raise_request_exception=False)
    error = crashing.get("/submit/")
    assert error.status_code == 500
    assert b"Traceback" not in error.content
    assert b"forced" not in error.content
    check(error, reporter=True)


@pytest.fixture
def reporter_client(org) -> Client:  # type: ignore[no-untyped-def]
    return Client()

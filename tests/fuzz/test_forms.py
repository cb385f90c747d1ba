"""Hypothesis throws malformed input at every form (reliability.md T1): 0 responses ≥ 500.

Every URL pattern is fuzzed with POST (form fields, files, raw bodies of any content type)
and GET (query strings), signed out and signed in. Known field names are mixed with random
ones so that the generated data reaches the forms' validation, not only the parser.
Examples per endpoint: ``REFUGIUM_FUZZ_EXAMPLES`` (default 60 in CI; raise it for a soak).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import got_request_exception
from django.test import Client
from django.urls import get_resolver
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refugium.web.intake import flood
from tests.web.test_headers_everywhere import _patterns, _url

EXAMPLES = int(os.environ.get("REFUGIUM_FUZZ_EXAMPLES", "60"))
VALID_TOKEN = "<a valid form token>"  # replaced by a fresh one, so fuzzing reaches storage
FIELDS = [
    "text",
    "when",
    "where",
    "harm",
    "files",
    "form_token",
    "receipt",
    "username",
    "passphrase",
    "code",
    "status",
    "confirm",
    "csrfmiddlewaretoken",
]
nasty_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.sampled_from(
        [
            "",
            "\x00",
            "\ufffd",
            "../../etc/passwd",
            "<script>alert(1)</script>",
            "a" * 5000,
            "зелимхан ӏ ё",
            "\u202e",
            "%00",
            "null",
            "0" * 40,
            VALID_TOKEN,
        ]
    ),
)
form_data = st.dictionaries(
    st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=20)),
    st.one_of(nasty_text, st.lists(nasty_text, max_size=4)),
    max_size=8,
)
def _file_name(name: str) -> str:
    """A generated name Django's test client can send: it refuses to build a file whose last
    path part is empty, ``.`` or ``..`` (``"a/"``), so those become ``f``; every other hostile
    name goes through as generated."""
    return name if os.path.basename(name) not in ("", ".", "..") else "f"


files = st.lists(
    st.builds(
        lambda name, data, ctype: SimpleUploadedFile(_file_name(name), data, ctype),
        st.text(max_size=80),
        st.binary(max_size=2000),
        st.sampled_from(["application/octet-stream", "image/jpeg", "text/html", "", "x/y"]),
    ),
    max_size=3,
)
raw_body = st.tuples(
    st.sampled_from(
        [
            "multipart/form-data; boundary=xyz",
            "multipart/form-data",
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data; boundary=",
        ]
    ),
    st.binary(max_size=3000),
)


def _targets(code: str) -> list[str]:
    with translation.override("en"):
        urls = [_url(name, pattern, code) for name, pattern in _patterns(get_resolver())]
    return [*urls, "/ru/submit/", "/ru/followup/"]


@pytest.fixture
def exceptions():  # type: ignore[no-untyped-def]
    seen: list[Any] = []

    def record(sender: Any, request: Any = None, **kwargs: Any) -> None:
        seen.append(request.path if request is not None else "?")

    got_request_exception.connect(record)
    yield seen
    got_request_exception.disconnect(record)


@pytest.fixture
def code(org) -> str:  # type: ignore[no-untyped-def]
    from refugium.web.intake import flood, submissions
    from refugium.web.intake.models import Submission

    submissions.create(
        text="x", hints={}, uploads=[], language="en", form_token=flood.issue_form_token()
    )
    return str(Submission.objects.get().code)


def _fuzz(client: Client, url: str, exceptions: list[Any]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=form_data, uploads=files, raw=raw_body, which=st.integers(0, 2))
    def run(data: dict[str, Any], uploads: list[Any], raw: tuple[str, bytes], which: int) -> None:
        target = url
        if data.pop("form_token", None) == VALID_TOKEN:
            target = f"{url}?t={flood.issue_form_token()}"
        if which == 0:
            response = client.post(target, data)
        elif which == 1:
            response = client.post(target, {**data, "files": uploads})
        else:
            response = client.generic("POST", target, raw[1], content_type=raw[0])
        assert response.status_code < 500, (url, response.status_code)
        query = client.get(url, {k: v for k, v in data.items() if isinstance(v, str)})
        assert query.status_code < 500, (url, query.status_code)
        assert exceptions == []

    run()


@pytest.mark.slow
def test_fuzz_every_endpoint_signed_out(code, exceptions, settings):  # type: ignore[no-untyped-def]
    settings.REFUGIUM_FORM_MIN_SECONDS = 0
    client = Client(raise_request_exception=False)
    for url in _targets(code):
        _fuzz(client, url, exceptions)


@pytest.mark.slow
def test_fuzz_every_endpoint_signed_in(code, login, client, exceptions, settings):  # type: ignore[no-untyped-def]
    settings.REFUGIUM_FORM_MIN_SECONDS = 0
    client.raise_request_exception = False
    assert login().status_code == 302
    for url in _targets(code):
        if url.endswith(("/logout/", "/delete/")):
            continue  # fuzzed signed out; here they would end the session under test
        _fuzz(client, url, exceptions)
        assert client.get("/desk/").status_code == 200, f"signed out while fuzzing {url}"

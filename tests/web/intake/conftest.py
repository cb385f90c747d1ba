from __future__ import annotations

import pytest
from django.test import Client

from refugium.web.intake import flood


@pytest.fixture(autouse=True)
def _no_wait(settings):  # type: ignore[no-untyped-def]
    """Form tokens are good at once in these tests (the wait has tests of its own)."""
    settings.REFUGIUM_FORM_MIN_SECONDS = 0


@pytest.fixture
def reporter(org) -> Client:  # type: ignore[no-untyped-def]
    """A browser with no account, as a reporter's is."""
    return Client()


@pytest.fixture
def token() -> str:
    return flood.issue_form_token()

"""The casework desk unlocked for the tests, as a sign-in or `--passphrase-stdin` gives it."""

from __future__ import annotations

import pytest

from refugium.web.casework import services
from refugium.web.desk import services as desk_services
from tests import factories
from tests.web.casework.people import caseworker


@pytest.fixture
def cw(org: factories.Org) -> services.Workspace:
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    return services.workspace(user, keyring)


@pytest.fixture
def rita(org: factories.Org) -> services.Workspace:
    return caseworker(org, "rita")


@pytest.fixture
def olga(org: factories.Org) -> services.Workspace:
    return caseworker(org, "olga")


@pytest.fixture
def omar(org: factories.Org) -> services.Workspace:
    return caseworker(org, "omar")

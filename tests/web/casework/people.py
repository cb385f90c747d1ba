"""More members of the casework desk for the tests, each holding the desk's key, unlocked."""

from __future__ import annotations

from refugium.web.accounts import services as accounts
from refugium.web.casework import services
from refugium.web.desk import services as desk_services
from tests import factories


def caseworker(org: factories.Org, name: str) -> services.Workspace:
    """A member of the casework desk called ``name``, granted its key by the admin."""
    factories.add_user(org, name, ["casework"], passphrase=f"{name} has a long passphrase 2017")
    accounts.grant(name, "casework", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    user, keyring = desk_services.unlock(name, org.passphrases[name])
    return services.workspace(user, keyring)

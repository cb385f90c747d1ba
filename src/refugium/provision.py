"""Creating a data folder (``refugium init``) and checking one (``refugium check``)."""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refugium.crypto import SigningKey, check_passphrase_policy
from refugium.datadir import DataDir
from refugium.durable import write_atomic
from refugium.errors import Conflict


@dataclass(frozen=True)
class InitDone:
    data_root: Path
    paper_key: str
    admin: Any  # services.NewAccount


def initialise_data_folder(*, admin: str, passphrase: str, org_name: str) -> InitDone:
    """Creates and fills ``$REFUGIUM_DATA``; on any failure removes what it created.

    Raises:
        Conflict: the folder exists and is not empty (refugium never touches it then).
        BadInput: the admin's name or passphrase breaks the rules (nothing is created).
    """
    from refugium.cli import setup_django

    data = DataDir.from_environment()
    if data.root.exists() and (not data.root.is_dir() or any(data.root.iterdir())):
        raise Conflict(f"{data.root} already exists and is not empty; refugium will not touch it")
    # Checked before anything is written, so a refused passphrase leaves no folder behind.
    from refugium.web.accounts.validators import validate_username

    validate_username(admin)
    check_passphrase_policy(passphrase)

    created = not data.root.exists()
    data.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(data.root, 0o700)
    try:
        write_atomic(data.secret_key, secrets.token_urlsafe(50).encode("ascii"))
        data.keys.mkdir(mode=0o700)
        signing_key = SigningKey.generate()
        write_atomic(data.log_signing_key, signing_key.to_private_pem())
        write_atomic(data.log_verify_key, signing_key.verify_key.to_public_pem())
        setup_django()
        from django.core.management import call_command

        from refugium.web.accounts import services

        call_command("migrate", verbosity=0, interactive=False)
        result = services.initialise(
            admin=admin, passphrase=passphrase, org_name=org_name, signing_key=signing_key
        )
        write_atomic(data.initialised_marker, b"refugium data folder\n")
    except BaseException:
        _remove_contents(data.root, remove_root=created)
        raise
    return InitDone(data_root=data.root, paper_key=result.paper_key, admin=result.admin)


def remove_contents(root: Path, *, remove_root: bool) -> None:
    """Undo a data folder this process created (``remove_root``) or found empty: a failed
    ``refugium demo --passphrase-stdin`` leaves it as it was before."""
    _remove_contents(root, remove_root=remove_root)


def _remove_contents(root: Path, *, remove_root: bool) -> None:
    from django.db import connections

    connections.close_all()
    if remove_root:
        shutil.rmtree(root, ignore_errors=True)
        return
    for child in root.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def run_checks() -> list[str]:
    """Every problem with the configuration and the data folder, one line each.

    Runs Django's system checks with the deployment checks (``check --deploy``), which
    include refugium's own (DEBUG, upload handlers, Argon2 profile, SQLite pragmas, data
    folder permissions and key files), then verifies the audit chain.
    """
    from refugium.cli import setup_django

    data = DataDir.from_environment()
    if not data.is_initialised() and not os.environ.get("DATABASE_URL"):
        return [f"{data.root} is not an initialised refugium data folder (run `refugium init`)"]
    setup_django()
    from django.core import checks

    problems = [
        f"{m.id}: {m.msg}" + (f" ({m.hint})" if m.hint else "")
        for m in checks.run_checks(include_deployment_checks=True, databases=["default"])
        if m.level >= checks.WARNING and not m.is_silenced()
    ]
    for path in (data.secret_key, data.log_signing_key, data.log_verify_key):
        if not os.access(path, os.R_OK):
            problems.append(f"{path.name} is not readable")
    from refugium.audit import AuditLog
    from refugium.crypto import VerifyKey
    from refugium.errors import RefugiumError

    try:
        key = VerifyKey.from_public_pem(data.log_verify_key.read_bytes())
        AuditLog(data.audit_log, key).verify()
    except (RefugiumError, OSError) as exc:
        problems.append(f"audit log: {exc}")
    return problems

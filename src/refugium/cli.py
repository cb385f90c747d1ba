"""The ``refugium`` command.

Library commands (``audit verify``) need no Django settings; server commands set Django up and
call ``refugium.web.accounts.services``, which holds all the logic. Exit status: 0 success,
1 a failed operation or verification, 2 bad usage or bad input; either way one line on
stderr. Anything else is a bug: exit 1, "internal error", and a traceback only with
``--traceback``. Passphrases and paper keys come from the terminal or standard input, never
from the command line (where other users and shell history could see them).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from refugium import __version__
from refugium.errors import (
    BadInput,
    ChainBroken,
    Conflict,
    DecryptionFailed,
    NotFound,
    RefugiumError,
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"refugium: error: {message}", file=sys.stderr)
        raise SystemExit(2)


# --- Input of secrets -----------------------------------------------------------------------


def _read_stdin_line(what: str) -> str:
    line = sys.stdin.readline()
    if not line:
        raise BadInput(f"expected {what} on standard input, got nothing")
    return line.rstrip("\r\n")


def read_passphrase(args: argparse.Namespace, *, new: bool, whose: str = "") -> str:
    """One passphrase, from stdin (one line) or the terminal (twice when it is new)."""
    label = f"{whose} passphrase" if whose else "passphrase"
    if args.passphrase_stdin:
        return _read_stdin_line(label)
    if not sys.stdin.isatty():
        raise BadInput(f"no terminal to ask for the {label}; use --passphrase-stdin")
    first = getpass.getpass(f"{label.capitalize()}: ")
    if new and getpass.getpass(f"{label.capitalize()} again: ") != first:
        raise BadInput("the two passphrases differ")
    return first


# --- Django ---------------------------------------------------------------------------------


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refugium.web.settings")
    import django

    django.setup()


def _require_initialised() -> None:
    from refugium.datadir import DataDir

    data = DataDir.from_environment()
    if not data.is_initialised() and not os.environ.get("DATABASE_URL"):
        raise BadInput(f"{data.root} is not a refugium data folder; run `refugium init` first")


# --- Commands -------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from refugium.provision import initialise_data_folder

    passphrase = read_passphrase(args, new=True, whose=args.admin)
    result = initialise_data_folder(
        admin=args.admin, passphrase=passphrase, org_name=args.org
    )
    print(f"Initialised {result.data_root}")
    print()
    print("RECOVERY PAPER KEY: shown this once and stored nowhere. Write it on paper, keep it")
    print("offline in a safe place; with it, `refugium recover` restores access to every desk.")
    print(f"  {result.paper_key}")
    print()
    _print_totp(result.admin)
    return 0


def _print_totp(account: Any) -> None:
    print(f"Authenticator for {account.username}: add this to a TOTP app (or its QR code):")
    print(f"  {account.totp_uri}")


def cmd_user_add(args: argparse.Namespace) -> int:
    _require_initialised()
    setup_django()
    from refugium.web.accounts import services

    passphrase = read_passphrase(args, new=True, whose=args.name)
    new = services.add_user(args.name, passphrase, args.desk)
    print(f"Added {args.name}.")
    if args.desk:
        desks = " ".join(args.desk)
        print(f"Desks waiting for keys: {desks}; a member grants them with")
        print(f"  refugium desk grant {args.name} DESK --by MEMBER")
    _print_totp(new)
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    _require_initialised()
    setup_django()
    from refugium.web.accounts import services

    rows = services.list_users()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        flags = [f for f in ("admin", "locked") if row[f]]
        if not row["active"]:
            flags.append("disabled")
        desks = ",".join(row["desks"]) or "-"  # type: ignore[arg-type]
        pending = ",".join(row["pending"])  # type: ignore[arg-type]
        line = f"{row['name']:<20} desks={desks}"
        if pending:
            line += f" pending={pending}"
        if flags:
            line += f" [{' '.join(flags)}]"
        print(line)
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    _require_initialised()
    setup_django()
    from refugium.web.accounts import services

    services.disable_user(args.name)
    print(f"Disabled {args.name}; their sessions end now. To rotate the desk keys they held:")
    print(f"  refugium desk revoke {args.name} DESK")
    return 0


def cmd_user_unlock(args: argparse.Namespace) -> int:
    _require_initialised()
    setup_django()
    from refugium.web.accounts import services

    services.unlock_user(args.name)
    print(f"Unlocked {args.name}.")
    return 0


def cmd_desk_grant(args: argparse.Namespace) -> int:
    _require_initialised()
    setup_django()
    from refugium.web.accounts import services

    passphrase = read_passphrase(args, new=False, whose=args.by)
    count = services.grant(args.name, args.desk, by=args.by, by_passphrase=passphrase)
    print(f"Granted {args.desk} to {args.name} ({count} key generation(s)).")
    return 0


def cmd_desk_revoke(args: argparse.Namespace) -> int:
    _require_initialised()
    setup_django()
    from refugium.web.accounts import services

    number = services.revoke(args.name, args.desk)
    print(f"Revoked {args.name} from {args.desk}; new data uses key generation {number}.")
    return 0


def cmd_desk_list(args: argparse.Namespace) -> int:
    _require_initialised()
    setup_django()
    from refugium.web.accounts.models import Desk

    for desk in Desk.objects.prefetch_related("memberships__user", "generations"):
        members = sorted(m.user.username for m in desk.memberships.all() if m.active)
        print(
            f"{desk.name:<15} generation={desk.generations.count()} "
            f"members={','.join(members) or '-'}"
        )
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    _require_initialised()
    setup_django()
    from refugium.web.accounts import services

    if sys.stdin.isatty():
        print("Type the recovery paper key, then Enter:", file=sys.stderr)
    paper_key = _read_stdin_line("the recovery paper key")
    count = services.recover(args.desk, paper_key, args.user)
    print(f"Recovered {args.desk} for {args.user} ({count} key generation(s)).")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _require_initialised()
    setup_django()
    from refugium.server import serve

    serve(host=args.host, port=args.port, workers=args.workers)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from refugium.provision import run_checks

    problems = run_checks()
    for problem in problems:
        print(problem)
    if problems:
        print(f"refugium: check failed: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("All checks passed.")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from refugium.audit import AuditLog
    from refugium.crypto import VerifyKey
    from refugium.datadir import DataDir

    data = DataDir.from_environment()
    if not data.audit_log.is_file() or not data.log_verify_key.is_file():
        raise BadInput(f"no audit log in {data.root}")
    key = VerifyKey.from_public_pem(data.log_verify_key.read_bytes())
    log = AuditLog(data.audit_log, key)
    if args.anchor:
        count_text, _, head_hash = args.anchor.partition(":")
        if not count_text.isdigit() or not head_hash:
            raise BadInput("--anchor is COUNT:HASH, as an earlier `audit verify` printed it")
        log.verify(anchor=(int(count_text), head_hash))
    count, head_hash = log.head()
    print(f"Audit log intact: {count} entries; head {count}:{head_hash}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from refugium.demo import run_demo

    return run_demo(port=args.port, host=args.host)


# --- Parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="refugium",
        description="Secure documentation, intake and casework for human-rights researchers. "
        "The data folder is $REFUGIUM_DATA (default ./refugium-data).",
    )
    parser.add_argument("--version", action="version", version=f"refugium {__version__}")
    parser.add_argument(
        "--traceback", action="store_true", help="print a traceback on internal errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(
        container: Any, name: str, func: Callable[[argparse.Namespace], int] | None, help: str
    ) -> argparse.ArgumentParser:
        """A subcommand; ``func`` None for a group whose own subcommands do the work."""
        p: argparse.ArgumentParser = container.add_parser(name, help=help, description=help)
        if func is not None:
            p.set_defaults(func=func)
        return p

    def passphrase_stdin(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--passphrase-stdin",
            action="store_true",
            help="read the passphrase as one line from standard input instead of the terminal",
        )

    p = add(sub, "init", cmd_init, "create the data folder, the organisation, its desks and "
            "the first admin; prints the recovery paper key once")
    p.add_argument("--admin", default="admin", help="name of the first admin (default: admin)")
    p.add_argument("--org", default="Refugium", help="the organisation's name")
    passphrase_stdin(p)

    user = add(sub, "user", None, "manage researchers' accounts")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", parser_class=_Parser)
    user_sub.required = True
    p = add(user_sub, "add", cmd_user_add, "add an account (with a TOTP authenticator)")
    p.add_argument("name")
    p.add_argument("--desk", action="append", default=[], metavar="DESK",
                   help="desk to join once a member grants the keys (repeatable)")
    passphrase_stdin(p)
    p = add(user_sub, "list", cmd_user_list, "list accounts, their desks and state")
    p.add_argument("--json", action="store_true", help="one JSON document")
    p = add(user_sub, "disable", cmd_user_disable, "stop an account signing in; ends its sessions")
    p.add_argument("name")
    p = add(user_sub, "unlock", cmd_user_unlock, "lift a lockout after failed sign-ins")
    p.add_argument("name")

    desk = add(sub, "desk", None, "manage desk membership and desk keys")
    desk_sub = desk.add_subparsers(dest="desk_command", metavar="ACTION", parser_class=_Parser)
    desk_sub.required = True
    p = add(desk_sub, "grant", cmd_desk_grant,
            "re-wrap a desk's keys to a user (needs a member's passphrase)")
    p.add_argument("name", help="the user who gets the keys")
    p.add_argument("desk")
    p.add_argument("--by", required=True, metavar="MEMBER",
                   help="a member of the desk who unlocks the keys with their passphrase")
    passphrase_stdin(p)
    p = add(desk_sub, "revoke", cmd_desk_revoke,
            "take a user off a desk and rotate the desk key for new data")
    p.add_argument("name")
    p.add_argument("desk")
    add(desk_sub, "list", cmd_desk_list, "list desks, key generations and members")

    p = add(sub, "recover", cmd_recover,
            "restore a desk's keys to a user with the recovery paper key (read from stdin)")
    p.add_argument("--desk", required=True)
    p.add_argument("--user", required=True, help="the user who gets the keys")

    p = add(sub, "serve", cmd_serve, "run the web app with gunicorn (never Django's dev server)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=2)

    add(sub, "check", cmd_check, "check configuration and data folder health")

    audit = add(sub, "audit", None, "the signed audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", parser_class=_Parser)
    audit_sub.required = True
    p = add(audit_sub, "verify", cmd_audit_verify,
            "check the whole chain; names the first bad entry; prints the head to write down")
    p.add_argument("--anchor", metavar="COUNT:HASH",
                   help="also check that a head written down earlier is still in the chain")

    p = add(sub, "demo", cmd_demo, "serve a throwaway demo with synthetic data (what ./run does)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    return parser


EXIT_CODES: dict[type[RefugiumError], int] = {
    BadInput: 2,
    NotFound: 2,
    Conflict: 2,
    DecryptionFailed: 1,
    ChainBroken: 1,
}


def main(argv: Sequence[str] | None = None) -> int:
    # Files the process creates (database, WAL, keys, logs) are the owner's alone.
    os.umask(0o077)
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except RefugiumError as exc:
        print(f"refugium: error: {exc.message}", file=sys.stderr)
        return next((c for t, c in EXIT_CODES.items() if isinstance(exc, t)), 1)
    except KeyboardInterrupt:
        print("refugium: interrupted", file=sys.stderr)
        return 130
    except Exception:
        print("refugium: internal error (run with --traceback for details)", file=sys.stderr)
        if args.traceback:
            traceback.print_exc()
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

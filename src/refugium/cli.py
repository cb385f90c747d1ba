"""The ``refugium`` command.

Library commands (``audit verify``) need no Django settings; server commands set Django up and
call ``refugium.web.accounts.services`` or ``refugium.web.desk.services``, which hold all the
logic (the web pages call the same functions). Exit status: 0 success,
1 a failed operation or verification, 2 bad usage or bad input; either way one line on
stderr. Anything else is a bug: exit 1, "internal error", and a traceback only with
``--traceback``. Passphrases and paper keys come from the terminal or standard input, never
from the command line (where other users and shell history could see them).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import getpass
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from refugium import __version__
from refugium.errors import (
    BadInput,
    ChainBroken,
    Conflict,
    DecryptionFailed,
    NotFound,
    RefugiumError,
)

if TYPE_CHECKING:
    from refugium.estimation.result import Estimate

DEFAULT_LINK_THRESHOLD = 0.7
"""Kept equal to refugium.linkage.model.DEFAULT_THRESHOLD (a test checks): importing the model
here would load Splink for every command."""


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
    """``django.setup()`` without the cyclic garbage collector, then its objects frozen.

    The setup builds tens of thousands of long-lived objects (modules, model classes, fields)
    and almost no garbage, so the collections their allocations trigger find nothing: about
    90 ms of CPU of a 330 ms setup. Once set up, ``gc.freeze`` moves them to the permanent
    generation, which no later collection walks, the one at interpreter exit included (about
    70 ms with Django loaded). Objects made afterwards are collected as usual.
    """
    import gc

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refugium.web.settings")
    import django

    enabled = gc.isenabled()
    gc.disable()
    try:
        django.setup()
    finally:
        if enabled:
            gc.enable()
    gc.freeze()


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


# --- The intake desk's inbox (refugium.web.desk.services does the work) ---------------------

STATUSES = ("new", "in_review", "promoted", "closed")  # tests pin it to Submission.Status


def _printable(text: str, *, newlines: bool = True) -> str:
    """Reporters' text and file names go to a terminal: control and format characters (an
    escape sequence can rewrite the screen or the window title, a bidi override can reverse
    a name) are shown as ``\\xNN`` or ``\\uNNNN`` instead."""
    keep = "\n\t" if newlines else ""

    def one(ch: str) -> str:
        if ch in keep or ch.isprintable():
            return ch
        return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"

    return "".join(one(ch) for ch in text)


def _open_inbox(args: argparse.Namespace) -> tuple[Any, Any, Any, list[Any]]:
    """Unlocks ``--user``'s keys with their passphrase; returns the services module, the
    user, the desk and its identities (the same access rule as the web inbox)."""
    _require_initialised()
    setup_django()
    from refugium.web.desk import services

    passphrase = read_passphrase(args, new=False, whose=args.user)
    user, keyring = services.unlock(args.user, passphrase)
    desk = services.inbox_desk()
    return services, user, desk, services.identities(user, keyring, desk)


def cmd_inbox_list(args: argparse.Namespace) -> int:
    services, _user, desk, _keys = _open_inbox(args)
    rows = services.list_rows(desk)
    if args.json:
        print(json.dumps([row.to_json() for row in rows], indent=2))
        return 0
    for row in rows:
        unread = " unread" if row.unread else ""
        print(
            f"{row.code}  {row.received_on.isoformat()}  {row.status:<10} "
            f"files={row.files}{unread}"
        )
    return 0


def _write_new_file(path: Any, chunks: Iterable[bytes]) -> None:
    """Creates ``path`` for the owner alone (0600), never over an existing file or through a
    symbolic link (O_EXCL, O_NOFOLLOW), writes and fsyncs it; removes it if anything fails, so
    an interrupted write leaves no partial file of plaintext or keys."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise


def _save_files(
    services: Any, submission: Any, view: Any, keys: list[Any], folder: str, actor: str
) -> list[str]:
    """Writes each decrypted file to ``folder`` as ``<stored name>-<safe original name>``.

    The original name never chooses the path: it is reduced to a harmless last component
    and prefixed with the random stored name. Nothing is overwritten: every target is
    checked first, and each file is created with O_EXCL (no symlink followed).
    """
    from pathlib import Path

    from refugium.web.desk.filenames import safe_name

    target = Path(folder)
    if not target.is_dir():
        raise BadInput(f"{folder} is not a folder; create it first")
    files = [f for m in view.messages for f in m.attachments]
    paths = [target / f"{f.stored_name}-{safe_name(f.name)}" for f in files]
    for path in paths:
        if os.path.lexists(path):
            raise Conflict(f"{path} exists; refusing to overwrite it")
    written = []
    for file, path in zip(files, paths, strict=True):
        _meta, chunks = services.open_file(submission, file.stored_name, keys, actor=actor)
        _write_new_file(path, chunks)
        written.append(str(path))
    return written


def cmd_inbox_show(args: argparse.Namespace) -> int:
    services, user, desk, keys = _open_inbox(args)
    submission = services.get_submission(desk, args.code)
    view = services.read(submission, keys, actor=user.username)
    written = []
    if args.files_to is not None:
        written = _save_files(services, submission, view, keys, args.files_to, user.username)
    if args.json:
        document = dataclasses.asdict(view)
        document["received_on"] = view.received_on.isoformat()
        for message in document["messages"]:
            message["sent_on"] = message["sent_on"].isoformat()
        document["written"] = written
        # ASCII only: JSON leaves C1 controls and bidi overrides raw otherwise.
        print(json.dumps(document, indent=2))
        return 0
    print(
        f"Submission {view.code}  received {view.received_on.isoformat()}  "
        f"status {view.status}"
    )
    for message in view.messages:
        who = "reporter" if message.from_reporter else f"desk ({message.sent_by or '-'})"
        print()
        print(f"--- message {message.number} from {who}, {message.sent_on.isoformat()}")
        if not message.readable:
            print("[cannot be decrypted with this account's keys]")
        else:
            print(_printable(message.text))
            for group, labels in message.hints:
                print(f"[{group}: {_printable(labels, newlines=False)}]")
        for f in message.attachments:
            if f.readable:
                print(
                    f"file {f.stored_name}  {f.size} bytes  "
                    f"sha256 {_printable(f.sha256, newlines=False)}  "
                    f"type {_printable(f.type, newlines=False)}  "
                    f"name {_printable(f.name, newlines=False)}"
                )
            else:
                print(f"file {f.stored_name}  {f.size} bytes  [details cannot be decrypted]")
    for path in written:
        print(f"wrote {_printable(path, newlines=False)}", file=sys.stderr)
    return 0


def cmd_inbox_reply(args: argparse.Namespace) -> int:
    services, user, desk, _keys = _open_inbox(args)
    submission = services.get_submission(desk, args.code)
    if sys.stdin.isatty():
        print("Type the reply, then Ctrl-D on a line of its own:", file=sys.stderr)
    text = sys.stdin.read().rstrip("\r\n")
    services.reply(submission, services.check_reply_text(text), user=user)
    print(f"Replied to {submission.code}; the reporter reads it with their receipt.")
    return 0


def cmd_inbox_status(args: argparse.Namespace) -> int:
    services, user, desk, _keys = _open_inbox(args)
    submission = services.get_submission(desk, args.code)
    services.set_status(submission, args.status, actor=user.username)
    print(f"{submission.code} is now {args.status}.")
    return 0


def cmd_inbox_delete(args: argparse.Namespace) -> int:
    if not args.yes:
        raise BadInput("deleting cannot be undone; add --yes to delete")
    services, user, desk, _keys = _open_inbox(args)
    submission = services.get_submission(desk, args.code)
    result = services.delete(submission, actor=user.username)
    print(f"Deleted {result.code}: rows removed, {result.files} file(s) shredded.")
    if result.wal_truncated is False:
        print("The SQLite write-ahead log could not be emptied now; a later checkpoint does.")
    print("Backups, snapshots, downloaded copies and blocks kept by SSDs or copy-on-write")
    print("filesystems are out of reach (docs/inbox.md).")
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


# --- The documentation database (refugium.web.records does the work) -----------------------


def _open_desk(args: argparse.Namespace, services: str) -> Any:
    """A desk's workspace unlocked with ``--user``'s passphrase (the web's access rule).

    ``services`` names the module whose ``workspace(user, keyring)`` opens it: records for
    the documentation desk, casework for the casework desk.
    """
    import importlib

    _require_initialised()
    setup_django()
    from refugium.web.desk.services import unlock

    module = importlib.import_module(services)
    passphrase = read_passphrase(args, new=False, whose=args.user)
    user, keyring = unlock(args.user, passphrase)
    return module.workspace(user, keyring)


def _open_records(args: argparse.Namespace) -> Any:
    """The documentation desk unlocked with ``--user``'s passphrase."""
    return _open_desk(args, "refugium.web.records.services")


def cmd_records_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    ws = _open_records(args)
    from refugium.web.records import transfer

    mapping = transfer.Mapping_.load(Path(args.mapping)) if args.mapping else None
    rejects = Path(args.rejects) if args.rejects else None
    if args.skip_bad and rejects is None:
        rejects = Path(args.file).with_suffix(".rejects.csv")
    if rejects is not None and os.path.lexists(rejects):
        raise Conflict(f"{rejects} exists; refusing to overwrite it")
    result = transfer.import_file(
        ws, Path(args.file), args.kind, mapping=mapping, skip_bad=args.skip_bad
    )
    first, last = (result.codes[0], result.codes[-1]) if result.codes else ("-", "-")
    print(f"Imported {result.imported} {args.kind} ({first} to {last}).")
    if result.rejected:
        assert rejects is not None
        transfer.write_rejects(rejects, result.rejected)
        print(f"Skipped {len(result.rejected)} bad rows; they are in {rejects} with the reasons.")
    return 0


def cmd_records_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    ws = _open_records(args)
    from refugium.web.records import transfer

    out = Path(args.out)
    if os.path.lexists(out):
        raise Conflict(f"{out} exists; refusing to overwrite it")
    result = transfer.export(ws, args.kind, out, redacted=args.redacted)
    print(f"Exported {result.rows} {args.kind} to {out}.")
    if args.redacted:
        withheld = sorted(name for name, count in result.withheld.items() if count)
        print(f"Withheld: {', '.join(withheld) or 'nothing'}; the report is {out}.withheld.json.")
    return 0


# The sizes refugium.web.records.synthetic makes (checked there; parsing needs no Django).
MIN_EVENTS, MAX_EVENTS = 100, 100_000


def _events_count(text: str) -> int:
    """``--events``: a whole number in the range the synthetic campaign is made for."""
    if not text.strip().isdigit() or not MIN_EVENTS <= int(text) <= MAX_EVENTS:
        raise argparse.ArgumentTypeError(f"give a whole number from {MIN_EVENTS} to {MAX_EVENTS}")
    return int(text)


def _synthesis_progress(total: int) -> Any:
    def progress(batch: Any, counts: dict[str, int], seconds: float) -> None:
        rows = sum(counts.values())
        kind = batch.groups[0][0]
        done = f"{batch.events_done}/{total} events" if batch.events_done else f"{kind} rows"
        print(f"  {done}, {rows} rows, {rows / seconds:.0f} rows/s", file=sys.stderr, flush=True)

    return progress


def cmd_records_synthesize(args: argparse.Namespace) -> int:
    ws = _open_records(args)
    from refugium.web.records import synthetic

    progress = _synthesis_progress(args.events) if args.events >= 1000 else None
    written = synthetic.generate(ws, args.events, seed=args.seed, progress=progress)
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(written.counts.items()))
    print(
        f"Wrote {written.rows} SYNTHETIC records ({kinds}) in {written.seconds:.1f} s: "
        f"{written.rows / written.seconds:.0f} rows/s."
    )
    return 0


def cmd_vocab_list(args: argparse.Namespace) -> int:
    _require_initialised()
    setup_django()
    from refugium.web.records.models import Term, Vocabulary

    if not args.vocabulary:
        for vocabulary in Vocabulary.objects.all():
            esf = f"ESF {vocabulary.esf_number}" if vocabulary.esf_number else "refugium"
            count = vocabulary.terms.filter(retired=False).count()
            print(f"{vocabulary.key:<24} v{vocabulary.version:<3} {esf:<9} {count:>4} terms  "
                  f"{vocabulary.title_en}")
        return 0
    terms = Term.objects.filter(vocabulary__key=args.vocabulary)
    if not terms.exists():
        raise NotFound(f"no vocabulary {args.vocabulary!r}; `refugium vocab list` shows them")
    for term in terms:
        flags = (" retired" if term.retired else "") + (" local" if term.local else "")
        print(f"{term.key:<32} {term.code or '-':<12} {term.label_en} / {term.label_ru}{flags}")
    return 0


def cmd_vocab_add(args: argparse.Namespace) -> int:
    _require_initialised()
    setup_django()
    from refugium.web.records import vocab

    vocab.add_term(args.vocabulary, args.key, label_en=args.en, label_ru=args.ru,
                   parent=args.parent or "")
    print(f"Added {args.key} to {args.vocabulary}; later vocabulary updates keep it.")
    return 0


def cmd_vocab_retire(args: argparse.Namespace) -> int:
    _require_initialised()
    setup_django()
    from refugium.web.records import vocab

    vocab.retire_term(args.vocabulary, args.key)
    print(f"Retired {args.key} of {args.vocabulary}: records keep it; forms and imports refuse it.")
    return 0


def cmd_vocab_sync(args: argparse.Namespace) -> int:
    _require_initialised()
    setup_django()
    from refugium.web.records import vocab

    report = vocab.sync_shipped()
    print(f"{report.vocabularies} vocabularies: {report.added} terms added, "
          f"{report.updated} changed, {report.retired} retired.")
    return 0


# --- The evidence vault (refugium.web.evidence.services does the work) ----------------------


def _evidence_desk(name: str) -> Any:
    _require_initialised()
    setup_django()
    from refugium.web.accounts.services import get_desk

    return get_desk(name)


def _evidence_keys(args: argparse.Namespace, desk: Any) -> list[Any]:
    """The identities of ``desk``'s keys that ``--user`` holds, unlocked with the passphrase."""
    from refugium.web.desk.services import identities, unlock

    passphrase = read_passphrase(args, new=False, whose=args.user)
    user, keyring = unlock(args.user, passphrase)
    return identities(user, keyring, desk)


def cmd_evidence_add(args: argparse.Namespace) -> int:
    """One file on a SQLite data folder: encrypted and stored without Django
    (``refugium.web.evidence.early``), whose set-up would cost more than encrypting 64 MiB.
    Whatever that path does not cover (several files, PostgreSQL, a schema or a key it does
    not expect) goes through Django and ``services.ingest``, which takes over or redoes what
    was started."""
    from pathlib import Path

    _require_initialised()
    early = None
    if len(args.paths) == 1:
        from refugium.web.evidence import early as early_ingest

        early = early_ingest.start(Path(args.paths[0]), args.desk)
        if early is not None:
            try:
                done = early_ingest.ingest_without_django(
                    early, source=args.source or "", actor=args.by or "cli"
                )
            except BaseException:
                early.abort()
                raise
            if done is not None:
                code, sha256 = done
                print(f"{code}  {sha256}  {_printable(str(early.path), newlines=False)}")
                return 0
    try:
        desk = _evidence_desk(args.desk)
        from refugium.web.evidence import services

        files = services.files_under([Path(p) for p in args.paths])
        if not files:
            raise BadInput("no files to add")
        actor = args.by or "cli"
        for path in files:
            item, sha256 = services.ingest(
                path, desk, source=args.source or "", actor=actor, early=early
            )
            early = None  # ingest took it over or aborted it
            print(f"{item.code}  {sha256}  {_printable(str(path), newlines=False)}")
    finally:
        if early is not None:
            early.abort()
    return 0


def cmd_evidence_list(args: argparse.Namespace) -> int:
    desk = _evidence_desk(args.desk)
    from refugium.web.evidence import services

    for item in services.desk_items(desk).prefetch_related("links"):
        records = ",".join(r.code for r in services.linked_records(item)) or "-"
        print(f"{item.code}  {item.added_on.isoformat()}  {item.size:>12}  records={records}")
    return 0


def cmd_evidence_show(args: argparse.Namespace) -> int:
    desk = _evidence_desk(args.desk)
    from refugium.web.evidence import services

    keys = _evidence_keys(args, desk)
    item = services.get(desk, args.code)
    meta, history = services.show(item, keys, actor=args.user)
    if args.json:
        print(json.dumps({"code": item.code, "size": item.size, **dataclasses.asdict(meta),
                          "custody": history}, ensure_ascii=False, indent=2))
        return 0
    print(f"Item {item.code} on desk {desk.name}, added {item.added_on.isoformat()}")
    print(f"  name:       {_printable(meta.name, newlines=False)}")
    print(f"  source:     {_printable(meta.source)}")
    print(f"  size:       {item.size}")
    print(f"  sha256:     {meta.sha256}")
    print(f"  media type: {meta.media_type}")
    report = meta.metadata
    for group, key, value in report.get("entries", []):
        print(f"  metadata:   {group} {key}: {_printable(str(value), newlines=False)}")
    for warning in report.get("warnings", []):
        print(f"  WARNING:    the file carries {warning}")
    if report.get("error"):
        print(f"  metadata:   (partial: {report['error']})")
    print("Custody:")
    for entry in history:
        extra = " ".join(f"{k}={v}" for k, v in sorted(entry.items())
                         if k not in ("at", "event", "item", "actor", "content"))
        print(f"  {entry['at']}  {entry['event']:<9} {entry['actor']}  {extra}".rstrip())
    return 0


def cmd_evidence_share(args: argparse.Namespace) -> int:
    from pathlib import Path

    desk = _evidence_desk(args.desk)
    from refugium.web.evidence import services

    keys = _evidence_keys(args, desk)
    out = Path(args.out)
    if os.path.lexists(out):
        raise Conflict(f"{out} exists; refusing to overwrite it")
    copy, sha256 = services.share(services.get(desk, args.code), keys, actor=args.user)
    _write_new_file(out, [copy])
    print(f"Wrote a copy without metadata to {out} (sha256 {sha256}); the original is unchanged.")
    return 0


def cmd_evidence_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    desk = _evidence_desk(args.desk)
    from refugium.web.evidence import services

    keys = _evidence_keys(args, desk)
    items = [services.get(desk, code) for code in args.codes]
    out = Path(args.out)
    if os.path.lexists(out):
        raise Conflict(f"{out} exists; refusing to overwrite it")
    services.export(items, keys, out, actor=args.user)
    print(f"Wrote a bundle of {len(items)} item(s) to {out}; {out}/VERIFY.txt says how to check "
          "it without refugium, and `refugium verify` checks it too.")
    return 0


def _open_casework(args: argparse.Namespace) -> Any:
    """The casework desk unlocked with ``--user``'s passphrase."""
    return _open_desk(args, "refugium.web.casework.services")


def cmd_watchlist_add(args: argparse.Namespace) -> int:
    ws = _open_casework(args)
    from refugium.web.casework import services

    entry, created = services.add_to_watchlist(ws, args.identifier, args.kind, args.reason)
    print(f"{'added' if created else 'already listed'}: entry {entry.pk}")
    return 0


def cmd_watchlist_check(args: argparse.Namespace) -> int:
    ws = _open_casework(args)
    from refugium.web.casework import services

    matches = services.check_contacts(ws, [(args.identifier, args.kind)])
    for match in matches:
        for reason in match.reason.splitlines():
            print(f"flag: {_printable(reason, newlines=False)}")
    if not matches:
        print("no match")
    return 0


def _case_from_submission(code: str | None) -> Any:
    """The intake submission a case opens from, by its code (no intake key is needed: the
    case only links to it).

    Raises:
        NotFound: no such submission.
    """
    if code is None:
        return None
    from refugium.web.intake.models import Submission

    found = Submission.objects.filter(code=code.strip().lower()).first()
    if found is None:
        raise NotFound(f"no submission {code!r}")
    return found


def cmd_case_new(args: argparse.Namespace) -> int:
    ws = _open_casework(args)
    from refugium.web.casework import cases

    submission = _case_from_submission(args.from_submission)
    contacts = [(identifier, None) for identifier in args.contact or []]
    channel = args.channel
    if channel is None:
        channel = f"intake:{submission.code}" if submission is not None else None
        channel = channel or (args.contact[0] if args.contact else None)
    opened = cases.open_case(
        ws,
        risk=args.risk,
        needs=args.need or [],
        contacts=contacts,
        submission=submission,
        channel=channel,
        name=args.name or "",
    )
    print(opened.case.code)
    for reason in opened.flags:
        print(f"flag: {_printable(reason, newlines=False)}")
    return 0


def cmd_case_show(args: argparse.Namespace) -> int:
    ws = _open_casework(args)
    from refugium.web.casework import cases

    view = cases.open_case_view(ws, args.code)

    def show(text: str | None) -> str:
        return _printable(text, newlines=False) if text else "-"

    print(f"case: {view.code}")
    print(f"stage: {view.stage}")
    print(f"risk: {view.risk}")
    print(f"needs: {', '.join(view.needs) or '-'}")
    print(f"opened: {view.opened_on.isoformat()}")
    print(f"submission: {view.submission or '-'}")
    print(f"person: {view.person or '-'}")
    print(f"name: {show(view.name)}")
    print(f"channel: {show(view.channel)}")
    for identifier, kind in view.contacts:
        print(f"contact: {show(identifier)} ({kind})")
    for name, role in view.assignees:
        print(f"assignee: {name} ({role})")
    for flag in view.flags:
        state = "cleared" if flag.cleared else "open"
        for reason in flag.reason.splitlines():
            print(f"flag {flag.number} ({flag.source}, {state}): {show(reason)}")
    for attestation in view.attestations:
        print(
            f"attestation: {attestation.signal} over {show(attestation.channel)} "
            f"by {attestation.by} on {attestation.on.isoformat()}"
        )
    for before, after, on, by in view.transitions:
        print(f"stage change: {before} -> {after} on {on.isoformat()} by {by or '-'}")
    return 0


def cmd_case_attest(args: argparse.Namespace) -> int:
    ws = _open_casework(args)
    from refugium.web.casework import cases

    case = cases.get_case(ws, args.code)
    cases.record_attestation(ws, case, args.signal, args.channel, note=args.note or "")
    print(f"{case.code}: {args.signal} recorded")
    return 0


def cmd_case_stage(args: argparse.Namespace) -> int:
    ws = _open_casework(args)
    from refugium.web.casework import cases

    case = cases.get_case(ws, args.code)
    change = cases.move_stage(ws, case, args.stage)
    print(f"{case.code}: {change.from_stage} -> {change.to_stage}")
    return 0


# --- Check-ins ------------------------------------------------------------------------------


def _duration(text: str) -> Any:
    """``90`` (minutes), ``90m``, ``6h``, ``1d``, ``1h30m``: a check-in period or grace."""
    import re
    from datetime import timedelta

    if text.strip().isdigit():
        return timedelta(minutes=int(text))
    found = re.fullmatch(r"\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m(?:in)?)?\s*", text.lower())
    if not text.strip() or found is None:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (write 90m, 6h, 1d or 1h30m)")
    days, hours, minutes = (int(g or 0) for g in found.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def _read_answer(args: argparse.Namespace, which: str) -> str:
    """An agreed answer: the next line of stdin with --passphrase-stdin, else asked without
    echo (twice). Never an argument: it would reach the shell's history."""
    if args.passphrase_stdin:
        return _read_stdin_line(f"the {which} answer")
    if not sys.stdin.isatty():
        raise BadInput(f"no terminal to ask for the {which} answer; use --passphrase-stdin")
    first = getpass.getpass(f"{which.capitalize()} answer: ")
    if getpass.getpass(f"{which.capitalize()} answer again: ") != first:
        raise BadInput(f"the two {which} answers differ")
    return first


def cmd_checkins_enrol(args: argparse.Namespace) -> int:
    ws = _open_casework(args)
    from django.contrib.auth.models import User

    from refugium.web.casework import cases, checkin_store

    case = cases.get_case(ws, args.code)
    handler = None
    if args.handler is not None:
        handler = User.objects.filter(username=args.handler).first()
        if handler is None:
            raise BadInput("the handler must be assigned to the case")
    normal = _read_answer(args, "normal")
    duress = _read_answer(args, "duress")
    enrolled = checkin_store.enrol(
        ws, case, args.every, args.grace, normal, duress, handler=handler
    )
    schedule = enrolled.schedule
    print(
        f"{case.code}: check-ins every {schedule.every_minutes} minutes, "
        f"grace {schedule.grace_minutes} minutes"
    )
    print(f"check-in code (shown once): {enrolled.code}")
    return 0


def cmd_checkins_stop(args: argparse.Namespace) -> int:
    ws = _open_casework(args)
    from refugium.web.casework import cases, checkin_store

    case = cases.get_case(ws, args.code)
    checkin_store.stop(ws, case)
    print(f"{case.code}: check-ins stopped")
    return 0


def _when(text: str | None) -> Any:
    """``--now``: an ISO 8601 time with its zone, or None for the clock.

    Raises:
        BadInput: not such a time.
    """
    from datetime import datetime

    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"not an ISO 8601 time: {text!r}") from None
    if at.tzinfo is None:
        raise BadInput("--now needs a time zone, e.g. 2017-04-02T09:30:00+00:00")
    return at


def cmd_checkins_run(args: argparse.Namespace) -> int:
    _require_initialised()
    setup_django()
    from refugium.web.casework import periodic

    for line in periodic.run(_when(args.now)):
        print(line)
    return 0


def cmd_checkins_list(args: argparse.Namespace) -> int:
    ws = _open_casework(args)
    from refugium.web.casework import checkin_store

    rows = checkin_store.open_alerts(ws)
    for row in rows:
        state = (
            f"acknowledged by {row.acknowledged_by.username}"
            if row.acknowledged_by is not None
            else "not acknowledged"
        )
        print(
            f"alert {row.pk}: {row.schedule.case.code} {row.reason}, tier {row.tier}, "
            f"raised {row.raised_at.isoformat(timespec='minutes')}, {state}"
        )
    if not rows:
        print("no open alerts")
    return 0


def cmd_checkins_ack(args: argparse.Namespace) -> int:
    ws = _open_casework(args)
    from refugium.web.casework import checkin_store

    row = checkin_store.acknowledge(ws, args.number)
    print(f"alert {row.pk}: acknowledged ({row.schedule.case.code})")
    return 0


def cmd_checkins_resolve(args: argparse.Namespace) -> int:
    ws = _open_casework(args)
    from refugium.web.casework import checkin_store

    row = checkin_store.resolve(ws, args.number)
    print(f"alert {row.pk}: resolved ({row.schedule.case.code})")
    return 0


def _case_member(name: str) -> Any:
    """Raises:
    NotFound: no such account.
    """
    from refugium.web.accounts import services as accounts

    return accounts.get_user(name)


def cmd_case_assign(args: argparse.Namespace) -> int:
    ws = _open_casework(args)
    from refugium.web.casework import cases

    case = cases.get_case(ws, args.code)
    held = cases.assign(ws, case, _case_member(args.member), role=args.role)
    print(f"{case.code}: {args.member} assigned as {args.role} ({held} key generation(s) wrapped)")
    return 0


def cmd_case_unassign(args: argparse.Namespace) -> int:
    ws = _open_casework(args)
    from refugium.web.casework import cases

    case = cases.get_case(ws, args.code)
    number = cases.unassign(ws, case, _case_member(args.member))
    print(f"{case.code}: {args.member} unassigned; new data is sealed under key {number}")
    return 0


def cmd_case_cut_off(args: argparse.Namespace) -> int:
    ws = _open_casework(args)
    from refugium.web.casework import cases

    result = cases.cut_off(ws, _case_member(args.member))
    for code in result.cases:
        print(f"{code}: new key")
    print(f"{args.member}: " + (
        "cut off; casework desk membership revoked, sessions ended"
        if result.desk_revoked
        else "cut off; was not a member of the casework desk"
    ))
    return 0


def cmd_case_flag(args: argparse.Namespace) -> int:
    ws = _open_casework(args)
    from refugium.web.casework import cases

    case = cases.get_case(ws, args.code)
    flag = cases.raise_flag(ws, case, args.reason, args.note or "")
    print(f"{case.code}: flag {flag.pk} raised ({args.reason}); risk {case.risk}")
    return 0


def cmd_case_clear(args: argparse.Namespace) -> int:
    ws = _open_casework(args)
    from refugium.web.casework import cases

    case = cases.get_case(ws, args.code)
    cases.clear_flag(ws, case, args.flag)
    print(f"{case.code}: flag {args.flag} cleared")
    return 0


def cmd_case_document_add(args: argparse.Namespace) -> int:
    from pathlib import Path

    ws = _open_casework(args)
    from refugium.web.casework import cases, documents

    case = cases.get_case(ws, args.code)
    path = Path(args.file)
    document = documents.add_case_document(ws, case, path.name, path, note=args.note or "")
    print(f"{case.code}: document {document.pk} added, readable by the case's assignees only")
    return 0


def cmd_case_document_get(args: argparse.Namespace) -> int:
    from pathlib import Path

    ws = _open_casework(args)
    from refugium.web.casework import cases, documents

    case = cases.get_case(ws, args.code)
    out = Path(args.out)
    if os.path.lexists(out):
        raise Conflict(f"{out} exists; refusing to overwrite it")
    opened = documents.open_case_document(ws, case, args.number)
    _write_new_file(out, opened.chunks)
    print(f"{case.code}: document {opened.number} written to {out} ({opened.size} bytes)")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from pathlib import Path

    from refugium.vault.bundle import verify_bundle

    problems = verify_bundle(Path(args.bundle))
    for problem in problems:
        print(f"FAILED: {problem}")
    if problems:
        return 1
    print(f"{args.bundle}: every file, the manifest's signature and the custody log check out.")
    return 0


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError("a match probability between 0 and 1, such as 0.9")
    return value


def cmd_link(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from refugium.linkage.inputs import BadInput as BadLinkageInput
    from refugium.linkage.run import link_files

    started = time.perf_counter()

    def progress(stage: str) -> None:
        print(f"link: [{time.perf_counter() - started:6.1f} s] {stage}", file=sys.stderr)

    try:
        outcome = link_files(
            [Path(name) for name in args.files],
            Path(args.out),
            threshold=args.threshold,
            report=Path(args.report) if args.report else None,
            progress=None if args.quiet else progress,
        )
    except BadLinkageInput as exc:
        raise BadInput(str(exc)) from None
    except ValueError as exc:
        raise BadInput(str(exc)) from None

    except OSError as exc:
        raise BadInput(f"cannot write the output: {exc.strerror or exc}") from None
    persons = outcome.linkage.clusters.nunique()
    print(
        f"{len(outcome.records):,} records from {len(outcome.sources)} source(s):"
        f" {persons:,} persons at threshold {args.threshold}; wrote {args.out}"
        + (f" and {args.report}" if args.report else ""),
        file=sys.stderr,
    )
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("a whole number from 1 up")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError("a seed is a whole number from 0 up")
    return value


def cmd_estimate(args: argparse.Namespace) -> int:
    import secrets
    import time
    from pathlib import Path

    from refugium.estimation.run import METHODS, Options, estimate_tables
    from refugium.estimation.table import BadTable, read_table

    try:
        tables = read_table(Path(args.file), strata=args.strata)
    except BadTable as exc:
        raise BadInput(str(exc)) from None
    methods = METHODS if args.method == "all" else (args.method,)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**32)
    started = time.perf_counter()

    def progress(stage: str) -> None:
        print(f"estimate: [{time.perf_counter() - started:6.1f} s] {stage}", file=sys.stderr)

    options = Options(seed=seed, iterations=args.iterations)
    results = estimate_tables(tables, methods, options, progress=None if args.json else progress)
    if args.method != "all" and all(r.estimate != r.estimate for r in results):
        raise BadInput("; ".join(dict.fromkeys(w for r in results for w in r.warnings)))
    if args.plot:
        from refugium.estimation.plot import plot

        try:
            plot(results, Path(args.plot), title=Path(args.file).stem)
        except OSError as exc:
            raise BadInput(f"cannot write the plot: {exc.strerror or exc}") from None
    if args.json:
        print(json.dumps([r.as_json() for r in results], indent=2, ensure_ascii=False))
    else:
        _print_estimates(results, seed)
    return 0


def _print_estimates(results: Sequence[Estimate], seed: int) -> None:
    """A small table, each row's warnings under it, and how to read it."""
    stratified = any(r.stratum is not None for r in results)
    first = f"{'stratum':<14} " if stratified else ""
    print(f"{first}{'method':<10} {'estimate':>10}  {'95% interval':<21} {'observed':>9}  model")
    for r in results:
        where = f"{r.stratum or '(all)':<14} " if stratified else ""
        number, interval, model = "-", "", r.model
        if r.estimate == r.estimate:  # not NaN: the method ran
            upper = "open" if r.upper == float("inf") else f"{r.upper:,.0f}"
            number, interval = f"{r.estimate:,.0f}", f"{r.lower:,.0f} - {upper}"
            model += " (MLE)" if r.kind == "mle" else " (posterior median)"
        print(f"{where}{r.method:<10} {number:>10}  {interval:<21} {r.observed:>9,}  {model}")
        for warning in r.warnings:
            print(f"    warning: {warning}")
    print(f"seed {seed}. An estimate is only as good as its assumptions (docs/estimation.md);"
          " never report it without its interval.")


def cmd_report_build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from refugium.reports.definition import load

    definition = load(Path(args.definition))
    if args.lang is not None and args.lang not in definition.languages:
        raise BadInput(
            f"--lang {args.lang}: {args.definition} is built in {', '.join(definition.languages)}"
        )
    out = Path(args.out)
    _require_initialised()
    setup_django()
    from refugium.web.desk.services import identities, unlock
    from refugium.web.records.services import workspace
    from refugium.web.reports.build import build_report, check_out

    check_out(out)
    passphrase = read_passphrase(args, new=False, whose=args.user)
    user, keyring = unlock(args.user, passphrase)
    ws = workspace(user, keyring)
    written = build_report(
        ws,
        definition,
        out,
        language=args.lang,
        identities=identities(user, keyring, ws.desk),
        source=str(args.definition),
    )
    report = written.build.report
    hidden = len(written.build.withheld.cells)
    print(f"Built {report['language']} report in {out}: {', '.join(written.files)}.")
    print(f"{len(report['tables'])} tables, {hidden} hidden entries; read withheld.txt before "
          "publishing (it is for the desk, never for publication).")
    return 0


def cmd_desk_export_identity(args: argparse.Namespace) -> int:
    from pathlib import Path

    desk = _evidence_desk(args.desk)
    out = Path(args.out)
    if os.path.lexists(out):
        raise Conflict(f"{out} exists; refusing to overwrite it")
    if args.paper_key:
        from refugium.web.accounts.services import desk_identities_from_paper_key

        paper_key = sys.stdin.readline().strip()
        identities = desk_identities_from_paper_key(desk.name, paper_key)
    else:
        if not args.user:
            raise BadInput("give --user NAME (a member of the desk) or --paper-key")
        identities = _evidence_keys(args, desk)
    print("WARNING: this writes the desk's secret keys to a file. Whoever has that file can "
          f"read everything ever stored on desk {desk.name!r}. Keep it offline, on an encrypted "
          "disk, and destroy it when the archive work is done.", file=sys.stderr)
    lines = [f"# refugium desk {desk.name}: age identities, newest key first"]
    lines += [identity.to_secret_string() for identity in identities]
    _write_new_file(out, ["\n".join(lines).encode("ascii") + b"\n"])
    from refugium.web.core.auditing import record

    record(args.user or "paper-key", "desk.export_identity", "desk", desk.name)
    print(f"Wrote {len(identities)} identity(ies) to {out} (mode 0600). Decrypt with: "
          f"age -d -i {out} FILE")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if args.passphrase_stdin:
        from refugium.demo import fill_demo

        passphrase = read_passphrase(args, new=True, whose="admin")
        return fill_demo(passphrase=passphrase, events=args.events)
    from refugium.demo import run_demo

    return run_demo(port=args.port, host=args.host, events=args.events)


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
    p = add(desk_sub, "export-identity", cmd_desk_export_identity,
            "write a desk's secret age identities to a file, for archives read with the stock "
            "age tool (needs a member's passphrase or the paper key; handle with care)")
    p.add_argument("desk")
    p.add_argument("--out", required=True, metavar="FILE", help="the identity file to create")
    p.add_argument("--user", metavar="NAME", help="a member of the desk")
    p.add_argument("--paper-key", action="store_true",
                   help="read the recovery paper key from stdin instead")
    passphrase_stdin(p)

    inbox = add(sub, "inbox", None,
                "the intake desk's inbox: list, read, reply, set status, delete "
                "(unlocked with --user's passphrase)")
    inbox_sub = inbox.add_subparsers(dest="inbox_command", metavar="ACTION", parser_class=_Parser)
    inbox_sub.required = True

    def inbox_user(p: argparse.ArgumentParser) -> None:
        p.add_argument("--user", required=True, metavar="NAME",
                       help="an active member of the intake desk, whose passphrase unlocks it")
        passphrase_stdin(p)

    p = add(inbox_sub, "list", cmd_inbox_list,
            "list submissions, newest first: code, day received, status, files, unread")
    inbox_user(p)
    p.add_argument("--json", action="store_true", help="one JSON document")
    p = add(inbox_sub, "show", cmd_inbox_show,
            "print a submission's messages and files' details (recorded in the audit log)")
    p.add_argument("code", metavar="CODE", help="the submission's code, as `inbox list` shows it")
    inbox_user(p)
    p.add_argument("--files-to", metavar="DIR",
                   help="also write each decrypted file into DIR (which must exist) as "
                   "STORED-NAME-ORIGINAL-NAME; never overwrites")
    p.add_argument("--json", action="store_true", help="one JSON document")
    p = add(inbox_sub, "reply", cmd_inbox_reply,
            "reply to the reporter with text from stdin (after the passphrase line with "
            "--passphrase-stdin)")
    p.add_argument("code", metavar="CODE", help="the submission's code, as `inbox list` shows it")
    inbox_user(p)
    p = add(inbox_sub, "status", cmd_inbox_status, "set a submission's status")
    p.add_argument("code", metavar="CODE", help="the submission's code, as `inbox list` shows it")
    p.add_argument("status", choices=STATUSES)
    inbox_user(p)
    p = add(inbox_sub, "delete", cmd_inbox_delete,
            "delete a submission: rows removed, files shredded (see docs for what remains)")
    p.add_argument("code", metavar="CODE", help="the submission's code, as `inbox list` shows it")
    p.add_argument("--yes", action="store_true", help="confirm: deleting cannot be undone")
    inbox_user(p)

    records = add(sub, "records", None,
                  "the documentation database: import and export (unlocked with --user's "
                  "passphrase)")
    records_sub = records.add_subparsers(dest="records_command", metavar="ACTION",
                                         parser_class=_Parser)
    records_sub.required = True

    def records_user(p: argparse.ArgumentParser) -> None:
        p.add_argument("--user", required=True, metavar="NAME",
                       help="an active member of the documentation desk")
        passphrase_stdin(p)

    p = add(records_sub, "import", cmd_records_import,
            "import persons, events or acts from CSV or JSON in one transaction: a bad row "
            "stops it (line and reason) and nothing is written")
    p.add_argument("file", metavar="FILE", help="a .csv (UTF-8, header row) or .json file")
    p.add_argument("--kind", required=True, choices=["persons", "events", "acts"])
    p.add_argument("--mapping", metavar="MAP",
                   help="JSON file renaming or ignoring columns and mapping values to terms")
    p.add_argument("--skip-bad", action="store_true",
                   help="import the good rows; write the bad ones to a reject file")
    p.add_argument("--rejects", metavar="FILE",
                   help="where --skip-bad writes bad rows (default FILE.rejects.csv)")
    records_user(p)
    p = add(records_sub, "export", cmd_records_export,
            "export every person, event or act to CSV or JSON, in full or redacted")
    p.add_argument("--kind", required=True, choices=["persons", "events", "acts"])
    p.add_argument("--out", required=True, metavar="FILE", help="a .csv or .json file to create")
    p.add_argument("--redacted", action="store_true",
                   help="public and coded fields only, dates as months, with a report of "
                   "what was withheld")
    records_user(p)

    p = add(records_sub, "synthesize", cmd_records_synthesize,
            "fill the documentation desk with an invented campaign (SYNTHETIC names and "
            "texts), for demos and benchmarks")
    p.add_argument("--events", type=_events_count, default=200, metavar="N",
                   help="events to invent, 100 to 100000 (about 3 acts and 1.5 persons each; "
                   "default 200)")
    p.add_argument("--seed", type=int, default=2017, help="the same seed gives the same records")
    records_user(p)

    vocab = add(sub, "vocab", None, "the controlled vocabularies (ESF micro-thesauri and ours)")
    vocab_sub = vocab.add_subparsers(dest="vocab_command", metavar="ACTION", parser_class=_Parser)
    vocab_sub.required = True
    p = add(vocab_sub, "list", cmd_vocab_list, "list vocabularies, or the terms of one")
    p.add_argument("vocabulary", nargs="?", metavar="VOCABULARY")
    p = add(vocab_sub, "add", cmd_vocab_add, "add a term of your own to a vocabulary")
    p.add_argument("vocabulary", metavar="VOCABULARY")
    p.add_argument("key", metavar="KEY", help="lowercase letters, digits and hyphens; permanent")
    p.add_argument("--en", required=True, metavar="LABEL", help="English label")
    p.add_argument("--ru", required=True, metavar="LABEL", help="Russian label")
    p.add_argument("--parent", metavar="KEY", help="the broader term, if any")
    p = add(vocab_sub, "retire", cmd_vocab_retire,
            "stop offering a term (records that use it keep it)")
    p.add_argument("vocabulary", metavar="VOCABULARY")
    p.add_argument("key", metavar="KEY")
    add(vocab_sub, "sync", cmd_vocab_sync,
        "bring the vocabularies up to the ones this version of refugium ships (after an upgrade)")

    evidence = add(sub, "evidence", None,
                   "the evidence vault: add files, list, show, make sharing copies, export "
                   "bundles a court can verify")
    ev_sub = evidence.add_subparsers(dest="evidence_command", metavar="ACTION",
                                     parser_class=_Parser)
    ev_sub.required = True

    def ev_desk(p: argparse.ArgumentParser) -> None:
        p.add_argument("--desk", default="documentation",
                       help="the desk whose key the items are encrypted to "
                       "(default: documentation)")

    def ev_user(p: argparse.ArgumentParser) -> None:
        ev_desk(p)
        p.add_argument("--user", required=True, metavar="NAME",
                       help="an active member of the desk, whose passphrase unlocks it")
        passphrase_stdin(p)

    p = add(ev_sub, "add", cmd_evidence_add,
            "store files encrypted to the desk (needs no passphrase); prints code and SHA-256")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, or folders to add whole")
    ev_desk(p)
    p.add_argument("--source", metavar="TEXT",
                   help="where the files came from (stored encrypted with them)")
    p.add_argument("--by", metavar="NAME", help="who adds them, for the custody log")
    p = add(ev_sub, "list", cmd_evidence_list, "list items: code, day added, size, records")
    ev_desk(p)
    p = add(ev_sub, "show", cmd_evidence_show,
            "an item's description, metadata report and custody history")
    p.add_argument("code", metavar="CODE")
    ev_user(p)
    p.add_argument("--json", action="store_true", help="one JSON document")
    p = add(ev_sub, "share", cmd_evidence_share,
            "write a copy with the metadata removed (mat2); the original stays as it is")
    p.add_argument("code", metavar="CODE")
    p.add_argument("--out", required=True, metavar="FILE", help="the copy to create")
    ev_user(p)
    p = add(ev_sub, "export", cmd_evidence_export,
            "write an export bundle: originals, sha256sum manifest, signature, custody log, "
            "VERIFY.txt")
    p.add_argument("codes", nargs="+", metavar="CODE")
    p.add_argument("--out", required=True, metavar="DIR", help="the bundle folder to create")
    ev_user(p)

    watchlist = add(sub, "watchlist", None,
                    "the casework desk's provocation watchlist: contacts tied to detained "
                    "people, seized phones, named officers or lures, stored only as keyed "
                    "hashes (unlocked with --user's passphrase)")
    wl_sub = watchlist.add_subparsers(dest="watchlist_command", metavar="ACTION",
                                      parser_class=_Parser)
    wl_sub.required = True

    def watchlist_contact(p: argparse.ArgumentParser) -> None:
        p.add_argument("identifier", metavar="IDENTIFIER",
                       help="a phone number, Telegram username, e-mail address or other "
                       "identifier, in any written form")
        p.add_argument("--kind", choices=["phone", "telegram", "email", "other"],
                       help="what the identifier is (default: guessed from how it looks)")
        p.add_argument("--user", required=True, metavar="NAME",
                       help="an active member of the casework desk")
        passphrase_stdin(p)

    p = add(wl_sub, "add", cmd_watchlist_add,
            "list a contact with the reason (sealed); prints `added` or `already listed` "
            "and the entry's number")
    watchlist_contact(p)
    p.add_argument("--reason", required=True, metavar="TEXT",
                   help="who the contact is tied to and how (stored encrypted)")
    p = add(wl_sub, "check", cmd_watchlist_check,
            "check a contact against the watchlist: one line `flag: REASON` per reason, or "
            "`no match`; exit 0 either way")
    watchlist_contact(p)

    case = add(sub, "case", None,
               "sanctuary cases of the casework desk: each case's sensitive part is sealed under "
               "its own key, wrapped only to its assigned caseworkers (unlocked with --user's "
               "passphrase)")
    case_sub = case.add_subparsers(dest="case_command", metavar="ACTION", parser_class=_Parser)
    case_sub.required = True

    def case_user(p: argparse.ArgumentParser) -> None:
        p.add_argument("--user", required=True, metavar="NAME",
                       help="an active member of the casework desk (assigned to the case, "
                       "except for `case new`)")
        passphrase_stdin(p)

    p = add(case_sub, "new", cmd_case_new,
            "open a case assigned to --user; prints its code, then `flag: REASON` for each "
            "watchlist reason its contacts match")
    p.add_argument("--from-submission", metavar="ID",
                   help="the code of the intake submission the request came in")
    p.add_argument("--contact", action="extend", nargs="+", metavar="IDENTIFIER",
                   help="the person's contacts (phone, Telegram, e-mail, other; kind guessed), "
                   "checked against the watchlist and stored encrypted")
    p.add_argument("--risk", choices=["low", "medium", "high", "critical"], default="high",
                   help="the risk level (default high, until assessed)")
    p.add_argument("--need", action="extend", nargs="+", metavar="NEED",
                   choices=["shelter", "travel", "documents", "medical", "psychological",
                            "legal", "money"],
                   help="shelter, travel, documents, medical, psychological, legal, money")
    p.add_argument("--channel", metavar="TEXT",
                   help="the channel the request came in on (default: the submission, else "
                   "the first contact); a call-back on it never counts as verification")
    p.add_argument("--name", metavar="TEXT",
                   help="the person's name or pseudonym as the caseworker writes it (encrypted)")
    case_user(p)

    p = add(case_sub, "show", cmd_case_show,
            "show a case to an assigned caseworker: stage, risk, needs, assignees, flags, "
            "attestations, stage changes")
    p.add_argument("code", metavar="CODE", help="the case's code, C-0012")
    case_user(p)

    p = add(case_sub, "attest", cmd_case_attest,
            "record a verification signal obtained for a case (referee, callback, "
            "code_answer, partner) and the channel it came over")
    p.add_argument("code", metavar="CODE")
    p.add_argument("signal", choices=["referee", "callback", "code_answer", "partner"])
    p.add_argument("--channel", required=True, metavar="TEXT",
                   help="the channel the signal came over (encrypted)")
    p.add_argument("--note", metavar="TEXT", help="a note (encrypted)")
    case_user(p)

    p = add(case_sub, "stage", cmd_case_stage,
            "move a case to another stage; safe and exit need independent verification "
            "signals (refused with what is missing, exit 2)")
    p.add_argument("code", metavar="CODE")
    p.add_argument("stage", metavar="STAGE",
                   help="request, verification, safe, exit, relocated, resettled, closed or "
                   "rejected")
    case_user(p)

    checkins = add(sub, "checkins", None,
                   "check-ins of people in transit or hiding: schedules, the escalation pass "
                   "(for cron), acknowledging and resolving alerts")
    ci_sub = checkins.add_subparsers(dest="checkins_command", metavar="ACTION",
                                     parser_class=_Parser)
    ci_sub.required = True

    def checkins_user(p: argparse.ArgumentParser) -> None:
        p.add_argument("--user", required=True, metavar="NAME",
                       help="an active member of the casework desk, assigned to the case "
                       "(or a coordinator, for alerts)")
        passphrase_stdin(p)

    p = add(ci_sub, "enrol", cmd_checkins_enrol,
            "start check-ins for a case's person; reads the agreed normal and duress answers "
            "(never arguments) and prints the check-in code once")
    p.add_argument("code", metavar="CODE", help="the case's code, C-0012")
    p.add_argument("--every", type=_duration, required=True, metavar="DURATION",
                   help="a check-in is due this long after the last one: 90m, 6h, 1d")
    p.add_argument("--grace", type=_duration, required=True, metavar="DURATION",
                   help="and missed this much later still: 0, 15m, 1h")
    p.add_argument("--handler", metavar="NAME",
                   help="who is told first (tier 1); assigned to the case (default --user)")
    checkins_user(p)

    p = add(ci_sub, "stop", cmd_checkins_stop,
            "end a case's check-ins: nothing more falls due, the code stops working; open "
            "alerts stay open until resolved")
    p.add_argument("code", metavar="CODE", help="the case's code, C-0012")
    checkins_user(p)

    p = add(ci_sub, "run", cmd_checkins_run,
            "the escalation pass, for cron or a systemd timer every minute: raises, escalates "
            "and re-sends alerts; one line per action (codes and tiers only); no passphrase")
    p.add_argument("--now", metavar="ISO-DATETIME",
                   help="run as at this time, with its zone (default: the clock)")

    p = add(ci_sub, "list", cmd_checkins_list,
            "the open alerts --user may act on: number, case, reason, tier, state")
    checkins_user(p)

    p = add(ci_sub, "ack", cmd_checkins_ack,
            "acknowledge an alert: someone is acting on it, it stops climbing")
    p.add_argument("number", type=_positive, metavar="N", help="the alert's number")
    checkins_user(p)

    p = add(ci_sub, "resolve", cmd_checkins_resolve,
            "resolve an acknowledged alert once the person was reached on a channel known "
            "before; a missed check-in's clock restarts")
    p.add_argument("number", type=_positive, metavar="N", help="the alert's number")
    checkins_user(p)
    p = add(case_sub, "assign", cmd_case_assign,
            "assign a member of the casework desk to a case: every generation of the case key "
            "--user holds is wrapped to them, so they read its history")
    p.add_argument("code", metavar="CODE")
    p.add_argument("member", metavar="USER", help="an active member of the casework desk")
    p.add_argument("--role", choices=["caseworker", "logistics", "coordinator"],
                   default="caseworker", help="what they do on the case (default caseworker)")
    case_user(p)

    p = add(case_sub, "unassign", cmd_case_unassign,
            "take a member off a case: their copies of the case key are deleted and a new key "
            "seals what is written from now on (--user is assigned, or a coordinator)")
    p.add_argument("code", metavar="CODE")
    p.add_argument("member", metavar="USER")
    case_user(p)

    p = add(case_sub, "cut-off", cmd_case_cut_off,
            "cut off a detained caseworker at once (coordinators only): every case of theirs "
            "gets a new key, their casework desk membership is revoked, their sessions end")
    p.add_argument("member", metavar="USER")
    case_user(p)

    p = add(case_sub, "flag", cmd_case_flag,
            "raise a provocation flag by hand; it raises the verification needed until a "
            "second caseworker clears it (wanted_search also raises the risk to high)")
    p.add_argument("code", metavar="CODE")
    p.add_argument("reason", metavar="REASON",
                   choices=["meet_in_person", "refused_callback", "urgency", "wanted_search",
                            "other"],
                   help="meet_in_person, refused_callback, urgency, wanted_search or other")
    p.add_argument("--note", metavar="TEXT",
                   help="what happened (encrypted; required for `other`)")
    case_user(p)

    p = add(case_sub, "clear", cmd_case_clear,
            "clear an open flag of a case (a second caseworker, not the one who raised it)")
    p.add_argument("code", metavar="CODE")
    p.add_argument("flag", metavar="FLAG", type=int, help="the flag's number, as `case show` "
                   "prints it")
    case_user(p)

    document = add(case_sub, "document", None,
                   "a case's own documents in the vault, encrypted to the case key: only its "
                   "assigned caseworkers (and the recovery key) open them, not the whole desk")
    doc_sub = document.add_subparsers(dest="document_command", metavar="ACTION",
                                      parser_class=_Parser)
    doc_sub.required = True
    p = add(doc_sub, "add", cmd_case_document_add,
            "encrypt a file into the vault for a case (to its key, not the desk's); its name "
            "and the note are sealed under the case key; prints the document's number")
    p.add_argument("code", metavar="CODE", help="the case's code, C-0012")
    p.add_argument("file", metavar="FILE", help="the file to add (at most 100 MiB)")
    p.add_argument("--note", metavar="TEXT", help="what the document is (encrypted)")
    case_user(p)
    p = add(doc_sub, "get", cmd_case_document_get,
            "decrypt a case's document into a new file (never over an existing one); checked "
            "against the hash taken when it was added")
    p.add_argument("code", metavar="CODE", help="the case's code, C-0012")
    p.add_argument("number", type=_positive, metavar="N",
                   help="the document's number, as `case document add` printed it")
    p.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    case_user(p)

    p = add(sub, "verify", cmd_verify,
            "check an export bundle: files against the manifest, its signature, the custody log")
    p.add_argument("bundle", metavar="DIR")

    p = add(sub, "link", cmd_link,
            "find the same person across CSV lists (and twice in one); write source,id,cluster")
    p.add_argument("files", nargs="+", metavar="FILE.csv",
                   help="lists with an id column and any of full_name, given_name, patronymic,"
                   " family_name, birth_date, place, gender, document_id; the source is the"
                   " file's stem")
    p.add_argument("--out", required=True, metavar="CLUSTERS.csv",
                   help="written with the columns source,id,cluster, one row per input row")
    p.add_argument("--threshold", type=_probability, default=DEFAULT_LINK_THRESHOLD,
                   metavar="P", help="match probability at which two records are one person"
                   f" (default {DEFAULT_LINK_THRESHOLD})")
    p.add_argument("--report", metavar="REPORT.html",
                   help="also write a review page: the model's weights and the borderline pairs")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    report = add(sub, "report", None,
                 "advocacy reports from the documentation database (docs/reports.md)")
    report_sub = report.add_subparsers(dest="report_command", metavar="ACTION",
                                       parser_class=_Parser)
    report_sub.required = True
    p = add(report_sub, "build", cmd_report_build,
            "compile a report definition into DIR: data.json (the whole report, disclosure "
            "control applied), withheld.json and withheld.txt (for the desk only), "
            "report.html, charts and report.pdf made from data.json alone; DIR must be new or "
            "empty and is written whole or not at all")
    p.add_argument("definition", metavar="DEFINITION.toml", help="the report definition")
    p.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder")
    p.add_argument("--lang", choices=("en", "ru"), default=None,
                   help="the report's language (default: the definition's first language)")
    p.add_argument("--user", required=True, metavar="NAME",
                   help="an active member of the definition's desk, whose passphrase unlocks it")
    passphrase_stdin(p)

    p = add(sub, "estimate", cmd_estimate,
            "estimate how many people in all from overlapping lists (multiple systems estimation)")
    p.add_argument("file", metavar="FILE.csv",
                   help="a pattern table (one 0/1 column per list and count) or linked records"
                   " (source,id,cluster as `refugium link` writes)")
    p.add_argument("--method", choices=("loglinear", "lcmcr", "dga", "all"), default="all",
                   help="which method (default all)")
    p.add_argument("--strata", metavar="COLUMN",
                   help="estimate each value of this column separately, then all together")
    p.add_argument("--seed", type=_seed, metavar="N",
                   help="seed for the latent-class sampler (default: a random one, printed)")
    p.add_argument("--iterations", type=_positive, metavar="N",
                   help="latent-class sweeps kept per chain (default 20,000); more when it"
                   " warns that the chains have not converged")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list, one object per method and stratum")
    p.add_argument("--plot", metavar="FILE.png",
                   help="also draw the profile-likelihood and posterior curves")

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
    p.add_argument("--events", type=_events_count, default=200, metavar="N",
                   help="synthetic events in the documentation desk, 100 to 100000 (about 3 "
                   "acts each; default 200)")
    p.add_argument("--passphrase-stdin", action="store_true",
                   help="instead of serving a throwaway folder, fill the empty $REFUGIUM_DATA "
                   "with the admin 'admin' (passphrase: one line on standard input) and the "
                   "synthetic data, keep it and exit")
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

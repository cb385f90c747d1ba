"""The documentation database at full size, through the real server on loopback.

    .venv/bin/python benchmarks/records.py [--events 100000] [--requests 200] [--dir PARENT]
                                           [--keep | --reuse WORK]

Makes a throwaway data folder (`refugium init`), fills its documentation desk with the
synthetic campaign (`refugium records synthesize --events N`: about 3 acts and 1.5 persons
per event, so 300,000 acts at the default size) and reports the rows written per second.
Then it starts `refugium serve` (gunicorn, its default workers) on 127.0.0.1, signs in as a
browser does (passphrase and TOTP code), and times ``--requests`` GETs of each page, one at a
time, from the first byte sent to the last byte of the page read:

- the events list, newest first (``/records/events/``);
- events filtered by region and month (``?region=ru-ce&month_from=2017-03``);
- acts filtered by type (``/records/acts/?act_type=arrest``), and events with an act of a
  type (``/records/events/?act_type=torture``);
- random pages of the events and the acts lists (``?page=N``, N anywhere in the list);
- an exact name search (``/records/persons/?q=<a generated full name>``), a different
  person each time; each answer must show that person as an exact match.

Prints p50 and p95 per page against the target (p95 under 200 ms for lists, filters and the
exact name search), and the database size (file and write-ahead log). With ``--keep`` the
work folder stays, and ``--reuse WORK`` measures the pages of a folder kept earlier without
generating again.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pyotp
import requests
from common import PASSPHRASE, REPO, cli_env, refugium_init, start_server, stop_server, work_folder

TARGET_MS = 200.0
SEED = 2017


# --- the server ------------------------------------------------------------------------------


def _env(data: Path) -> dict[str, str]:
    return cli_env(data, REFUGIUM_TRANSPORT="onion")


def _sign_in(base: str, passphrase: str, totp_secret: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if page.status_code != 200 or token is None:
        raise SystemExit(f"GET /accounts/login/: HTTP {page.status_code}, no form")
    response = session.post(
        f"{base}/accounts/login/",
        data={
            "csrfmiddlewaretoken": token.group(1),
            "username": "admin",
            "passphrase": passphrase,
            "code": pyotp.TOTP(totp_secret).now(),
        },
        allow_redirects=False,
        timeout=60,
    )
    if response.status_code != 302:
        raise SystemExit(f"sign-in refused: HTTP {response.status_code}")
    return session


# --- making the data ---------------------------------------------------------------------------


def _init_and_generate(work: Path, events: int) -> dict[str, object]:
    data = work / "data"
    init = refugium_init(_env(data))
    found = re.search(r"secret=([A-Z2-7]+)", init.stdout)
    if found is None:
        raise SystemExit("refugium init printed no TOTP secret")
    print(f"Generating {events} synthetic events (progress below) ...", file=sys.stderr)
    started = time.perf_counter()
    command = ["records", "synthesize", "--events", str(events), "--seed", str(SEED)]
    generate = subprocess.run(
        [sys.executable, "-m", "refugium.cli", *command, "--user", "admin", "--passphrase-stdin"],
        input=PASSPHRASE + "\n",
        stdout=subprocess.PIPE,
        text=True,
        env=_env(data),
        cwd=REPO,
        check=False,
    )
    wall = time.perf_counter() - started
    if generate.returncode != 0:
        raise SystemExit("refugium records synthesize failed")
    summary = re.search(r"Wrote (\d+) SYNTHETIC records \((.*)\) in ([\d.]+) s", generate.stdout)
    if summary is None:
        raise SystemExit(f"unexpected output: {generate.stdout}")
    counts = {
        kind: int(count)
        for count, kind in (item.split(" ", 1) for item in summary.group(2).split(", "))
    }
    info = {
        "events": events,
        "passphrase": PASSPHRASE,
        "totp_secret": found.group(1),
        "rows": int(summary.group(1)),
        "counts": counts,
        "seconds": float(summary.group(3)),
        "wall": wall,
    }
    (work / "benchmark.json").write_text(json.dumps(info))
    return info


def _names(work: Path, events: int, how_many: int) -> list[str]:
    """Full names of victims of the same campaign (``synthetic.plan`` is pure: no database
    is read), picked at random."""
    os.environ.update(_env(work / "data"))
    sys.path.insert(0, str(REPO / "src"))
    from refugium.cli import setup_django

    setup_django()
    from refugium.web.records import synthetic

    names = []
    for batch in synthetic.plan(events, SEED):
        for kind, specs in batch.groups:
            if kind == "person":
                names += [s.private["full_name"] for s in specs if "given_name" in s.private]
        if batch.groups[-1][0] == "source":
            break
    return random.Random(1).sample(names, min(how_many, len(names)))


# --- measuring --------------------------------------------------------------------------------


def _time(session: requests.Session, url: str, must: str = "") -> float:
    started = time.perf_counter()
    response = session.get(url, timeout=120)
    body = response.content
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"GET {url}: HTTP {response.status_code}")
    if must and must.encode() not in body:
        raise SystemExit(f"GET {url}: the page lacks {must!r}")
    return elapsed * 1000


def _percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events (100..100000)")
    parser.add_argument("--requests", type=int, default=200, help="GETs per page type")
    parser.add_argument("--dir", type=Path, default=None, help="where to make the work folder")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--reuse", type=Path, metavar="WORK", help="a folder kept earlier: measure, don't generate"
    )
    args = parser.parse_args()

    with work_folder("records", args.dir, keep=args.keep, reuse=args.reuse) as work:
        if args.reuse:
            info = json.loads((work / "benchmark.json").read_text())
        else:
            info = _init_and_generate(work, args.events)
        _run(work, info, args.requests)


def _run(work: Path, info: dict[str, object], runs: int) -> None:
    data = work / "data"
    events = int(info["events"])  # type: ignore[call-overload]
    counts: dict[str, int] = info["counts"]  # type: ignore[assignment]
    names = _names(work, events, runs)
    rng = random.Random(2)
    event_pages = max(1, counts["event"] // 50)
    act_pages = max(1, counts["act"] // 50)
    pages = {
        "events list": lambda i: "/records/events/",
        "events by region and month": lambda i: "/records/events/?region=ru-ce&month_from=2017-03",
        "acts by type": lambda i: "/records/acts/?act_type=arrest",
        "events with an act of type": lambda i: "/records/events/?act_type=torture",
        "events, random page": lambda i: f"/records/events/?page={rng.randrange(event_pages) + 1}",
        "acts, random page": lambda i: f"/records/acts/?page={rng.randrange(act_pages) + 1}",
        "exact name search": lambda i: "/records/persons/?" + f"q={names[i % len(names)]}",
    }
    must = {"exact name search": "exact name"}
    server, port = start_server(work / "server.log", _env(data))
    results = {}
    try:
        base = f"http://127.0.0.1:{port}"
        session = _sign_in(base, str(info["passphrase"]), str(info["totp_secret"]))
        for name, url in pages.items():  # warm-up: both workers, every page once or twice
            for i in range(4):
                _time(session, base + url(i), must.get(name, ""))
        for name, url in pages.items():
            times = [_time(session, base + url(i), must.get(name, "")) for i in range(runs)]
            results[name] = _percentiles(times)
    finally:
        stop_server(server)

    database = data / "refugium.sqlite3"
    db_bytes = _size(database)
    wal_bytes = _size(Path(f"{database}-wal"))
    rows = int(info["rows"])  # type: ignore[call-overload]
    seconds = float(info["seconds"])  # type: ignore[arg-type]
    print(
        f"\nDocumentation database: {counts['event']} events, {counts['act']} acts, "
        f"{counts['person']} persons, {rows} rows in all (synthetic, seed {SEED}); "
        f"{os.cpu_count()} cores; SQLite through `refugium serve` (gunicorn) on loopback.\n"
    )
    print(
        f"Generation (`refugium records synthesize`, checked and sealed, revisions and name "
        f"keys included): {seconds:.0f} s, {rows / seconds:.0f} rows/s; "
        f"{float(info['wall']):.0f} s with start-up and unlocking."  # type: ignore[arg-type]
    )
    print("Rows: " + ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items())))
    print(
        f"Database: {db_bytes / 2**20:.0f} MiB file + {wal_bytes / 2**20:.0f} MiB WAL "
        f"= {(db_bytes + wal_bytes) / 2**20:.0f} MiB.\n"
    )
    print(f"{'page (GET, one at a time)':<30} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'target':>8}")
    missed = []
    for name, (p50, p95) in results.items():
        met = p95 < TARGET_MS
        print(f"{name:<30} {runs:>5} {p50:>8.1f} {p95:>8.1f} {'met' if met else 'MISSED':>8}")
        if not met:
            missed.append(name)
    print(
        f"\nTarget: p95 under {TARGET_MS:.0f} ms for lists, filters, pages and the exact name "
        "search. " + ("All met." if not missed else "Missed: " + ", ".join(missed) + ".")
    )


if __name__ == "__main__":
    main()

"""`refugium report build` on the demo campaign at 1,000 and 100,000 events.

    .venv/bin/python benchmarks/reports.py [--sizes 1000,100000] [--dir PARENT] [--keep]

For each size, makes a throwaway data folder and fills it with `refugium demo --events N
--passphrase-stdin` (the admin ``admin`` and the synthetic detention campaign, every record
invented: about 3 acts and 1.5 persons per event), then times the real command, in a process
of its own, as a researcher runs it:

    refugium report build examples/report.toml --out DIR --user admin --passphrase-stdin

twice: with the example's estimates (log-linear and the latent-class sampler, as shipped)
and without them (the same definition with ``estimates = []``). Each time includes starting
Python and Django, unlocking the desk (one production Argon2id run), compiling every table
with disclosure control, and the renderer (report.html, charts, report.pdf) when
``refugium.reports.render`` is installed; the script says whether it is. The peak resident
memory is the kernel's own for that process (``wait4``'s ``ru_maxrss``).

Target (issue 10): a report of 100,000 events in under 60 s on the development machine;
printed as met or MISSED for each build at that size.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from common import PASSPHRASE, REPO, cli_env, work_folder

TARGET_SECONDS = 60.0
TARGET_EVENTS = 100_000
EXAMPLE = REPO / "examples" / "report.toml"


def _run(args: list[str], env: dict[str, str], log: Path) -> tuple[float, int, int]:
    """Runs ``refugium ARGS`` with the passphrase on stdin; returns (seconds, peak KiB, status)."""
    with log.open("wb") as out:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "refugium.cli", "--traceback", *args],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO,
        )
        assert child.stdin is not None
        child.stdin.write((PASSPHRASE + "\n").encode())
        child.stdin.close()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)  # wait4 reaped it, not Popen
    return seconds, usage.ru_maxrss, child.returncode


def _without_estimates(work: Path) -> Path:
    """examples/report.toml with its estimates section emptied."""
    lines = EXAMPLE.read_text("utf-8").splitlines()
    changed = ["estimates = []" if line.startswith("estimates = ") else line for line in lines]
    if changed == lines:
        raise SystemExit(f"{EXAMPLE} has no 'estimates = ' line to empty")
    path = work / "report-no-estimates.toml"
    path.write_text("\n".join(changed) + "\n", "utf-8")
    return path


def _renderer() -> bool:
    import importlib.util

    sys.path.insert(0, str(REPO / "src"))
    try:
        return importlib.util.find_spec("refugium.reports.render") is not None
    except ModuleNotFoundError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000", help="comma-separated event counts")
    parser.add_argument("--dir", type=Path, default=None, help="parent of the work folder")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(
        f"renderer (refugium.reports.render): "
        f"{'installed' if _renderer() else 'not installed: data.json and withheld.* only'}"
    )
    print(f"{'events':>8} {'definition':<18} {'seconds':>8} {'peak RSS':>10}  target")
    failed = False
    with work_folder("reports", args.dir, keep=args.keep) as work:
        plain = _without_estimates(work)
        for size in sizes:
            data = work / f"data-{size}"
            env = cli_env(data)
            fill_log = work / f"demo-{size}.log"
            seconds, _, status = _run(
                ["demo", "--events", str(size), "--passphrase-stdin"], env, fill_log
            )
            if status != 0:
                raise SystemExit(f"refugium demo failed; see {fill_log}")
            print(f"{size:>8,} {'(demo fill)':<18} {seconds:>8.1f} {'':>10}")
            for label, definition in (("with estimates", EXAMPLE), ("without estimates", plain)):
                out = work / f"out-{size}-{'est' if definition == EXAMPLE else 'plain'}"
                log = work / f"build-{size}-{out.name}.log"
                cmd = ["report", "build", str(definition), "--out", str(out)]
                cmd += ["--user", "admin", "--passphrase-stdin"]
                seconds, peak_kib, status = _run(cmd, env, log)
                if status != 0:
                    failed = True
                    print(f"{size:>8,} {label:<18} failed (status {status}):")
                    print(log.read_text("utf-8", "replace")[-2000:])
                    continue
                verdict = ""
                if size >= TARGET_EVENTS:
                    met = seconds < TARGET_SECONDS
                    verdict = f"{'met' if met else 'MISSED'} (under {TARGET_SECONDS:.0f} s)"
                    failed = failed or not met
                files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
                print(
                    f"{size:>8,} {label:<18} {seconds:>8.1f} {peak_kib / 1024:>7.0f} MiB  {verdict}"
                )
                print(f"{'':>8} files: {', '.join(files)}")
    print(
        f"\nThe machine's load average when done: {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
        f" on {os.cpu_count()} cores."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

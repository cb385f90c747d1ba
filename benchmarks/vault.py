"""`refugium evidence add` against the stock `age` CLI plus `sha256sum` on the same file.

    .venv/bin/python benchmarks/vault.py [--sizes 64,1024,4096] [--runs 3] [--dir PARENT]

Makes a throwaway data folder (`refugium init`) and, next to it on the same disk, one file
of random bytes per size (MiB; random, not sparse, written once). Then, ``--runs`` times per
size, in an order that alternates from run to run (refugium first, then the reference;
then the other way round):

- `refugium evidence add FILE` as a user runs it: a new process; the desk's recipient read
  from the database and an encryption worker started on the file, which it reads, hashes
  and encrypts into the store itself; then the age file fsynced, the custody entry written,
  the file renamed, the folder fsynced and the row committed. One file on a SQLite data
  folder goes this way without Django (``refugium.web.evidence.early``), as a user's does;
  timed from the start of the command to its exit, start-up included;
- the reference: `age -r RECIPIENT -o OUT FILE` with the desk's own recipient (read from the
  data folder's database), output on the same disk, then `sha256sum FILE`; timed as a whole.
  Neither fsyncs, so the column "+fsync" adds an fsync of age's output: the refugium
  command fsyncs what it stores before it answers.

Refugium's own modules are byte-compiled first, as installing the package does (pip writes
the bytecode): run from a source checkout with PYTHONDONTWRITEBYTECODE set, as some shells
and CI are, the command would otherwise compile every module of refugium on every run, which
no installed copy does. `--no-compile` leaves that out (the condition of the earlier runs).

Runs are warm-cache: the input was just written and nothing is dropped from the page cache
(that needs root); alternating the order spreads what is left of that over both.

Peak RSS of an ingest: a thread reads VmHWM (the kernel's own peak of VmRSS) of the command
and of each of its children (the age encryption worker) from /proc every 10 ms and keeps the
last value seen per process (a child caught between fork and exec shows its parent's peak
until exec); the peak is their sum, an upper bound of the largest total at any one moment.
The children are read from the kernel's list of them (/proc/PID/task/TID/children, about
20 us), not by scanning every process in /proc (about 1 ms, every 10 ms: a tenth of a core
taken from refugium's runs alone, on a machine of two).
The same is printed for a 1 KiB file: the growth with the file's size is the difference
(target: under 64 MiB whatever the size, as for the intake).

CPU time (user + system, of the command and every child it waited for, from the kernel's
accounting of this script's children) is printed beside the wall-clock times: on a machine
whose cores other work shares, wall time swings with that work, CPU time much less. The two
differ in kind too: refugium's worker encrypts while the command's own process goes on (its
imports, the metadata report, the custody key), where the reference runs age and then
sha256sum, so refugium's wall time gains from a second idle core and loses that gain when
other work takes it: the load average printed before and after the runs says which case it
was.

Prints per size the medians, the ratio of refugium's time to the reference's (target: at
most 1.2), the same ratio with the 1 KiB file's time (the command's start-up: Python, its
imports, the worker's start, the commit) taken off refugium's, and the peak RSS.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import REPO, MiB, cli_env, random_file, refugium_init, vm_hwm_kib, work_folder

RATIO_TARGET = 1.2
RSS_TARGET_MIB = 64


def task_children(pid: int) -> list[int]:
    """The children of process ``pid``, from the kernel's list of each of its threads'."""
    found: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found  # it ended
    for thread in threads:
        try:
            found += [
                int(c) for c in Path(f"/proc/{pid}/task/{thread}/children").read_text().split()
            ]
        except OSError:
            continue
    return found


class PeakSampler(threading.Thread):
    """VmHWM of a process and of its children, read every ``interval`` seconds until the
    process exits; ``peak_kib`` is the sum of the last value seen for each."""

    def __init__(self, process: subprocess.Popen[bytes], interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.process = process
        self.interval = interval
        self.seen: dict[int, int] = {}

    def run(self) -> None:
        pid = self.process.pid
        while self.process.poll() is None:
            for p in [pid, *task_children(pid)]:
                hwm = vm_hwm_kib(p)
                # The last value, not the largest: a child caught between fork and exec
                # shows its parent's peak, which the parent's own value already counts.
                if hwm is not None:
                    self.seen[p] = hwm
            time.sleep(self.interval)

    @property
    def peak_kib(self) -> int:
        return sum(self.seen.values())


def children_cpu() -> float:
    """User + system seconds of this process's children that have been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def refugium_add(data: Path, source: Path) -> tuple[float, int, float]:
    """Seconds for `refugium evidence add SOURCE`, its peak RSS in KiB and its CPU seconds."""
    cpu = children_cpu()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "refugium.cli", "evidence", "add", str(source)],
        env=cli_env(data),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # Waiting in the sampler thread: this thread reads the pipes, so neither fills up.
    sampler = PeakSampler(process)
    sampler.start()
    out, err = process.communicate()
    elapsed = time.perf_counter() - started
    cpu = children_cpu() - cpu
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"refugium evidence add failed: {err.decode(errors='replace')}")
    if len(out.splitlines()) != 1:
        raise SystemExit("refugium evidence add did not print one line")
    return elapsed, sampler.peak_kib, cpu


def age_and_sha256sum(
    recipient: str, source: Path, out: Path, *, fsync: bool
) -> tuple[float, float]:
    """Seconds for the reference, and its CPU seconds."""
    cpu = children_cpu()
    started = time.perf_counter()
    subprocess.run(["age", "-r", recipient, "-o", str(out), str(source)], check=True)
    if fsync:
        fd = os.open(out, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    subprocess.run(["sha256sum", str(source)], check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    cpu = children_cpu() - cpu
    out.unlink()
    return elapsed, cpu


def desk_recipient(data: Path, desk: str = "documentation") -> str:
    """The desk's current public recipient, as `refugium evidence add` encrypts to it."""
    with sqlite3.connect(data / "refugium.sqlite3") as db:
        row = db.execute(
            "select g.recipient from accounts_deskkeygeneration g join accounts_desk d "
            "on d.id = g.desk_id where d.name = ? order by g.number desc limit 1",
            (desk,),
        ).fetchone()
    if row is None:
        raise SystemExit(f"no desk {desk!r} in {data}")
    return str(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="64,1024,4096", help="file sizes in MiB, comma-separated"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per size (medians shown)")
    parser.add_argument("--dir", type=Path, default=None, help="where to make the work folder")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--no-compile",
        action="store_true",
        help="do not byte-compile refugium's modules first (as from a source checkout "
        "with PYTHONDONTWRITEBYTECODE set)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes or min(sizes) <= 0 or args.runs <= 0:
        parser.error("give positive sizes and runs")

    with work_folder("vault", args.dir, keep=args.keep) as work:
        _run(work, sizes, args.runs, compiled=not args.no_compile)


def byte_compile(env: dict[str, str]) -> Path:
    """Writes the bytecode of the refugium package the command imports, as installing it
    does; returns the package's folder."""
    where = subprocess.run(
        [sys.executable, "-c", "import refugium, sys; sys.stdout.write(refugium.__path__[0])"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    compile_env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", where],
        env=compile_env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return Path(where)


def _run(work: Path, sizes: list[int], runs: int, *, compiled: bool) -> None:
    load_before = os.getloadavg()
    data = work / "data"
    package = byte_compile(cli_env(data)) if compiled else None
    refugium_init(cli_env(data))
    recipient = desk_recipient(data)
    age_version = subprocess.run(["age", "--version"], capture_output=True, text=True).stdout

    inputs = work / "inputs"  # the same disk as the data folder
    inputs.mkdir()
    tiny = inputs / "tiny.bin"
    random_file(tiny, 1024)
    for _ in range(2):  # warm-up: imports and the database in the page cache
        refugium_add(data, tiny)
    fixed = [refugium_add(data, tiny) for _ in range(runs)]
    fixed_seconds = statistics.median(t for t, _, _ in fixed)
    fixed_peak = max(p for _, p, _ in fixed)
    fixed_cpu = statistics.median(c for _, _, c in fixed)

    results = []
    for size in sizes:
        source = inputs / f"input-{size}MiB.bin"
        random_file(source, size * MiB)
        ours, peaks, theirs, theirs_sync = [], [], [], []
        ours_cpu, theirs_cpu = [], []
        out = inputs / "out.age"
        for run in range(runs):
            steps = ["refugium", "age"] if run % 2 == 0 else ["age", "refugium"]
            for step in steps:
                if step == "refugium":
                    seconds, peak, cpu = refugium_add(data, source)
                    ours.append(seconds)
                    peaks.append(peak)
                    ours_cpu.append(cpu)
                else:
                    seconds, cpu = age_and_sha256sum(recipient, source, out, fsync=False)
                    theirs.append(seconds)
                    theirs_cpu.append(cpu)
                    seconds, _ = age_and_sha256sum(recipient, source, out, fsync=True)
                    theirs_sync.append(seconds)
        source.unlink()
        results.append(
            {
                "size": size,
                "ours": statistics.median(ours),
                "theirs": statistics.median(theirs),
                "theirs_sync": statistics.median(theirs_sync),
                "peak_kib": max(peaks),
                "ours_cpu": statistics.median(ours_cpu),
                "theirs_cpu": statistics.median(theirs_cpu),
            }
        )

    print(
        f"`refugium evidence add` vs `{age_version.strip() or 'age'}` -r + sha256sum on the "
        f"same file and disk; {os.cpu_count()} cores; median of {runs} runs, warm cache, "
        "order alternated; peak RSS = VmHWM of the command + its children."
    )
    load_after = os.getloadavg()
    print(
        "load average (1, 5, 15 min) before: "
        + ", ".join(f"{x:.2f}" for x in load_before)
        + "; after: "
        + ", ".join(f"{x:.2f}" for x in load_after)
        + "\n"
    )
    print(
        f"refugium's bytecode: written first in {package}\n"
        if package
        else "refugium's bytecode: not written first (--no-compile)\n"
    )
    print(
        f"A 1 KiB file: {fixed_seconds:.2f} s (start-up and commit; CPU "
        f"{fixed_cpu:.2f} s), peak RSS {fixed_peak / 1024:.0f} MiB.\n"
    )
    print(
        f"{'size MiB':>8} {'refugium s':>11} {'age+sha s':>10} {'ratio':>6} "
        f"{'+fsync s':>9} {'ratio':>6} {'no start-up':>11} {'peak RSS':>9} {'growth':>7}"
    )
    failed = []
    for r in results:
        ratio = r["ours"] / r["theirs"]
        ratio_sync = r["ours"] / r["theirs_sync"]
        streaming = (r["ours"] - fixed_seconds) / r["theirs"]
        growth = (r["peak_kib"] - fixed_peak) / 1024
        print(
            f"{r['size']:>8} {r['ours']:>11.2f} {r['theirs']:>10.2f} {ratio:>6.2f} "
            f"{r['theirs_sync']:>9.2f} {ratio_sync:>6.2f} {streaming:>11.2f} "
            f"{r['peak_kib'] / 1024:>9.0f} "
            f"{growth:>7.1f}"
        )
        if ratio > RATIO_TARGET:
            failed.append(f"{r['size']} MiB: ratio {ratio:.2f} > {RATIO_TARGET}")
        if growth >= RSS_TARGET_MIB:
            failed.append(f"{r['size']} MiB: RSS growth {growth:.0f} MiB >= {RSS_TARGET_MIB}")
    print(f"\n{'size MiB':>8} {'refugium CPU s':>15} {'age+sha CPU s':>14} {'ratio':>6}")
    for r in results:
        print(
            f"{r['size']:>8} {r['ours_cpu']:>15.2f} {r['theirs_cpu']:>14.2f} "
            f"{r['ours_cpu'] / r['theirs_cpu']:>6.2f}"
        )
    print(
        "\nratio = refugium's time / the reference's (age -r then sha256sum; +fsync: with an "
        "fsync of age's output, as refugium does); no start-up: refugium's time minus the 1 KiB "
        "file's, over the reference's; RSS in MiB, growth over the 1 KiB file."
    )
    print(
        f"Targets: ratio <= {RATIO_TARGET}, RSS growth < {RSS_TARGET_MIB} MiB. "
        + ("All met." if not failed else "Missed: " + "; ".join(failed))
    )
    stored = list((data / "store" / "files").iterdir())
    expected = 2 + runs + runs * len(sizes)
    if len(stored) != expected:
        raise SystemExit(f"{len(stored)} files stored, {expected} expected")


if __name__ == "__main__":
    main()

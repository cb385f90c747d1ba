"""refugium's linkage model on synthetic test sets of 10 thousand to a million records.

    .venv/bin/python benchmarks/linkage.py [--sizes 10k,100k,1m] [--timeout 1500] [--nice 10]

For each size, a fresh child process (this script with ``--one RECORDS``, under ``nice``)
generates the synthetic North Caucasus test set of ``tests/linkage/synthetic.py`` with
persons = records / 3.3 (about 3.3 rows per person over four sources), then times, each on
its own:

- generation (the test set itself; not refugium's cost, shown apart);
- ``prepare`` (rows to the key table);
- ``link`` (training, scoring the blocked pairs, clustering at DEFAULT_THRESHOLD);

and scores the clusters against the truth with ``pairwise_scores`` (pairwise precision,
recall and F1 over all pairs of records, within and across sources).

Memory is the child's peak RSS as the kernel counts it (``wait4`` rusage ``ru_maxrss``, which
holds even for a child killed by the OOM killer); the child also records its VmHWM after
generation, so the generator's share can be told apart. A size that takes longer than
``--timeout`` seconds is killed, with its process group, and reported with the stage it was
in; so is one killed by a signal (out of memory) or one that fails (DuckDB's "out of memory":
the model never spills to disk). The table ends with how time and memory grow per 10x.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, vm_hwm_kib

PER_PERSON = 3.3
SEED = 7


def records_arg(text: str) -> int:
    """ "10k", "1m", "250000" as a number of records."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def label(records: int) -> str:
    if records % 1_000_000 == 0:
        return f"{records // 1_000_000}m"
    if records % 1_000 == 0:
        return f"{records // 1_000}k"
    return str(records)


# --- the child: one size --------------------------------------------------------------------


def one(records: int, seed: int) -> None:
    """Runs one size; writes one JSON object a line to stdout: each stage as it starts, then
    the result, or the error that stopped it. Progress for people goes to stderr."""
    try:
        _one(records, seed)
    except Exception as error:
        lines = str(error).splitlines() or [""]
        # DuckDB's errors begin with the SQL; the line that says what happened names an Error.
        what = next((line for line in lines if "Error:" in line), lines[0])
        print(json.dumps({"error": f"{type(error).__name__}: {what.strip()}"[:300]}), flush=True)
        raise


def _one(records: int, seed: int) -> None:
    from tests.linkage.synthetic import generate, pairwise_scores

    from refugium.linkage.model import DEFAULT_THRESHOLD, link
    from refugium.linkage.prepare import prepare

    began = time.perf_counter()

    def stage(name: str) -> None:
        print(json.dumps({"stage": name, "at": time.perf_counter() - began}), flush=True)
        print(f"  [{label(records)} {time.perf_counter() - began:7.1f} s] {name}", file=sys.stderr)

    persons = max(1, round(records / PER_PERSON))
    stage(f"generating {persons:,} persons")
    started = time.perf_counter()
    test_set = generate(persons=persons, seed=seed)
    generation = time.perf_counter() - started
    hwm_generated = vm_hwm_kib() or 0
    keys = [(source, row["id"]) for source, rows in test_set.sources.items() for row in rows]
    rows = [row for source_rows in test_set.sources.values() for row in source_rows]

    stage(f"prepare ({len(rows):,} rows)")
    started = time.perf_counter()
    table = prepare(rows)
    preparing = time.perf_counter() - started
    del rows

    stage("link")
    started = time.perf_counter()
    result = link(table, threshold=DEFAULT_THRESHOLD, progress=stage)
    linking = time.perf_counter() - started

    stage("scoring against the truth")
    predicted = {keys[int(uid)]: cluster for uid, cluster in result.clusters.items()}
    quality = pairwise_scores(predicted, test_set.truth)
    print(
        json.dumps(
            {
                "result": {
                    "records": len(keys),
                    "persons": persons,
                    "generation": generation,
                    "prepare": preparing,
                    "link": linking,
                    "scored_pairs": len(result.pairs),
                    "clusters": int(result.clusters.nunique()),
                    "hwm_generated_kib": hwm_generated,
                    "hwm_kib": vm_hwm_kib() or 0,
                    **{k: quality[k] for k in ("precision", "recall", "f1")},
                    "true_pairs": quality["true_pairs"],
                    "predicted_pairs": quality["predicted_pairs"],
                }
            }
        ),
        flush=True,
    )


# --- the parent: a child per size -----------------------------------------------------------


def run_size(records: int, seed: int, timeout: float, niceness: int, work: Path) -> dict:
    out = work / f"{label(records)}.jsonl"
    command = [sys.executable, str(Path(__file__).resolve()), "--one", str(records)]
    command += ["--seed", str(seed)]
    started = time.monotonic()
    with out.open("wb") as stdout:
        child = subprocess.Popen(
            command,
            stdout=stdout,
            cwd=REPO,
            start_new_session=True,  # its own process group, to kill it whole
            preexec_fn=(lambda: os.nice(niceness)) if niceness else None,
        )
    timed_out = False
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > timeout:
            timed_out = True
            os.killpg(child.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(child.pid, 0)
            break
        time.sleep(0.25)
    child.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
    wall = time.monotonic() - started
    lines = [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]
    stages = [line for line in lines if "stage" in line]
    found = next((line["result"] for line in lines if "result" in line), None)
    error = next((line["error"] for line in lines if "error" in line), None)
    outcome = {"size": label(records), "wall": wall, "rss_kib": usage.ru_maxrss}
    last = f"{stages[-1]['stage']} (from {stages[-1]['at']:.0f} s)" if stages else "starting"
    if found is not None and child.returncode == 0:
        return {**outcome, **found}
    if timed_out:
        return {**outcome, "failed": f"timed out after {timeout:.0f} s, while {last}"}
    if child.returncode < 0:
        name = signal.Signals(-child.returncode).name
        why = " (out of memory?)" if name == "SIGKILL" else ""
        return {**outcome, "failed": f"killed by {name}{why} while {last}"}
    return {**outcome, "failed": f"exit {child.returncode} while {last}: {error or 'see stderr'}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,1m", help="records per set, comma-separated")
    parser.add_argument("--seed", type=int, default=SEED, help="generator seed")
    parser.add_argument(
        "--timeout", type=float, default=1500, help="seconds per size before it is killed"
    )
    parser.add_argument("--nice", type=int, default=10, help="niceness of the children")
    parser.add_argument("--one", type=records_arg, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one, args.seed)
        return
    sizes = [records_arg(s) for s in args.sizes.split(",") if s.strip()]
    import duckdb
    import splink

    print(
        f"Synthetic linkage test sets (tests/linkage/synthetic.py, seed {args.seed}, four "
        f"sources, persons = records / {PER_PERSON}); refugium's model at its default "
        f"threshold; Splink {splink.__version__}, DuckDB {duckdb.__version__}, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB RAM; "
        f"one child per size, nice {args.nice}, timeout {args.timeout:.0f} s; load "
        f"average at the start {os.getloadavg()[0]:.2f}.\n",
        flush=True,
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="refugium-bench-linkage-") as work:
        for records in sizes:
            print(f"{label(records)}:", file=sys.stderr, flush=True)
            results.append(run_size(records, args.seed, args.timeout, args.nice, Path(work)))
    report(results)


def report(results: list[dict]) -> None:
    print(
        f"\n{'size':>5} {'records':>9} {'generate s':>10} {'prepare s':>9} {'link s':>8} "
        f"{'peak RSS MiB':>12} {'(after gen)':>11} {'scored pairs':>12} "
        f"{'precision':>9} {'recall':>7} {'F1':>7}"
    )
    for r in results:
        if "failed" in r:
            print(
                f"{r['size']:>5} {'':>9} FAILED: {r['failed']}; "
                f"{r['wall']:.0f} s, peak RSS {r['rss_kib'] / 1024:.0f} MiB"
            )
            continue
        print(
            f"{r['size']:>5} {r['records']:>9,} {r['generation']:>10.1f} {r['prepare']:>9.1f} "
            f"{r['link']:>8.1f} {r['rss_kib'] / 1024:>12.0f} "
            f"{r['hwm_generated_kib'] / 1024:>11.0f} {r['scored_pairs']:>12,} "
            f"{r['precision']:>9.4f} {r['recall']:>7.4f} {r['f1']:>7.4f}"
        )
    done = [r for r in results if "failed" not in r]
    if len(done) > 1:
        print("\nGrowth from one size to the next, scaled to 10x records (ratio ** (1 / log10 n)):")
        print(
            f"{'from':>5} {'to':>5} {'records x':>9} {'prepare':>8} {'link':>8} "
            f"{'prepare+link':>12} {'peak RSS':>9} {'scored pairs':>12}"
        )
        for small, big in itertools.pairwise(done):
            n = big["records"] / small["records"]
            decades = max(1e-9, math.log10(n))

            def per10(key: str, s: dict = small, b: dict = big, d: float = decades) -> str:
                value = b[key] / s[key] if s[key] else float("inf")
                return f"{value ** (1 / d):.1f}x"

            for r in (small, big):
                r["work"] = r["prepare"] + r["link"]
            print(
                f"{small['size']:>5} {big['size']:>5} {n:>9.1f} {per10('prepare'):>8} "
                f"{per10('link'):>8} {per10('work'):>12} {per10('rss_kib'):>9} "
                f"{per10('scored_pairs'):>12}"
            )
    print(
        "\nseconds: generate = the synthetic set (not refugium's cost); prepare = rows to keys; "
        "link = train (λ, u, EM sessions) + score the blocked pairs + cluster. peak RSS = "
        "the child's maximum resident set (wait4), all stages; (after gen) = its VmHWM once "
        "the set was generated. scored pairs: pairs at p >= 0.01. Precision, recall, F1: "
        "pairwise over all pairs of records (tests/linkage/synthetic.pairwise_scores)."
    )


if __name__ == "__main__":
    main()

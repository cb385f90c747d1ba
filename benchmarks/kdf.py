"""What one Argon2id check costs: a login unwrap and a receipt check, at PRODUCTION cost.

Side by side with argon2-cffi's own ``PasswordHasher()`` default (RFC 9106's low-memory
profile), so the numbers can be judged against a reference. Prints, per case, the median
wall-clock and CPU time of several runs, the peak memory the case added to its process, the
guesses per second one core can make at that cost (what an attacker with the seized database
pays per guess, per core), and how many checks per second saturate this machine's cores (what
a flood needs to send to keep the server busy).

    .venv/bin/python benchmarks/kdf.py [--runs 9]

Each case runs in a fresh child process, so that its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from argon2 import PasswordHasher

from refugium.crypto import PRODUCTION, Identity, Receipt, unwrap_identity, wrap_identity

CASES = {
    "login": "login unwrap (unwrap_identity, PRODUCTION)",
    "receipt": "receipt check (Receipt.derive, PRODUCTION)",
    "reference": "argon2-cffi PasswordHasher() verify (default)",
}
PASSPHRASE = "correct horse battery staple"  # noqa: S105  # benchmark input


def _prepare(case: str) -> Callable[[], object]:
    """Return the operation to time, after any setup (the setup is not timed)."""
    if case == "login":
        blob = wrap_identity(Identity.generate(), PASSPHRASE, PRODUCTION)
        return lambda: unwrap_identity(blob, PASSPHRASE)
    if case == "receipt":
        text = Receipt.generate("ru").to_text()
        salt = os.urandom(16)
        return lambda: Receipt.parse(text).derive(salt, PRODUCTION)
    if case == "reference":
        hasher = PasswordHasher()
        stored = hasher.hash(PASSPHRASE)
        return lambda: hasher.verify(stored, PASSPHRASE)
    raise SystemExit(f"unknown case {case}")


def _measure(case: str, runs: int) -> dict[str, float]:
    # Libraries are imported already, so the difference is the case's own working memory
    # (for Argon2id, mostly its memory cost).
    baseline_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    operation = _prepare(case)
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        operation()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "wall_ms": statistics.median(walls) * 1000,
        "cpu_ms": statistics.median(cpus) * 1000,
        "peak_mib": (peak_kib - baseline_kib) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="runs per case (median is shown)")
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)  # child process
    args = parser.parse_args()
    if args.case:
        print(json.dumps(_measure(args.case, args.runs)))
        return

    cores = os.cpu_count() or 1
    results = {}
    for case in CASES:
        child = subprocess.run(
            [sys.executable, __file__, "--case", case, "--runs", str(args.runs)],
            capture_output=True,
            text=True,
            check=True,
        )
        results[case] = json.loads(child.stdout)

    print(f"Argon2id cost per check: median of {args.runs} runs, {cores} cores\n")
    print(f"{'case':<48}{'wall ms':>9}{'CPU ms':>9}{'peak MiB':>10}{'guesses/s/core':>16}")
    for case, label in CASES.items():
        r = results[case]
        print(
            f"{label:<48}{r['wall_ms']:>9.1f}{r['cpu_ms']:>9.1f}{r['peak_mib']:>10.1f}"
            f"{1000 / r['cpu_ms']:>16.1f}"
        )

    reference = results["reference"]
    print("\nRatio to argon2-cffi's PasswordHasher() default (wall, CPU):")
    for case in ("login", "receipt"):
        r = results[case]
        wall_ratio = r["wall_ms"] / reference["wall_ms"]
        cpu_ratio = r["cpu_ms"] / reference["cpu_ms"]
        print(f"  {CASES[case]:<46}{wall_ratio:>6.2f}x {cpu_ratio:>6.2f}x")

    receipt = results["receipt"]
    saturating = cores * 1000 / receipt["cpu_ms"]
    print(
        f"\nFlood: about {saturating:.0f} receipt checks per second keep all {cores} cores busy "
        f"({receipt['cpu_ms']:.0f} ms of CPU each); beyond that, requests queue. Each check "
        f"holds about {receipt['peak_mib']:.0f} MiB while it runs, so N concurrent checks "
        f"need N times that: cap concurrency, and rate-limit before Argon2 runs."
    )
    login = results["login"]
    print(
        f"Offline guessing of a seized wrapped key: about {1000 / login['cpu_ms']:.0f} "
        f"passphrase guesses per second per core of comparable CPU."
    )


if __name__ == "__main__":
    main()

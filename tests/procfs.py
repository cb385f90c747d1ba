"""Reading processes from /proc (Linux), for the tests and benchmarks that measure memory.

The kernel's own peak of resident memory (VmHWM) is read rather than sampled RSS: a sampler
misses a short peak, the kernel does not.
"""

from __future__ import annotations

import os
from pathlib import Path


def children(*parents: int) -> list[int]:
    """Process ids whose parent is one of ``parents`` (one level; threads are not processes)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry.name}/stat").read_bytes()
        except OSError:
            continue  # it ended while we looked
        # The parent id is the second field after the command name, which may hold spaces.
        if int(raw[raw.rindex(b")") + 2 :].split()[1]) in parents:
            found.append(int(entry.name))
    return found


def vm_hwm_kib(pid: int | str = "self") -> int | None:
    """Peak resident set of ``pid`` in KiB, or None when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_bytes().splitlines():
            if line.startswith(b"VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None

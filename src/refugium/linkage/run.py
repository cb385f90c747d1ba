"""``refugium link``: CSV lists in, one cluster number per record out.

Steps, each reported to ``progress``: read and check every file (nothing is linked if any is
bad), prepare the keys, train and cluster (:func:`refugium.linkage.model.link`), write
``source,id,cluster`` for every input row in input order, and the review page if asked.
Outputs are written atomically (:func:`refugium.durable.write_atomic`): a second run over
the same ``--out`` replaces it whole or not at all.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from refugium.durable import write_atomic
from refugium.linkage.inputs import Record, read_sources
from refugium.linkage.model import DEFAULT_THRESHOLD, Linkage, Progress, link
from refugium.linkage.prepare import prepare

__all__ = ["OUTPUT_COLUMNS", "Outcome", "clusters_csv", "link_files"]

OUTPUT_COLUMNS = ("source", "id", "cluster")


@dataclass(frozen=True, slots=True, repr=False)
class Outcome:
    records: list[Record]
    linkage: Linkage
    sources: dict[str, int]
    """Records per source, in file order."""


def clusters_csv(records: Sequence[Record], linkage: Linkage) -> bytes:
    """The output file's bytes: a header, then one row per input record in input order."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    clusters = linkage.clusters
    for unique_id, record in enumerate(records):
        writer.writerow((record.source, record.id, int(clusters.loc[unique_id])))
    return buffer.getvalue().encode("utf-8")


def link_files(
    paths: Sequence[Path],
    out: Path,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    report: Path | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """Link the records of ``paths`` and write ``out`` (and ``report``).

    Raises:
        refugium.linkage.inputs.BadInput: a file breaks the input contract.
        ValueError: a threshold outside (0, 1) or fewer than two records in all.
        OSError: an output cannot be written (nothing half-written is left).
    """
    tell = progress or (lambda _stage: None)
    tell(f"reading {len(paths)} file(s)")
    records = read_sources(paths)
    sources = dict(Counter(record.source for record in records))
    tell(f"preparing keys for {len(records):,} records")
    keys = prepare(record.fields for record in records)
    linkage = link(keys, threshold, tell)
    tell(f"writing {out}")
    write_atomic(out, clusters_csv(records, linkage), mode=0o600)
    if report is not None:
        from refugium.linkage.report import render

        tell(f"writing the review page {report} (scoring its pairs again, level by level)")
        write_atomic(report, render(linkage, records, sources).encode("utf-8"))
    return Outcome(records, linkage, sources)

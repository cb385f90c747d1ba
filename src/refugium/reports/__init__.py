"""Advocacy reports without Django: definitions, disclosure control, the PDF toolchain.

The Django side (``refugium.web.reports``) selects records and builds the report; this package
decides how each value and count may appear in it:

- :mod:`~refugium.reports.sensitivity`: the class of every field of the data model
  (public, coarsen, pseudonymise, withhold), from ``data/sensitivity.toml``;
- :mod:`~refugium.reports.coarsen`: dates to ISO weeks or months, places to districts or
  regions, never finer than the input;
- :mod:`~refugium.reports.pseudonyms`: "Person 1", "Person 2"… numbered by HMAC under the
  report's secret;
- :mod:`~refugium.reports.tables` and :mod:`~refugium.reports.suppression`: tables of counts
  with totals, small-cell and complementary suppression audited by linear programming;
- :mod:`~refugium.reports.noise`: optional differentially private noise (OpenDP, extra
  ``[dp]``), applied before suppression;
- :mod:`~refugium.reports.withheld`: the desk's account of everything left out;
- :mod:`~refugium.reports.jsonout`: canonical JSON, so a build's data.json is reproducible.
- :mod:`~refugium.reports.definition`: report definitions (TOML), every problem at once;
- :mod:`~refugium.reports.pdf` and :mod:`~refugium.reports.selfcontained`: the PDF and the
  check that a report loads nothing from outside.
- :mod:`~refugium.reports.render` and :mod:`~refugium.reports.catalogue`: report.html, the
  charts and report.pdf from the compiled report alone, in English or Russian.

Typical use::

    policy = default_policy()
    table = Table.tally("acts_by_week", "Acts by week", weeks, week_keys)
    table = table.with_noise(epsilon=1.0).protect(k=5)  # or without noise: table.protect(k=5)
    withheld = Withheld(); withheld.add_policy(policy); withheld.add_table(table)
    data = dumps({"tables": [table.to_json()]})
"""

from __future__ import annotations

from refugium.reports.coarsen import CoarseDate, CoarsePlace, coarsen_date, coarsen_place
from refugium.reports.jsonout import dumps
from refugium.reports.noise import Mechanism, add_noise, available
from refugium.reports.pseudonyms import Pseudonyms, new_secret
from refugium.reports.sensitivity import (
    Policy,
    Rule,
    Sensitivity,
    class_of,
    default_policy,
    load_policy,
    parse_policy,
)
from refugium.reports.suppression import DEFAULT_K
from refugium.reports.tables import Axis, Protection, Table
from refugium.reports.withheld import Withheld

__all__ = [
    "DEFAULT_K",
    "Axis",
    "CoarseDate",
    "CoarsePlace",
    "Mechanism",
    "Policy",
    "Protection",
    "Pseudonyms",
    "Rule",
    "Sensitivity",
    "Table",
    "Withheld",
    "add_noise",
    "available",
    "class_of",
    "coarsen_date",
    "coarsen_place",
    "default_policy",
    "dumps",
    "load_policy",
    "new_secret",
    "parse_policy",
]

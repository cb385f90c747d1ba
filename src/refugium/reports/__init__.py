"""Advocacy reports: credible numbers and redacted accounts that endanger no one (no Django).

The web side (``refugium.web.reports``) reads the records; this package holds what needs no
database: report definitions (:mod:`~refugium.reports.definition`), the disclosure control
that turns records into publishable tables, and the PDF toolchain
(:mod:`~refugium.reports.pdf`).
"""

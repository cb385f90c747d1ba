"""Keeps request details out of log records.

Django attaches the request to records from ``django.request`` and ``django.security``; a
formatter or a handler added later could print its headers (IP, user agent) from there.
This filter removes the request and the status code's request-bound extras before any handler
sees the record.
"""

from __future__ import annotations

import logging


class DropRequestFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request"):
            record.request = None
        return True

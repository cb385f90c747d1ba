"""Signals the records send, for other desks to act on what was documented.

``records_saved`` is sent inside the writing transaction, after the rows, their revisions and
index entries are written, with the records ``Workspace`` (``ws``) and the ``Prepared``
changes (``prepared``). A receiver that fails rolls the whole write back: what it does is
part of the write. Casework listens for arrests (``casework.recheck``).
"""

from __future__ import annotations

from django.dispatch import Signal

records_saved = Signal()

from typing import Any

from django.apps import AppConfig


def _on_records_saved(sender: Any, **kwargs: Any) -> None:
    """Imports the receiver when a record is first saved, not at start-up: it brings in
    phone-number parsing (``refugium.casework.contacts``), which a command that saves no
    record (``refugium evidence add`` …) would load for nothing."""
    from refugium.web.casework.recheck import on_records_saved

    on_records_saved(sender, **kwargs)


class CaseworkConfig(AppConfig):
    """The casework desk: sanctuary and evacuation cases (issue 9): the provocation
    watchlist, cases with their own keys, verification, flags and check-ins."""

    name = "refugium.web.casework"
    label = "casework"
    verbose_name = "Casework"

    def ready(self) -> None:
        from refugium.web.records.signals import records_saved

        # An arrest documented on the records desk lists the person's contacts (issue 9).
        records_saved.connect(_on_records_saved, dispatch_uid="casework.arrests")

from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    """The casework desk: sanctuary and evacuation cases (issue 9): the provocation
    watchlist, cases with their own keys, verification, flags and check-ins."""

    name = "refugium.web.casework"
    label = "casework"
    verbose_name = "Casework"

    def ready(self) -> None:
        from refugium.web.casework.recheck import on_records_saved
        from refugium.web.records.signals import records_saved

        # An arrest documented on the records desk lists the person's contacts (issue 9).
        records_saved.connect(on_records_saved, dispatch_uid="casework.arrests")

from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """The documentation database: ESF events, acts, persons, places, sources (issue 5)."""

    name = "refugium.web.records"
    label = "records"
    verbose_name = "Records"

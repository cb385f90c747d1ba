from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Advocacy reports compiled from the documentation desk's records (issue 10). No models:
    a report's pseudonym secret is derived from the desk's keyed-hash key and the definition
    (``compile.pseudonym_secret``), so there is nothing to store."""

    name = "refugium.web.reports"
    label = "reports"
    verbose_name = "Reports"

from django.apps import AppConfig


class EstimatesConfig(AppConfig):
    """Multiple systems estimation over the documentation database: a page that counts, from
    plaintext links and coded fields only, who is on which Source's list, and runs
    ``refugium.estimation`` on it. No models: nothing is stored but the audit entry."""

    name = "refugium.web.estimates"
    label = "estimates"
    verbose_name = "Estimates"

from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    """The evidence vault's items, their custody and their links to records (issue 6)."""

    name = "refugium.web.evidence"
    label = "evidence"
    verbose_name = "Evidence"

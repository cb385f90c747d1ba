from django.apps import AppConfig


class MatchesConfig(AppConfig):
    """Possible duplicate Persons of the documentation database, and researchers' decisions
    on them (found by ``refugium.linkage`` over names decrypted in memory)."""

    name = "refugium.web.matches"
    label = "matches"
    verbose_name = "Duplicate persons"

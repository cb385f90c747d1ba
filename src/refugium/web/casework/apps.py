from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    """The casework desk: sanctuary and evacuation cases (issue 9). So far the provocation
    watchlist: contacts tied to detained people, seized phones, named officers or lures, kept
    only as keyed hashes, with their reasons sealed."""

    name = "refugium.web.casework"
    label = "casework"
    verbose_name = "Casework"

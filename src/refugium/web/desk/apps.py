from django.apps import AppConfig


class DeskConfig(AppConfig):
    """The researchers' side of the intake: inbox, reading, replies. May import from
    ``intake``; ``intake`` never imports from here (STYLE §5)."""

    name = "refugium.web.desk"
    label = "desk"

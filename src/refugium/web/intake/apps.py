from django.apps import AppConfig


class IntakeConfig(AppConfig):
    """The reporter side: submit, receipt, follow-up. Never imports from ``desk``."""

    name = "refugium.web.intake"
    label = "intake"

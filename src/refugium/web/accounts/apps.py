from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Researcher accounts, desks and the key hierarchy of DESIGN §2."""

    name = "refugium.web.accounts"
    label = "accounts"

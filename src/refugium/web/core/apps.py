from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Project-wide plumbing: SQLite pragmas, security headers, error pages, system checks."""

    name = "refugium.web.core"
    label = "core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from refugium.web.core import checks, sqlite  # noqa: F401  (registers checks)

        connection_created.connect(sqlite.apply_pragmas, dispatch_uid="refugium-sqlite-pragmas")

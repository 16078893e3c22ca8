from django.apps import AppConfig


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = "Disputes"

    def ready(self) -> None:
        # Connects the signal that counts new orders in the shops' rollups.
        from mediation import rollups  # noqa: F401

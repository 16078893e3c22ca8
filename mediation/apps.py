from django.apps import AppConfig


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = "Disputes"

    def ready(self) -> None:
        # rollups connects the signal that counts new orders in the shops' rollups; checks
        # registers the deploy check of the audit key.
        from mediation import checks, rollups  # noqa: F401

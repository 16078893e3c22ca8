from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        # Connects the receiver that notes the end of a database outage (a new connection).
        from api import outages  # noqa: F401

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        # The webhook fan-out consumes the outbox (workflows.relay).
        from api import webhook_delivery
        from workflows import relay

        relay.register("webhooks", webhook_delivery.fan_out)

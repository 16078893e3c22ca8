from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed webhooks to a shop's endpoints (DESIGN §6): an outbox consumer, delivery with
    retries, the URL guard, and the owners' endpoint API."""

    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from webhooks import fanout
        from workflows import relay

        relay.register("webhooks", fanout.fan_out)

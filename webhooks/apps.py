from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed webhooks to a shop's endpoints (DESIGN §6): an outbox consumer, delivery with
    retries, the URL guard, and the owners' endpoint API."""

    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from webhooks import delivery, fanout
        from workflows import events, relay

        relay.register("webhooks", fanout.fan_out)
        # The body shows the dispute as the change left it, not as it is when sent.
        events.register_snapshot("webhooks", delivery.snapshot)

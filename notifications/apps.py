from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Email to the parties about every step (DESIGN §6), an outbox consumer."""

    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from notifications import emails
        from workflows import relay

        relay.register("notifications", emails.consume)

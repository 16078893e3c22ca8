from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Dispute lifecycle"

    def ready(self) -> None:
        # Connects the signals that drop the cached deadline policy when it is edited.
        from workflows import notifications, policy, relay  # noqa: F401

        # Email to the parties consumes the outbox, beside the webhook fan-out (api.apps).
        relay.register("notifications", notifications.consume)

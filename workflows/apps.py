from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Dispute lifecycle"

    def ready(self) -> None:
        # Connects the signals that drop the cached deadline policy when it is edited.
        from workflows import policy  # noqa: F401

from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Dispute lifecycle"

    def ready(self) -> None:
        # The deadline policy connects the signals that drop its cache when it is edited;
        # the index imports every stage module, so the action registry is complete in
        # every process (web, workers, commands) before anything reads it.
        from workflows import policy, transitions  # noqa: F401

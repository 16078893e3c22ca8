from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Dispute lifecycle"

    def ready(self) -> None:
        # The deadline policy connects the signals that drop its cache when it is edited;
        # the index imports every stage module, so the action registry is complete in
        # every process (web, workers, commands) before anything reads it.
        from workflows import assignment, policy, relay, transitions  # noqa: F401

        # Automatic assignment of cases that entered the queue (off unless the
        # marketplace's assignment policy turns it on): see workflows.assignment.
        relay.register("auto_assign", assignment.on_event)

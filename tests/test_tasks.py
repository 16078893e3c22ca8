"""Every Celery task is registered under its own name, every beat entry names a registered
task, and the names the tasks had before they moved to their apps still run (for one
release, so messages queued before an upgrade drain)."""

from __future__ import annotations

import pytest
from django.conf import settings

from config.celery import app
from mediation.models import OutboxEvent
from tests.scenarios import dispute_in
from webhooks import tasks as webhook_tasks
from workflows import relay
from workflows import tasks as workflow_tasks

OLD_NAMES = {
    "api.relay_outbox": "workflows.relay_outbox",
    "api.deliver_webhook": "webhooks.deliver_webhook",
    "api.retry_due_webhooks": "webhooks.retry_due_webhooks",
}


def test_tasks_have_the_names_of_their_apps() -> None:
    assert relay.relay_outbox.name == "workflows.relay_outbox"
    assert workflow_tasks.relay_outbox is relay.relay_outbox
    assert workflow_tasks.sweep_deadlines.name == "workflows.sweep_deadlines"
    assert webhook_tasks.deliver_webhook.name == "webhooks.deliver_webhook"
    assert webhook_tasks.retry_due_webhooks.name == "webhooks.retry_due_webhooks"


def test_beat_names_registered_tasks() -> None:
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry
        assert not str(entry["task"]).startswith("api."), entry


@pytest.mark.django_db
def test_the_old_names_still_run_the_same_work() -> None:
    app.loader.import_default_modules()
    for old, new in OLD_NAMES.items():
        assert old in app.tasks and new in app.tasks
        assert app.tasks[old].acks_late == app.tasks[new].acks_late
    dispute_in("awaiting_seller")  # its raise left events in the outbox
    pending = OutboxEvent.objects.filter(relayed_at__isnull=True).count()
    assert pending > 0
    assert app.tasks["api.relay_outbox"]() == {"relayed": pending, "failed": 0}
    assert app.tasks["api.retry_due_webhooks"]() == 0  # no endpoint, nothing due
    assert app.tasks["api.deliver_webhook"](999_999) is None  # no such delivery

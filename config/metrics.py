"""``GET /metrics``: the service's figures for Prometheus, behind ``METRICS_TOKEN``.

Two kinds of figures:

- **counted in the web processes** as requests are served: django-prometheus's request
  rate, latency and status by view (its middleware), and the API's transitions by action and
  outcome (``api.metrics.TRANSITIONS``). Under gunicorn every worker process counts apart; with
  ``PROMETHEUS_MULTIPROC_DIR`` set (the image sets it) they write to files there and a
  scrape adds them up, whichever worker answers it (prometheus_client's multiprocess mode;
  config/gunicorn.conf.py clears the folder at start and marks exited workers).
- **read when scraped** (:class:`Operations`), from what the database, the broker and the
  cache hold, so they are right whichever process did the work (a Celery worker in another
  container, the sweeper): the outbox's backlog and the age of its oldest event, webhook
  deliveries waiting and the last five minutes' attempts by outcome, emails waiting,
  disputes past their deadline, overdue and flagged (SLA breaches), the sweeper's last run
  and what its passes did (the deadline transitions among them),
  the tasks that expired in their queues, and each Celery queue's depth. Each is read
  through an index (a few thousand rows at a million disputes), so a scrape every 15 s
  costs little.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, Min, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)
# The window of the recent webhook attempts' figures, in seconds.
RECENT = 300


class Operations(Collector):
    """The figures read when scraped; a source that does not answer is left out of that
    scrape (and logged), so one down dependency never hides the others."""

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        for source in (self._outbox, self._deliveries, self._disputes, self._tasks, _queues):
            try:
                yield from source()
            except Exception:  # a dependency down: the other figures still go out
                log.warning("metrics: %s could not be read", source.__name__, exc_info=True)

    @staticmethod
    def _outbox() -> Iterator[GaugeMetricFamily]:
        from mediation.models import OutboxEvent

        pending = OutboxEvent.objects.filter(relayed_at__isnull=True).aggregate(
            n=Count("pk"), oldest=Min("created_at")
        )
        yield GaugeMetricFamily(
            "mediation_outbox_backlog", "Outbox events not relayed yet.", value=pending["n"]
        )
        age = (timezone.now() - pending["oldest"]).total_seconds() if pending["oldest"] else 0
        yield GaugeMetricFamily(
            "mediation_outbox_lag_seconds",
            "Age of the oldest outbox event not relayed yet (0 when none waits).",
            value=max(age, 0.0),
        )

    @staticmethod
    def _deliveries() -> Iterator[GaugeMetricFamily]:
        from mediation.models import Notification
        from webhooks.models import WebhookAttempt, WebhookDelivery

        waiting = GaugeMetricFamily(
            "mediation_webhook_deliveries_waiting",
            "Webhook deliveries not done yet, by status (pending: not tried; retrying: "
            "failed and due again).",
            labels=["status"],
        )
        rows = (
            WebhookDelivery.objects.filter(status__in=["pending", "retrying"])
            .order_by()
            .values("status")
            .annotate(n=Count("pk"))
        )
        found = {row["status"]: row["n"] for row in rows}
        for status in ("pending", "retrying"):
            waiting.add_metric([status], found.get(status, 0))
        yield waiting
        # The results: the attempts of the last RECENT seconds by outcome (from every worker,
        # since they are rows), with their mean duration.
        since = timezone.now() - timedelta(seconds=RECENT)
        attempts = GaugeMetricFamily(
            "mediation_webhook_attempts_recent",
            f"Webhook delivery attempts of the last {RECENT} seconds, by outcome.",
            labels=["outcome"],
        )
        duration = GaugeMetricFamily(
            "mediation_webhook_attempt_duration_recent_seconds",
            f"Mean duration of the webhook attempts of the last {RECENT} seconds, by outcome.",
            labels=["outcome"],
        )
        recent: dict[bool, tuple[int, float]] = {
            row["succeeded"]: (row["n"], row["ms"] or 0.0)
            for row in WebhookAttempt.objects.filter(started_at__gte=since)
            .order_by()
            .values("succeeded")
            .annotate(n=Count("pk"), ms=Avg("duration_ms"))
        }
        for outcome, succeeded in (("succeeded", True), ("failed", False)):
            count, mean_ms = recent.get(succeeded, (0, 0.0))
            attempts.add_metric([outcome], count)
            duration.add_metric([outcome], mean_ms / 1000)
        yield attempts
        yield duration
        emails = GaugeMetricFamily(
            "mediation_emails_waiting",
            "Emails not sent yet, by status (pending: due or waiting to retry; sending: "
            "claimed by a worker).",
            labels=["status"],
        )
        found = {
            row["status"]: row["n"]
            for row in Notification.objects.filter(next_attempt_at__isnull=False)
            .values("status")
            .annotate(n=Count("pk"))
        }
        for status in ("pending", "sending"):
            emails.add_metric([status], found.get(status, 0))
        yield emails

    @staticmethod
    def _disputes() -> Iterator[GaugeMetricFamily]:
        from mediation.models import Dispute, State
        from mediation.selectors import overdue_filter
        from workflows.sweeper import due_transitions

        now = timezone.now()
        open_disputes = Dispute.objects.filter(~Q(state=State.CLOSED))
        figures = open_disputes.aggregate(
            overdue=Count("pk", filter=overdue_filter(now)),
            flagged=Count("pk", filter=Q(overdue_flagged_for__isnull=False)),
        )
        due = open_disputes.filter(due_transitions(now)).count()
        yield GaugeMetricFamily(
            "mediation_disputes_due",
            "Open disputes whose deadline transition is due (the sweeper's next work).",
            value=due,
        )
        yield GaugeMetricFamily(
            "mediation_disputes_overdue",
            "Open disputes past the deadline of their state.",
            value=figures["overdue"],
        )
        yield GaugeMetricFamily(
            "mediation_sla_breaches_open",
            "Open disputes flagged for breaching the platform's service level.",
            value=figures["flagged"],
        )

    @staticmethod
    def _tasks() -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        from django.core.cache import cache

        from config.celery import EXPIRED_KEY, app
        from workflows.tasks import SWEEP_LAST_RUN_KEY, SWEEP_RUNS_KEY

        last = cache.get(SWEEP_LAST_RUN_KEY)
        yield GaugeMetricFamily(
            "mediation_sweeper_last_run_timestamp_seconds",
            "When the deadline sweeper last finished a run (Unix time; 0: not since the "
            "cache was emptied).",
            value=float(last or 0),
        )
        yield GaugeMetricFamily(
            "mediation_sweeper_runs",
            "Runs of the deadline sweeper since the cache was emptied.",
            value=int(cache.get(SWEEP_RUNS_KEY) or 0),
        )
        from workflows.sweeper import OUTCOMES, PASSES, SWEEP_COUNT_KEY

        keys = {(p, o): SWEEP_COUNT_KEY.format(p, o) for p in PASSES for o in OUTCOMES}
        done = cache.get_many(list(keys.values()))
        actions = CounterMetricFamily(
            "mediation_sweeper_actions",
            "What the deadline sweeper did since the cache was emptied, by pass (transitions: "
            "the deadline transitions; sla_flags, reminders, feedback_reminders) and outcome "
            "(applied; skipped: no longer due under the lock; failed).",
            labels=["pass", "outcome"],
        )
        for (name, outcome), key in keys.items():
            actions.add_metric([name, outcome], int(done.get(key) or 0))
        yield actions
        expired = GaugeMetricFamily(
            "mediation_tasks_expired",
            "Tasks a worker discarded because they expired in their queue, by task.",
            labels=["task"],
        )
        names = sorted(n for n in app.tasks if not n.startswith("celery."))
        counts = cache.get_many([EXPIRED_KEY.format(n) for n in names])
        for name in names:
            expired.add_metric([name], int(counts.get(EXPIRED_KEY.format(name)) or 0))
        yield expired


def _queues() -> Iterator[GaugeMetricFamily]:
    from config.celery import app

    depth = GaugeMetricFamily(
        "mediation_celery_queue_depth",
        "Messages waiting in each Celery queue.",
        labels=["queue"],
    )
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        for queue in settings.WORKER_QUEUES:
            declared = channel.queue_declare(queue=queue, passive=False, durable=True)
            depth.add_metric([queue], declared.message_count)
    yield depth


def registry() -> CollectorRegistry:
    """What a scrape reports: every process's counters (multiprocess mode) or this one's,
    and the figures read now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        found = CollectorRegistry()
        multiprocess.MultiProcessCollector(found)  # type: ignore[no-untyped-call]
    else:
        found = CollectorRegistry()
        found.register(_Process())
    found.register(Operations())
    return found


class _Process(Collector):
    """This process's own counters (the default registry) beside the figures read now."""

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics`` with ``Authorization: Bearer <METRICS_TOKEN>``; 404 while no token
    is set (the endpoint is off) and 401 for a wrong or missing one."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off: set METRICS_TOKEN.")
    sent = request.headers.get("Authorization", "")
    scheme, _, credential = sent.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(credential.strip(), token):
        response = HttpResponse("A bearer token is needed.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)

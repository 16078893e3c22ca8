"""``GET /metrics`` (README "Metrics"): behind METRICS_TOKEN; request figures by view,
transitions by action and outcome, and the figures read when scraped (outbox, deliveries,
deadlines, the sweeper, expired tasks, queue depths); under gunicorn the workers' counts add
up (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from config.celery import count_expired
from mediation.models import Dispute, OutboxEvent, State
from tests.live import ROOT
from tests.outages import _wait_for, free_port
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from workflows.tasks import sweep_deadlines

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def metrics_on(settings: Any) -> None:
    settings.METRICS_TOKEN = TOKEN


def scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_are_off_without_a_token_and_need_it(client: Any, settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404
    settings.METRICS_TOKEN = TOKEN
    for sent in ("", "Bearer wrong", f"Token {TOKEN}", f"Bearer {TOKEN}x"):
        response = client.get("/metrics", HTTP_AUTHORIZATION=sent)
        assert response.status_code == 401, sent
        assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert b"mediation_" not in response.content


def test_requests_and_transitions_are_counted(
    api: Any, demo: dict[str, Any], client: Any, metrics_on: None
) -> None:
    dispute = Dispute.objects.filter(state=State.AWAITING_SELLER).order_by("pk").first()
    assert dispute is not None
    owner = dispute.shop.members.get(role="owner").user
    before_ok = REGISTRY.get_sample_value(
        "mediation_transitions_total", {"action": "contest", "outcome": "ok"}
    )
    refused = {"action": "assign", "outcome": "invalid_transition"}
    before_refused = REGISTRY.get_sample_value("mediation_transitions_total", refused) or 0
    seller = api.as_user(owner)
    assigned = seller.post(f"/api/v1/disputes/{dispute.pk}/assign/", {}, format="json")
    assert assigned.status_code == 409  # not in this state
    response = seller.post(
        f"/api/v1/disputes/{dispute.pk}/contest/",
        {"statement": "The parcel was delivered and signed for."},
        format="json",
    )
    assert response.status_code == 200, response.json()

    found = scrape(client)
    ok = (("action", "contest"), ("outcome", "ok"))
    assert found[("mediation_transitions_total", ok)] == (before_ok or 0) + 1
    assert found[("mediation_transitions_total", tuple(sorted(refused.items())))] == (
        before_refused + 1
    )
    by_view = [
        value
        for (name, labels), value in found.items()
        if name == "django_http_requests_total_by_view_transport_method_total"
        and ("view", "api:dispute-contest") in labels
    ]
    assert by_view and sum(by_view) >= 1, sorted(k for k in found if "by_view" in k[0])
    assert any(
        name == "django_http_responses_total_by_status_total" and ("status", "409") in labels
        for name, labels in found
    )
    assert (
        "django_http_requests_latency_seconds_by_view_method_count",
        (("method", "POST"), ("view", "api:dispute-contest")),
    ) in found


def test_the_operations_figures_are_read_when_scraped(
    demo: dict[str, Any], client: Any, metrics_on: None
) -> None:
    found = scrape(client)
    waiting = OutboxEvent.objects.filter(relayed_at__isnull=True)
    assert found[("mediation_outbox_backlog", ())] == waiting.count() > 0
    oldest = min(e.created_at for e in waiting)
    lag = found[("mediation_outbox_lag_seconds", ())]
    assert (timezone.now() - oldest).total_seconds() - 5 <= lag

    # A dispute past its deadline: due for the sweeper and overdue; the sweep acts on it.
    dispute = Dispute.objects.filter(state=State.AWAITING_SELLER).order_by("pk").first()
    assert dispute is not None
    before = scrape(client)
    Dispute.objects.filter(pk=dispute.pk).update(respond_by=timezone.now() - timedelta(hours=1))
    after = scrape(client)
    assert after[("mediation_disputes_due", ())] == before[("mediation_disputes_due", ())] + 1
    assert (
        after[("mediation_disputes_overdue", ())] == before[("mediation_disputes_overdue", ())] + 1
    )
    runs = after[("mediation_sweeper_runs", ())]
    applied = (("outcome", "applied"), ("pass", "transitions"))
    transitions = after[("mediation_sweeper_actions_total", applied)]
    sweep_deadlines.apply()
    swept = scrape(client)
    assert swept[("mediation_disputes_due", ())] == before[("mediation_disputes_due", ())]
    assert swept[("mediation_sweeper_runs", ())] == runs + 1
    # The deadline transition it applied is counted, by pass and outcome.
    assert swept[("mediation_sweeper_actions_total", applied)] == transitions + 1
    Dispute.objects.filter(pk=dispute.pk).update(state=State.AWAITING_SELLER)
    skipped = (("outcome", "skipped"), ("pass", "transitions"))
    before_skipped = swept[("mediation_sweeper_actions_total", skipped)]
    # Due again by its row, but refused under the lock (another sweeper would have got
    # there first): a skip, not an application.
    from workflows import sweeper

    Dispute.objects.filter(pk=dispute.pk).update(respond_by=timezone.now() + timedelta(hours=1))
    sweeper.sweep(now=timezone.now() + timedelta(hours=2))
    again = scrape(client)
    assert again[("mediation_sweeper_actions_total", skipped)] == before_skipped + 1
    assert again[("mediation_sweeper_actions_total", applied)] == transitions + 1
    assert swept[("mediation_sweeper_last_run_timestamp_seconds", ())] > 0

    count_expired("workflows.sweep_deadlines")
    expired = scrape(client)[("mediation_tasks_expired", (("task", "workflows.sweep_deadlines"),))]
    assert expired == 1
    for queue in ("celery", "webhooks", "emails"):
        assert (("mediation_celery_queue_depth", (("queue", queue),))) in found
    for status in ("pending", "retrying"):
        assert ("mediation_webhook_deliveries_waiting", (("status", status),)) in found
    assert ("mediation_emails_waiting", (("status", "pending"),)) in found
    assert ("mediation_sla_breaches_open", ()) in found

    # The results of the last minutes' webhook attempts, from the rows every worker writes.
    endpoint = WebhookEndpoint.objects.create(
        shop=dispute.shop, url="https://hooks.example/x", events=["*"], secret="s"
    )
    event = OutboxEvent.objects.filter(dispute=dispute).order_by("created_at").first()
    assert event is not None
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, event_type=event.type)
    now = timezone.now()
    for number, (ok, ms, ago) in enumerate(
        [(True, 100, 10), (True, 300, 20), (False, 5000, 30), (True, 50, 3600)], start=1
    ):
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=now - timedelta(seconds=ago),
            succeeded=ok,
            duration_ms=ms,
        )
    results = scrape(client)
    recent = "mediation_webhook_attempts_recent"
    assert results[(recent, (("outcome", "succeeded"),))] == 2  # not the hour-old one
    assert results[(recent, (("outcome", "failed"),))] == 1
    mean = "mediation_webhook_attempt_duration_recent_seconds"
    assert results[(mean, (("outcome", "succeeded"),))] == pytest.approx(0.2)
    assert results[(mean, (("outcome", "failed"),))] == pytest.approx(5.0)


def test_gunicorn_workers_counts_add_up(tmp_path: Path) -> None:
    """Two workers, each counting apart, one scrape: every request is in the sum."""
    metrics_dir = tmp_path / "prometheus"
    (metrics_dir).mkdir()
    (metrics_dir / "stale_counter_123.db").write_bytes(b"")  # an earlier run's file
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "DATA_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "memory://",
        "DJANGO_HTTPS": "0",
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_ACCESS_LOG": "",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=180,
    )
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    bind = f"127.0.0.1:{port}"
    process = subprocess.Popen(
        [gunicorn, "-c", "config/gunicorn.conf.py", "config.wsgi:application", "--bind", bind],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(port, process, "gunicorn")
        import http.client

        def get(path: str, **headers: str) -> tuple[int, str]:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                return response.status, response.read().decode()
            finally:
                connection.close()

        for _ in range(30):
            assert get("/healthz")[0] == 200
        status, text = get("/metrics", Authorization=f"Bearer {TOKEN}")
        assert status == 200, text[:500]
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    assert not (metrics_dir / "stale_counter_123.db").exists()
    pids = {p.name.rsplit("_", 1)[-1] for p in metrics_dir.glob("counter_*.db")}
    assert len(pids) >= 2, sorted(p.name for p in metrics_dir.iterdir())
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "django_http_requests_total_by_view_transport_method_total"
                and sample.labels.get("view") == "healthz"
            ):
                total += sample.value
    assert total == 30

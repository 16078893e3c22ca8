"""Every list the API and the console serve is read through an index: on a few thousand
generated disputes (the scale dataset, by COPY) with the planner's statistics collected,
no query of a list request plans a sequential scan of disputes, orders, audit entries,
order items or users (benchmarks.plans). At a million disputes such a scan is the
difference between milliseconds and seconds (make bench-scale)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from benchmarks.plans import explain, nodes, seq_scans
from benchmarks.scale import Spec, fill
from mediation import rollups
from mediation.models import Dispute, Shop

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN: PostgreSQL"),
]

N = 15000


@pytest.fixture
def marketplace(db: Any) -> Iterator[dict[str, Any]]:
    connection.ensure_connection()
    result = fill(connection.connection, Spec(N))
    rollups.rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        # Random reads cost about as much as sequential ones on SSD storage (PostgreSQL's
        # advice for it): at a few thousand rows the planner would otherwise read a small
        # table whole rather than look rows up, which it stops doing long before a
        # marketplace's size (make bench-scale shows the plans at a million disputes).
        cursor.execute("SET random_page_cost = 1.1")
    yield result.subjects
    with connection.cursor() as cursor:
        cursor.execute("RESET random_page_cost")


def _scans(client: Any, url: str) -> list[str]:
    """The sequential scans of large tables planned by the SELECTs of one request."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    found = []
    for query in queries.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        for table in seq_scans(sql, None, connection):
            found.append(f"{table}: {sql[:300]}")
    return found


def test_every_list_is_read_through_an_index(marketplace: dict[str, Any]) -> None:
    users = get_user_model().objects
    api: dict[str, APIClient] = {}
    for role, name in {
        "buyer": marketplace["buyer"],
        "mediator": marketplace["mediator"],
        **{f"owner_{size}": owner for size, owner in marketplace["owners"].items()},
    }.items():
        client = APIClient()
        client.force_authenticate(users.get(username=name))
        api[role] = client
    console = Client()
    console.force_login(users.get(username=marketplace["mediator"]))
    shop = Shop.objects.get(slug=next(iter(marketplace["shops"].values())))
    case = Dispute.objects.order_by("pk")[N // 2]

    # A deep page of the mediator's unfiltered list, by following the cursor.
    url = "/api/v1/disputes/"
    for _ in range(5):
        url = api["mediator"].get(url).json()["next"].split("testserver", 1)[1]

    requests: list[tuple[Any, str]] = [
        (api["buyer"], "/api/v1/disputes/"),
        (api["buyer"], "/api/v1/orders/"),
        *[(api[r], "/api/v1/disputes/") for r in api if r.startswith("owner_")],
        *[(api[r], "/api/v1/orders/") for r in api if r.startswith("owner_")],
        (api["mediator"], "/api/v1/disputes/"),
        (api["mediator"], url),
        (api["mediator"], "/api/v1/disputes/?state=escalated"),
        (api["mediator"], "/api/v1/disputes/?reason=wrong_item"),
        (api["mediator"], f"/api/v1/disputes/?shop={shop.slug}"),
        (api["mediator"], "/api/v1/disputes/?overdue=true"),
        (api["mediator"], "/api/v1/disputes/?assigned_to_me=true"),
        (api["mediator"], "/api/v1/disputes/?reported_conduct=true"),
        (api["mediator"], f"/api/v1/disputes/?order={marketplace['order']}"),
        (api["mediator"], "/api/v1/orders/"),
        (api["mediator"], "/api/v1/stats/"),
        (console, "/admin/mediation/dispute/?state__exact=escalated"),
        (console, f"/admin/mediation/dispute/?q={marketplace['search']}"),
        (console, f"/admin/mediation/dispute/?q=%23{case.pk}"),
        (console, f"/admin/mediation/dispute/?shop={shop.slug}"),
        (console, "/admin/mediation/dispute/?conduct=reported"),
        (console, f"/admin/mediation/dispute/{case.pk}/change/"),
        (console, "/admin/dashboard/"),
        (console, f"/admin/mediation/auditentry/?q=%23{case.pk}"),
        (console, "/admin/mediation/auditentry/"),
        (console, "/admin/"),
        (console, "/admin/mediation/dispute/?state__exact=all"),
        # A case's thread, timeline and audit trail: a page of each.
        (api["mediator"], f"/api/v1/disputes/{case.pk}/messages/"),
        (api["mediator"], f"/api/v1/disputes/{case.pk}/timeline/?page_size=2"),
        (api["mediator"], f"/api/v1/disputes/{case.pk}/audit/?page_size=2"),
    ]
    # The second page of the audit trail reads the entry before it, by (dispute, seq).
    second = api["mediator"].get(f"/api/v1/disputes/{case.pk}/audit/?page_size=2").json()["next"]
    if second is not None:
        requests.append((api["mediator"], second.split("testserver", 1)[1]))
    problems = {url: scans for client, url in requests if (scans := _scans(client, url))}
    assert problems == {}, "\n".join(f"{u}\n  " + "\n  ".join(s) for u, s in problems.items())


def test_a_search_in_message_words_reads_their_index(marketplace: dict[str, Any]) -> None:
    """The console's search in messages goes through the GIN index of their words
    (``message_body_words``), and a tracking number through its btree, never a scan."""
    from mediation.models import Message

    case = Dispute.objects.select_related("buyer").order_by("pk")[N // 3]
    Message.objects.create(
        dispute=case, author=case.buyer, author_role="buyer", body="Held at the Evri depot."
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE mediation_message")
    console = Client()
    console.force_login(get_user_model().objects.get(username=marketplace["mediator"]))
    for term, index in (("evri depot", "message_body_words"), ("1Z999AA1", "order_tracking")):
        with CaptureQueriesContext(connection) as queries:
            response = console.get("/admin/mediation/dispute/", {"q": term, "state__exact": "all"})
        assert response.status_code == 200
        if term == "evri depot":
            assert f"/admin/mediation/dispute/{case.pk}/change/" in response.content.decode()
        sql = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith("SELECT")]
        tables = ("mediation_message", "mediation_order", "mediation_fulfilment")
        assert [s for s in sql if seq_scans(s, None, connection, tables)] == []
        used = {n.get("Index Name") for s in sql for n in nodes(explain(s, None, connection))}
        assert index in used, (term, used)


def test_the_plan_reader_sees_a_sequential_scan(marketplace: dict[str, Any]) -> None:
    """The check above can fail: a condition no index serves is reported."""
    sql = "SELECT id FROM mediation_dispute WHERE description LIKE %s"
    assert seq_scans(sql, ["%crushed%"], connection) == ["mediation_dispute"]
    assert seq_scans("SELECT id FROM mediation_dispute WHERE id = %s", [1], connection) == []


def test_the_sweepers_feedback_pass_reads_its_partial_index(marketplace: dict[str, Any]) -> None:
    """Closed disputes are most of the table; the feedback reminders due are the few
    closed in the last two days (``dispute_feedback_due``)."""
    from django.utils import timezone

    from workflows import base, sweeper

    qs = (
        base.lockable_for_system()
        .filter(sweeper.due_feedback_reminders(timezone.now()))
        .order_by("feedback_due_at", "pk")[:200]
    )
    sql, params = qs.query.sql_with_params()
    assert seq_scans(sql, params, connection) == []


def test_the_message_limits_are_counted_through_indexes(marketplace: dict[str, Any]) -> None:
    """The quota reads the dispute's messages and the rate the writer's of the last minute
    (``message_author_recent``), never the whole table of messages."""
    from workflows import conversation

    dispute = Dispute.objects.exclude(state="closed").select_related("buyer").order_by("pk")[0]
    with CaptureQueriesContext(connection) as queries:
        conversation.post_message(dispute_id=dispute.pk, actor=dispute.buyer, body="Any news?")
    counted = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT") and "mediation_message" in q["sql"]
    ]
    assert counted, "the limits were not counted"
    tables = ("mediation_message",)
    assert [seq_scans(sql, None, connection, tables) for sql in counted] == [[]] * len(counted)
    used = {
        node.get("Index Name")
        for sql in counted
        if "COUNT(" in sql.upper()
        for node in nodes(explain(sql, None, connection))
    }
    assert "message_author_recent" in used, used


def _operations_rows() -> None:
    """What a marketplace's operations tables hold: three outbox events a dispute, nearly
    all relayed; a delivery and an attempt per event (months of them, a few waiting); an
    email per dispute, nearly all sent. The scrape reads only the few waiting or recent."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO mediation_outboxevent (id, dispute_id, audit_seq, type, action,
                from_state, to_state, payload, snapshot, internal, created_at, relayed_at,
                attempts, last_error)
            SELECT gen_random_uuid(), d.id, k, 'dispute.message', 'message', '', '', '{}',
                '{}', false, now() - (d.id % 2000) * interval '1 hour',
                CASE WHEN d.id % 1000 = 0 AND k = 1 THEN NULL ELSE now() END, 1, ''
            FROM mediation_dispute d, generate_series(1, 3) k
            """
        )
        cursor.execute(
            """
            INSERT INTO api_webhookendpoint (shop_id, url, events, description, secret,
                previous_secret, active, disabled_reason, consecutive_failures, created_at,
                updated_at)
            VALUES (NULL, 'https://hooks.example.com/mediation', '["*"]', '', 's', '', true,
                '', 0, now(), now())
            RETURNING id
            """
        )
        (endpoint,) = cursor.fetchone()
        cursor.execute(
            """
            INSERT INTO api_webhookdelivery (endpoint_id, event_id, event_type, status,
                attempts, round_attempts, next_attempt_at, body, last_error, created_at,
                updated_at)
            SELECT %s, e.id, e.type,
                CASE WHEN e.relayed_at IS NULL THEN 'pending' ELSE 'delivered' END, 1, 0,
                CASE WHEN e.relayed_at IS NULL THEN now() END, '', '', e.created_at,
                e.created_at
            FROM mediation_outboxevent e
            """,
            [endpoint],
        )
        cursor.execute(
            """
            INSERT INTO api_webhookattempt (delivery_id, number, started_at, succeeded,
                response_code, duration_ms, error, manual)
            SELECT id, 1, created_at, true, 200, 80, '', false FROM api_webhookdelivery
            """
        )
        cursor.execute(
            """
            INSERT INTO mediation_notification (event_id, user_id, kind, party, email,
                subject, status, error, attempts, created_at, sent_at, message_id,
                body_text, body_html, next_attempt_at)
            SELECT e.id, d.buyer_id, 'message', 'buyer', 'buyer@example.com', 'News',
                CASE WHEN e.relayed_at IS NULL THEN 'pending' ELSE 'sent' END, '', 1,
                e.created_at, e.created_at, '', '', '',
                CASE WHEN e.relayed_at IS NULL THEN now() END
            FROM mediation_outboxevent e JOIN mediation_dispute d ON d.id = e.dispute_id
            WHERE e.audit_seq = 1
            """
        )
        cursor.execute("ANALYZE")


def test_the_metrics_scrape_reads_through_indexes(
    marketplace: dict[str, Any], settings: Any
) -> None:
    """``GET /metrics`` every 15 s reads the outbox's backlog, the deliveries and emails
    waiting, the last minutes' webhook attempts and the open disputes due or overdue: each
    through the index made for it, never a whole table that grows with every change."""
    _operations_rows()
    settings.METRICS_TOKEN = "plans-token-0123456789abcdef"
    tables = (
        "mediation_dispute",
        "mediation_outboxevent",
        "mediation_notification",
        "api_webhookdelivery",
        "api_webhookattempt",
    )
    with CaptureQueriesContext(connection) as queries:
        response = Client().get(
            "/metrics", HTTP_AUTHORIZATION="Bearer plans-token-0123456789abcdef"
        )
    assert response.status_code == 200
    assert b"mediation_outbox_backlog 15.0" in response.content, response.content[:2000]
    selects = [
        q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")
    ]
    read = {table for sql in selects for table in tables if table in sql}
    assert read == set(tables), read
    problems = {
        sql[:300]: found for sql in selects if (found := seq_scans(sql, None, connection, tables))
    }
    assert problems == {}, problems

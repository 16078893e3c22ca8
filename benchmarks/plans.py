"""Reading PostgreSQL query plans: which large tables a query reads in full.

``seq_scans(sql, params, connection)`` runs ``EXPLAIN (FORMAT JSON)`` (the plan only, the
query is not executed) and names the tables the plan reads with a sequential scan, of
those given (by default :data:`LARGE_TABLES`, the ones that grow with the marketplace).
``connection`` is a Django connection (``django.db.connection``) or a psycopg one; the
query's placeholders are ``%s`` as both use. For the SQL a Django test client request ran,
capture it with ``django.test.utils.CaptureQueriesContext`` and pass ``params=None`` (the
captured text has its values inlined)::

    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/disputes/")
    for q in queries.captured_queries:
        assert seq_scans(q["sql"], None, connection) == []
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

LARGE_TABLES: tuple[str, ...] = (
    "mediation_dispute",
    "mediation_order",
    "mediation_auditentry",
    "auth_user",
    "mediation_orderitem",
)


def explain(sql: str, params: Sequence[Any] | None, connection: Any) -> dict[str, Any]:
    """The plan's top node (``EXPLAIN (FORMAT JSON)``, without ANALYZE)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        row = cursor.fetchone()
    document = row[0]
    if isinstance(document, str | bytes):
        document = json.loads(document)
    return document[0]["Plan"]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of a plan, its sub-plans (InitPlan, SubPlan) included."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def seq_scan_tables(plan: dict[str, Any], tables: Iterable[str] | None = None) -> list[str]:
    """The relations a plan reads with a (parallel or not) sequential scan, in plan order,
    restricted to ``tables`` when given."""
    wanted = set(tables) if tables is not None else None
    found = []
    for node in nodes(plan):
        if node.get("Node Type") != "Seq Scan":
            continue
        name = node.get("Relation Name", "")
        if wanted is None or name in wanted:
            found.append(name)
    return found


def seq_scans(
    sql: str,
    params: Sequence[Any] | None,
    connection: Any,
    tables: Iterable[str] | None = LARGE_TABLES,
) -> list[str]:
    """The tables of ``tables`` (all tables with ``None``) the query's plan reads with a
    sequential scan; empty when every one of them is read through an index."""
    return seq_scan_tables(explain(sql, params, connection), tables)

"""The console's audit entries list: each row names its case by number and the order's
marketplace id, and a search by either reads the entries of that case only."""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from mediation.models import AuditEntry
from tests.console.helpers import browser
from tests.scenarios import dispute_in, make_cast

AUDIT = "/admin/mediation/auditentry/"


def test_audit_rows_name_the_case_and_its_order(db: Any) -> None:
    cast = make_cast()
    first = dispute_in("under_review", cast=cast, order=cast.new_order(external_id="PP-4711"))
    second = dispute_in("escalated", cast=cast, order=cast.new_order(external_id="PP-4712"))
    client = browser(cast.mediator_agent)
    body = client.get(AUDIT).content.decode()
    link = f'<a href="/admin/mediation/dispute/{first.id}/change/">#{first.id} · PP-4711</a>'
    assert link in body
    assert f"#{second.id} · PP-4712" in body

    def cases(term: str) -> set[str]:
        page = client.get(AUDIT, {"q": term}).content.decode()
        return set(re.findall(r"#\d+ · (PP-\d+)</a>", page))

    assert cases(f"#{first.id}") == {"PP-4711"} == cases(str(first.id))
    assert cases("pp-4712") == {"PP-4712"}
    assert cases("PP-0000") == set()

    # The action filter lists the service's steps; choosing one shows its entries only.
    page = client.get(AUDIT, {"action": "escalate"}).content.decode()
    assert 'href="?action=request_info"' in page
    assert set(re.findall(r'class="field-action">([a-z_]+)<', page)) == {"escalate"}

    with CaptureQueriesContext(connection) as queries:
        client.get(AUDIT)
    entries = AuditEntry.objects.filter(dispute_id__in=[first.id, second.id]).count()
    assert entries > 4
    assert len(queries) < 12, [q["sql"][:100] for q in queries.captured_queries]

"""The thread, the timeline and the audit trail come a page at a time, like the disputes;
a bad cursor is a 400 on every list, and a page costs the same queries at any length."""

from __future__ import annotations

from base64 import b64encode
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mediation.models import AuditEntry, Message
from tests.pages import every, pages
from tests.scenarios import Scenario, as_user, dispute_in
from workflows import conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def unlimited(settings: Any) -> None:
    """Long threads written in a few seconds: no rate, no quota."""
    settings.MESSAGE_RATE_PER_MINUTE = 0
    settings.MESSAGE_MAX_PER_DISPUTE = 0


def thread(sc: Scenario, n: int, *, notes: int = 0) -> None:
    """``n`` messages, the buyer and the owner in turn, and ``notes`` internal notes."""
    for i in range(n):
        author = sc["owner"] if i % 2 else sc["buyer"]
        conversation.post_message(dispute_id=sc.id, actor=author, body=f"Message {i}")
    for i in range(notes):
        conversation.post_message(
            dispute_id=sc.id, actor=sc["mediator_agent"], body=f"Note {i}", internal=True
        )


def url(sc: Scenario, what: str, query: str = "") -> str:
    return f"/api/v1/disputes/{sc.id}/{what}/{query}"


# --- The thread -------------------------------------------------------------------------------


def test_the_thread_comes_in_pages_of_50_oldest_first(unlimited: None) -> None:
    sc = dispute_in("awaiting_seller")
    thread(sc, 120)
    client = as_user(sc["buyer"])
    first = client.get(url(sc, "messages")).json()
    assert set(first) == {"next", "previous", "results"}
    assert len(first["results"]) == 50 and first["previous"] is None
    found = pages(client, url(sc, "messages"))
    assert [len(p["results"]) for p in found] == [50, 50, 20]
    assert found[-1]["next"] is None
    bodies = [m["body"] for p in found for m in p["results"]]
    assert bodies == [f"Message {i}" for i in range(120)]
    # The previous link of the second page leads back to the first.
    back = client.get(found[1]["previous"]).json()
    assert back["results"] == first["results"]


def test_page_size_is_chosen_within_its_range(unlimited: None) -> None:
    sc = dispute_in("awaiting_seller")
    thread(sc, 130)
    client = as_user(sc["owner"])
    assert len(client.get(url(sc, "messages", "?page_size=7")).json()["results"]) == 7
    assert len(client.get(url(sc, "messages", "?page_size=100")).json()["results"]) == 100
    assert len(client.get(url(sc, "messages")).json()["results"]) == 50
    # Anything else is refused, not replaced by another size the client did not ask for.
    for bad in ("abc", "0", "-3", "101", "1000", "", "7.0", "null"):
        r = client.get(url(sc, "messages", f"?page_size={bad}"))
        assert (r.status_code, r.json()["code"], r.json()["field"]) == (400, "invalid", "page_size")
    r = client.get(url(sc, "messages", "?page_size=5&page_size=6"))
    assert (r.status_code, r.json()["detail"]) == (400, "Give page_size once.")


def test_internal_notes_are_left_out_of_the_parties_pages(unlimited: None) -> None:
    sc = dispute_in("escalated")
    thread(sc, 5, notes=3)
    buyer = every(as_user(sc["buyer"]), url(sc, "messages", "?page_size=2"))
    assert [m["body"] for m in buyer] == [f"Message {i}" for i in range(5)]
    mediator = every(as_user(sc["mediator_agent"]), url(sc, "messages", "?page_size=2"))
    assert [m["internal"] for m in mediator] == [False] * 5 + [True] * 3


# --- The timeline ---------------------------------------------------------------------------------


def test_the_timeline_comes_in_full_pages_in_order(unlimited: None) -> None:
    sc = dispute_in("escalated")
    thread(sc, 60, notes=30)
    client = as_user(sc["buyer"])
    found = pages(client, url(sc, "timeline"))
    # The mediators' notes are not in the parties' pages, and leave no short pages.
    sizes = [len(p["results"]) for p in found]
    assert all(size == 50 for size in sizes[:-1]) and sizes[-1] <= 50
    events = [e for p in found for e in p["results"]]
    visible = AuditEntry.objects.filter(dispute_id=sc.id).exclude(visibility="mediators")
    assert [e["seq"] for e in events] == list(visible.order_by("seq").values_list("seq", flat=True))
    assert "internal_note" not in {e["action"] for e in events}
    staff = every(as_user(sc["mediator_agent"]), url(sc, "timeline", "?page_size=100"))
    assert [e["seq"] for e in staff] == list(range(1, sc.refresh().audit_seq + 1))
    assert sum(e["action"] == "internal_note" for e in staff) == 30


# --- The audit trail ------------------------------------------------------------------------------


def test_the_audit_trail_comes_in_pages_each_verified(unlimited: None) -> None:
    sc = dispute_in("escalated")
    thread(sc, 70, notes=5)
    client = as_user(sc["owner"])
    found = pages(client, url(sc, "audit"))
    assert len(found) == 2 and {p["verified"] for p in found} == {True}
    assert set(found[0]) == {"next", "previous", "results", "verified", "broken_at", "problem"}
    seqs = [e["seq"] for p in found for e in p["results"]]
    assert seqs == list(range(1, sc.refresh().audit_seq + 1))
    notes = [e for p in found for e in p["results"] if e["action"] == "internal_note"]
    assert len(notes) == 5 and all(e["payload"] == {"redacted": True} for e in notes)


def _audit_pages(sc: Scenario, size: int = 10) -> list[dict[str, Any]]:
    return pages(as_user(sc["mediator_agent"]), url(sc, "audit", f"?page_size={size}"))


def _broken(found: list[dict[str, Any]]) -> list[tuple[int, int | None]]:
    return [(i, p["broken_at"]) for i, p in enumerate(found) if not p["verified"]]


def test_an_edited_entry_breaks_its_page(unlimited: None, tamper: None) -> None:
    sc = dispute_in("escalated")
    thread(sc, 30)
    AuditEntry.objects.filter(dispute_id=sc.id, seq=15).update(payload={"body": "forged"})
    assert _broken(_audit_pages(sc)) == [(1, 15)]


def test_an_entry_deleted_between_pages_breaks_the_next_page(unlimited: None, tamper: None) -> None:
    sc = dispute_in("escalated")
    thread(sc, 30)
    AuditEntry.objects.filter(dispute_id=sc.id, seq=11).delete()
    found = _audit_pages(sc)
    assert found[0]["results"][-1]["seq"] == 10 and found[1]["results"][0]["seq"] == 12
    assert _broken(found) == [(1, 11)]
    assert found[1]["problem"] == "entry 11 is missing"


def test_a_deleted_first_entry_or_tail_is_found(unlimited: None, tamper: None) -> None:
    sc = dispute_in("escalated")
    thread(sc, 30)
    head = sc.refresh().audit_seq
    AuditEntry.objects.filter(dispute_id=sc.id, seq=head).delete()
    found = _audit_pages(sc)
    assert _broken(found) == [(len(found) - 1, head)]
    AuditEntry.objects.filter(dispute_id=sc.id, seq=1).delete()
    found = _audit_pages(sc)
    assert _broken(found)[0] == (0, 1)


def test_every_page_of_an_intact_chain_verifies(unlimited: None) -> None:
    sc = dispute_in("escalated")
    thread(sc, 25)
    for size in (1, 7, 10, 100):
        found = _audit_pages(sc, size)
        assert all(p["verified"] and p["broken_at"] is None for p in found), size
    # Walking back from the last page verifies each page too.
    last = _audit_pages(sc, 7)[-1]
    client = as_user(sc["mediator_agent"])
    back = client.get(last["previous"]).json()
    assert back["verified"] is True and back["next"] is not None


# --- Bad cursors ----------------------------------------------------------------------------------


def _cursor(raw: str) -> str:
    return b64encode(raw.encode()).decode()


BAD_CURSORS = {
    "garbage": "!!!not-base64",
    "not a number": _cursor("p=abc"),
    "offset not a number": _cursor("o=x&p=3"),
    "huge position": _cursor("p=" + "9" * 40),
    "not ascii": "curs\u00f6r",
}


@pytest.mark.parametrize("cursor", list(BAD_CURSORS), ids=list(BAD_CURSORS))
@pytest.mark.parametrize("what", ["messages", "timeline", "audit", "disputes", "orders"])
def test_a_bad_cursor_is_400_invalid(what: str, cursor: str) -> None:
    sc = dispute_in("awaiting_seller")
    path = f"/api/v1/{what}/" if what in ("disputes", "orders") else url(sc, what)
    r = as_user(sc["buyer"]).get(path, {"cursor": BAD_CURSORS[cursor]})
    assert r.status_code == 400, r.content
    assert r["Content-Type"] == "application/problem+json"
    assert (r.json()["code"], r.json()["field"]) == ("invalid", "cursor")


def test_a_cursor_past_the_end_is_an_empty_page(unlimited: None) -> None:
    sc = dispute_in("awaiting_seller")
    thread(sc, 3)
    last = Message.objects.filter(dispute_id=sc.id).order_by("-id").first()
    assert last is not None
    r = as_user(sc["buyer"]).get(url(sc, "messages"), {"cursor": _cursor(f"p={last.pk}")})
    assert r.status_code == 200
    assert r.json()["results"] == [] and r.json()["next"] is None


# --- Bounded cost -------------------------------------------------------------------------------


def _queries(client: Any, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize("what", ["messages", "timeline", "audit"])
@pytest.mark.parametrize("who", ["buyer", "mediator_agent"])
def test_a_page_costs_the_same_queries_for_a_short_and_a_long_thread(
    unlimited: None, what: str, who: str
) -> None:
    short, long = dispute_in("escalated"), dispute_in("escalated")
    thread(short, 3)
    thread(long, 150, notes=20)
    for sc in (short, long):
        as_user(sc[who]).get(url(sc, what))  # warm the per-user caches
    assert _queries(as_user(short[who]), url(short, what)) == _queries(
        as_user(long[who]), url(long, what)
    )
    # And the second page of the long one as many again (the audit trail reads the hash
    # of the entry before the page: one more).
    second = as_user(long[who]).get(url(long, what)).json()["next"]
    extra = 1 if what == "audit" else 0
    assert _queries(as_user(long[who]), second) == (
        _queries(as_user(long[who]), url(long, what)) + extra
    )

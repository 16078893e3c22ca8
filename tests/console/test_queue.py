"""The dispute list as a work queue: columns, filters, search, ordering, query count."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from console.case import humanize
from mediation.models import Dispute
from tests.console.helpers import QUEUE, browser
from tests.scenarios import dispute_in, make_cast, make_overdue, raise_dispute
from workflows.review import awaiting_approval_by
from workflows.transitions import allowed_actions


def _rows(body: str) -> list[int]:
    """Dispute ids in the order the queue lists them."""
    return [int(pk) for pk in re.findall(r'href="/admin/mediation/dispute/(\d+)/change/', body)]


def test_columns_show_reason_shop_amount_state_time_left_and_assignee(db: Any) -> None:
    sc = dispute_in("under_review")
    overdue = dispute_in("escalated", cast=None)
    make_overdue(overdue.dispute, by=timedelta(hours=2, minutes=5))
    body = browser(sc["mediator_agent"]).get(QUEUE).content.decode()
    for header in (
        "Case",
        "Reason",
        "Shop",
        "Buyer",
        "Amount",
        "State",
        "Time left",
        "Assignee",
    ):
        assert f">{header}<" in body or f">{header}</a>" in body, header
    assert "Damaged or defective" in body and "Paper Petals" in body
    # The requested full refund: 240.00 + 10.00 shipping.
    assert re.search(r"250.00 USD <small[^>]*>requested</small>", body)
    assert "Under review" in body and sc["mediator_agent"].get_username() in body
    assert re.search(r'class="console-overdue sla sla-breached"[^>]*>overdue 2 h 5 min<', body)
    # The 48 h SLA, not overdue and more than a quarter of it left: on track.
    assert re.search(r'field-deadline"><span class="sla sla-on-track" [^>]*>(1 d 23 h|2 d)<', body)


def test_humanized_time() -> None:
    assert humanize(timedelta(hours=3, minutes=12, seconds=30)) == "3 h 12 min"
    assert humanize(timedelta(days=2, hours=5)) == "2 d 5 h"
    assert humanize(timedelta(minutes=7)) == "7 min"
    assert humanize(timedelta(seconds=20)) == "< 1 min"
    assert humanize(timedelta(hours=2)) == "2 h"


def test_ordered_by_deadline_nulls_last(db: Any) -> None:
    cast = make_cast()
    closed = dispute_in("closed", outcome="withdrawn", cast=cast)
    late = raise_dispute(cast, order=cast.new_order())
    early = raise_dispute(cast, order=cast.new_order())
    Dispute.objects.filter(pk=early.pk).update(respond_by=timezone.now() + timedelta(hours=1))
    Dispute.objects.filter(pk=late.pk).update(respond_by=timezone.now() + timedelta(hours=9))
    everything = browser(cast.mediator_agent).get(f"{QUEUE}?state__exact=all").content.decode()
    rows = _rows(everything)
    assert rows.index(early.pk) < rows.index(late.pk) < rows.index(closed.id)
    # Open cases by default: the closed one is behind the state filter.
    page = browser(cast.mediator_agent).get(QUEUE).content.decode()
    assert _rows(page) == [early.pk, late.pk]
    closed_only = browser(cast.mediator_agent).get(f"{QUEUE}?state__exact=closed")
    assert _rows(closed_only.content.decode()) == [closed.id]
    # The sort is shown where it is: "Time left" first, the case number second.
    assert re.search(r'class="sortable column-deadline sorted ascending"', page)
    priority = r'column-deadline.*?<span class="sortpriority" title="[^"]*">1</span>'
    assert re.search(priority, page, re.S)
    assert "<h1>Disputes</h1>" in page and "Select dispute" not in page


def test_filters_and_search(db: Any) -> None:
    cast = make_cast()
    mine = dispute_in("under_review", cast=cast, order=cast.new_order(external_id="PP-MINE"))
    queued = dispute_in("escalated", cast=cast, order=cast.new_order(external_id="PP-QUEUED"))
    waiting = raise_dispute(cast, order=cast.new_order(external_id="PP-WAIT"))
    make_overdue(queued.dispute)
    client = browser(cast.mediator_agent)

    def ids(query: str) -> set[int]:
        response = client.get(f"{QUEUE}?{query}")
        assert response.status_code == 200, query
        return set(_rows(response.content.decode()))

    assert ids("assigned=me") == {mine.id}
    assert ids("assigned=none") == {queued.id}
    assert ids("overdue=yes") == {queued.id}
    assert waiting.pk in ids("overdue=no")
    assert ids("state__exact=awaiting_seller") == {waiting.pk}
    assert ids(f"shop={cast.other_shop.slug}") == set()
    assert ids(f"shop={cast.shop.slug}") == {mine.id, queued.id, waiting.pk}
    assert ids("reason__exact=damaged_or_defective") == {mine.id, queued.id, waiting.pk}
    assert ids("q=PP-QUEUED") == {queued.id}
    assert ids(f"q={cast.buyer.get_username()}") == {mine.id, queued.id, waiting.pk}
    assert ids("q=Paper+Petals") == {mine.id, queued.id, waiting.pk}
    assert ids("q=Inkwell") == set()


def test_search_finds_tracking_numbers_sellers_and_message_words(db: Any) -> None:
    from mediation.models import Fulfilment, Message, Order

    cast = make_cast()
    shipped = dispute_in("escalated", cast=cast, order=cast.new_order(external_id="PP-SHIP"))
    Order.objects.filter(pk=shipped.dispute.order_id).update(tracking_number="1Z999AA10123456784")
    talked = dispute_in("under_review", cast=cast, order=cast.new_order(external_id="PP-TALK"))
    Message.objects.create(
        dispute_id=talked.id,
        author=cast.buyer,
        author_role="buyer",
        body="The parcel came back to the Hermes depot in Leeds.",
    )
    returned = dispute_in("awaiting_buyer", cast=cast, order=cast.new_order(external_id="PP-RET"))
    Fulfilment.objects.create(
        dispute_id=returned.id,
        kind="return_shipment",
        tracking_number="RR123456785GB",
        recorded_by=cast.buyer,
    )
    other = dispute_in("escalated", cast=None)  # another shop, another buyer
    client = browser(cast.mediator_agent)

    def ids(term: str) -> set[int]:
        response = client.get(QUEUE, {"q": term, "state__exact": "all"})
        assert response.status_code == 200, term
        return set(_rows(response.content.decode()))

    assert ids(f"#{shipped.id}") == {shipped.id} == ids(str(shipped.id))
    assert ids("1Z999AA10123456784") == {shipped.id}
    assert ids("RR123456785GB") == {returned.id}
    assert ids("hermes depot") == {talked.id}
    assert ids("Hermes Leeds") == {talked.id}  # every word, in any order
    assert ids("hermes paris") == set()
    # A shop member's user name finds their shop's cases; a buyer's their own.
    everyone = {shipped.id, talked.id, returned.id}
    assert ids(cast.agent.get_username()) == everyone
    assert other.id not in ids(cast.agent.get_username())
    assert ids(cast.owner.email.upper()) == everyone


def test_waiting_for_my_approval_matches_allowed_actions(db: Any) -> None:
    cast = make_cast(total=300000, shipping=0)
    by_agent = dispute_in("pending_approval", cast=cast, amount=50000)  # 500.00: a senior's
    big = dispute_in(
        "pending_approval",
        cast=cast,
        proposer="mediator_senior",
        order=cast.new_order(total=300000, shipping=0),
    )  # 3,000.00: only the lead
    other = dispute_in("under_review", cast=cast, order=cast.new_order())
    expected = {
        "mediator_agent": set(),
        "mediator_senior": {by_agent.id},
        "mediator_lead": {by_agent.id, big.id},
    }
    for name, ids in expected.items():
        user = cast[name]
        body = browser(user).get(f"{QUEUE}?approval=mine").content.decode()
        assert set(_rows(body)) == ids, name
        condition = awaiting_approval_by(user)
        assert condition is not None
        in_filter = set(Dispute.objects.filter(condition).values_list("pk", flat=True))
        for d in Dispute.objects.select_related("order").filter(
            pk__in=[by_agent.id, big.id, other.id]
        ):
            assert (d.pk in in_filter) == ("approve-ruling" in allowed_actions(d, user)), (
                name,
                d.pk,
            )
    assert awaiting_approval_by(cast.buyer) is None


def test_query_count_does_not_grow_with_the_rows(db: Any) -> None:
    cast = make_cast()
    dispute_in("under_review", cast=cast)
    client = browser(cast.mediator_agent)
    client.get(QUEUE)  # warm up (session, content types)

    def count(query: str = "") -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{QUEUE}{query}").status_code == 200
        return len(queries)

    one = {q: count(q) for q in ("", "?approval=mine", "?assigned=me&overdue=yes")}
    for _ in range(29):
        d = raise_dispute(cast, order=cast.new_order())
        if d.pk % 2:
            dispute_in("escalated", cast=cast, order=cast.new_order())
    assert Dispute.objects.count() >= 30
    many = {q: count(q) for q in one}
    assert many == one


def test_search_finds_a_case_by_number_order_email_and_shop(db: Any) -> None:
    cast = make_cast()
    target = dispute_in("escalated", cast=cast, order=cast.new_order(external_id="PP-7781"))
    other = raise_dispute(cast, order=cast.new_order(external_id="PP-7782"))
    cast.buyer.email = "Robin.Buyer@example.com"
    cast.buyer.save(update_fields=["email"])
    client = browser(cast.mediator_agent)

    def ids(term: str) -> set[int]:
        response = client.get(QUEUE, {"q": term})
        assert response.status_code == 200, term
        return set(_rows(response.content.decode()))

    assert ids(str(target.id)) == {target.id}
    assert ids(f"#{target.id}") == {target.id}
    assert ids(f" #{target.id} ") == {target.id}
    assert ids("PP-7781") == {target.id}
    assert ids("pp-7782") == {other.pk}  # the marketplace's ids are upper case
    assert ids("robin.buyer@EXAMPLE.com") == {target.id, other.pk}
    assert ids(cast.shop.slug) == {target.id, other.pk}
    assert ids("petals") == {target.id, other.pk}  # part of the shop's name
    assert ids("#999999999") == set()
    assert ids("99999999999999999999999") == set()  # too long for a case number
    assert ids("nobody-at-all") == set()


def test_queue_does_not_list_every_shop(db: Any) -> None:
    """The shop filter is a box to type a slug in: a marketplace's 20,000 shops are not
    written into every page of the queue."""
    from mediation.models import Shop

    cast = make_cast()
    dispute_in("escalated", cast=cast)
    Shop.objects.bulk_create([Shop(slug=f"bulk-{i}", name=f"Bulk shop {i}") for i in range(200)])
    body = browser(cast.mediator_agent).get(QUEUE).content.decode()
    assert "Bulk shop" not in body and "bulk-17" not in body
    assert 'name="shop"' in body  # the box
    filtered = browser(cast.mediator_agent).get(
        QUEUE, {"shop": cast.shop.slug, "state__exact": "escalated"}
    )
    page = filtered.content.decode()
    assert f'value="{cast.shop.slug}"' in page
    # The other filters are kept when a shop is typed in.
    assert 'type="hidden" name="state__exact" value="escalated"' in page


def test_the_count_is_bounded(db: Any, monkeypatch: Any) -> None:
    from console.admin import BoundedCountPaginator

    cast = make_cast()
    for _ in range(4):
        raise_dispute(cast, order=cast.new_order())
    client = browser(cast.mediator_agent)
    assert "4 disputes" in client.get(QUEUE).content.decode()
    monkeypatch.setattr(BoundedCountPaginator, "COUNT_LIMIT", 3)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(QUEUE).content.decode()
    assert "More than 3 disputes" in body
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 4" in sql for sql in counts), counts


def test_the_demo_data_has_an_overdue_case_in_the_queue(demo: dict[str, Any]) -> None:
    """The README's demo data and its screenshot agree: the Overdue filter shows a case."""
    client = browser(demo["mia_agent"])
    overdue = _rows(client.get(f"{QUEUE}?overdue=yes").content.decode())
    assert len(overdue) == 1
    case = Dispute.objects.select_related("order").get(pk=overdue[0])
    assert (case.order.external_id, case.state) == ("IW-2001", "escalated")
    assert 'class="console-overdue sla sla-breached"' in client.get(QUEUE).content.decode()

"""The console in Chromium, as two mediators use it: an agent finds an overdue case, takes it
and rules beyond her authority; a senior finds it waiting for approval and approves; the
dashboard draws its charts. Screenshots of each step go to ``test-artifacts/browser/``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from demo.seed import PASSWORD, seed
from demo.tour import (
    TOUR_ORDER,
    TOUR_RULING,
    PageProblems,
    log_in,
    new_context,
    prepare_overdue_dispute,
    settle,
    shoot,
)
from mediation.models import Dispute

QUEUE = "/admin/mediation/dispute/"
CHARTS = 11


def test_agent_rules_beyond_authority_senior_approves_dashboard_draws(
    transactional_db: Any, live_server: Any, chromium: Any, artifacts: Path
) -> None:
    seed()
    dispute = prepare_overdue_dispute()
    assert dispute.state == "escalated" and dispute.order.total == 24000
    case_link = f"#{dispute.pk} · {TOUR_ORDER}"
    base = live_server.url
    problems = PageProblems()

    # --- mia_agent (authority 100.00 USD)
    mia = new_context(chromium)
    page = problems.watch(mia.new_page())
    log_in(page, base, "mia_agent", PASSWORD)
    shoot(page, artifacts / "01-mia-console-home.png")
    # The admin's own CSS is served (a styled page has the header's colour, not black).
    assert page.evaluate(
        "getComputedStyle(document.getElementById('header')).backgroundColor"
    ) not in {"rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"}

    page.locator("#mediation-dispute").get_by_role("link", name="Disputes", exact=True).click()
    page.wait_for_selector("#changelist #result_list")
    page.locator("#changelist-filter").get_by_role("link", name="Overdue", exact=True).click()
    page.wait_for_url(re.compile(r"[?&]overdue=yes"))
    rows = page.locator("#result_list tbody tr")
    assert rows.count() >= 1
    assert rows.filter(has_text=TOUR_ORDER).count() == 1
    assert "overdue" in rows.filter(has_text=TOUR_ORDER).inner_text()
    shoot(page, artifacts / "02-mia-queue-overdue.png")

    page.get_by_role("link", name=case_link).click()
    page.wait_for_selector("#case-summary")
    assert page.locator("#content-main").get_attribute("data-state") == "escalated"
    shoot(page, artifacts / "03-mia-case.png")

    page.click('form.console-action[data-action="assign"] input[name="_submit"]')
    page.wait_for_selector(".messagelist .success")
    assert "Assigned to mia_agent" in page.inner_text(".messagelist")
    page.wait_for_selector('#content-main[data-state="under_review"]')
    shoot(page, artifacts / "04-mia-assigned.png")

    page.select_option("#id_rule_kind", "full_refund")
    page.fill("#id_rule_amount", TOUR_RULING)
    page.select_option("#id_rule_funded_by", "seller")
    page.fill(
        "#id_rule_rationale", "The listing's photos show a far larger bouquet; refund in full."
    )
    page.click('form.console-action[data-action="rule"] input[name="_submit"]')
    page.wait_for_selector(".messagelist .warning")
    assert "pending approval" in page.inner_text(".messagelist")
    page.wait_for_selector('#content-main[data-state="pending_approval"]')
    assert "240.00" in page.inner_text("#case-pending-ruling")
    shoot(page, artifacts / "05-mia-pending-approval.png")
    mia.close()

    # --- sam_senior (authority 1,000.00 USD)
    sam = new_context(chromium)
    page = problems.watch(sam.new_page())
    log_in(page, base, "sam_senior", PASSWORD)
    page.goto(f"{base}{QUEUE}")
    page.locator("#changelist-filter").get_by_role(
        "link", name="Waiting for my approval", exact=True
    ).click()
    page.wait_for_url(re.compile(r"[?&]approval=mine"))
    assert page.locator("#result_list tbody tr").filter(has_text=TOUR_ORDER).count() == 1
    shoot(page, artifacts / "06-sam-waiting-for-approval.png")

    page.get_by_role("link", name=case_link).click()
    page.wait_for_selector('#content-main[data-state="pending_approval"]')
    page.click('form.console-action[data-action="approve-ruling"] input[name="_submit"]')
    page.wait_for_selector(".messagelist .success")
    assert "Ruling approved" in page.inner_text(".messagelist")
    page.wait_for_selector('#content-main[data-state="awaiting_fulfilment"]')
    assert "awaiting_fulfilment" in page.inner_text("#case-summary")
    shoot(page, artifacts / "07-sam-approved.png")
    dispute.refresh_from_db()
    assert (dispute.state, dispute.agreed_amount) == ("awaiting_fulfilment", 24000)

    # --- The dashboard draws every chart from the local Chart.js
    page.goto(f"{base}/admin/")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    page.wait_for_selector(f'#dashboard[data-charts-ready="{CHARTS}"]')
    settle(page)
    assert page.evaluate("typeof window.Chart") == "function"
    sizes = page.eval_on_selector_all(
        ".dashboard-chart canvas:not([hidden])", "els => els.map(c => [c.id, c.width, c.height])"
    )
    empty = page.evaluate("window.mediationDashboard.empty")
    assert len(sizes) + len(empty) == CHARTS
    assert len(sizes) >= 8, empty  # the demo data fills nearly every chart
    assert all(w > 0 and h > 0 for _, w, h in sizes), sizes
    assert page.locator(".chart-empty").count() == len(empty)
    shoot(page, artifacts / "08-sam-dashboard.png", full_page=True)
    sam.close()

    assert problems.errors == []
    assert Dispute.objects.get(pk=dispute.pk).state == "awaiting_fulfilment"


def test_a_dashboard_without_data_says_so_on_every_chart(
    transactional_db: Any, live_server: Any, chromium: Any, artifacts: Path
) -> None:
    from tests.factories import MediatorProfileFactory

    mediator: Any = MediatorProfileFactory().user
    mediator.set_password(PASSWORD)
    mediator.save()
    problems = PageProblems()
    context = new_context(chromium)
    page = problems.watch(context.new_page())
    log_in(page, live_server.url, mediator.get_username(), PASSWORD)
    page.goto(f"{live_server.url}/admin/dashboard/")
    page.wait_for_selector(f'#dashboard[data-charts-ready="{CHARTS}"]')
    assert page.get_attribute("#dashboard", "data-charts-empty") == str(CHARTS)
    assert page.locator(".chart-empty").count() == CHARTS
    assert page.locator(".dashboard-chart canvas:not([hidden])").count() == 0
    assert "No data for this period yet." in page.inner_text("#dashboard")
    shoot(page, artifacts / "empty-dashboard.png", full_page=True)
    context.close()
    assert problems.errors == []

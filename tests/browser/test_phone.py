"""The console on a 390 px phone (an iPhone 12's CSS width): no page scrolls sideways, and
each case of the queue shows its state, time left and assignee in view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from demo.seed import PASSWORD, seed
from demo.tour import PageProblems, log_in, settle, shoot
from mediation.models import Dispute

PHONE = {"width": 390, "height": 844}
WIDER = """(() => {
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > 391) out.push(e.tagName + '.' + e.className);
  }
  return [document.documentElement.scrollWidth, out.slice(0, 5)];
})()"""


def test_the_console_fits_a_phone(
    transactional_db: Any, live_server: Any, chromium: Any, artifacts: Path
) -> None:
    seed()
    case = Dispute.objects.exclude(state="closed").order_by("pk").first()
    assert case is not None
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    problems = PageProblems()
    page = problems.watch(context.new_page())
    log_in(page, live_server.url, "sam_senior", PASSWORD)
    pages = {
        "home": "/admin/",
        "queue": "/admin/mediation/dispute/",
        "case": f"/admin/mediation/dispute/{case.pk}/change/",
        "dashboard": "/admin/dashboard/",
        "state-machine": "/admin/state-machine/",
    }
    for name, url in pages.items():
        page.goto(f"{live_server.url}{url}")
        settle(page)
        width, wider = page.evaluate(WIDER)
        assert (width, wider) == (PHONE["width"], []), name
        shoot(page, artifacts / f"{name}.png", full_page=True)
        if name == "queue":
            rows = page.locator("#result_list tbody tr")
            assert rows.count() >= 6
            for row in range(rows.count()):
                for field in ("state", "deadline", "assignee"):
                    cell = rows.nth(row).locator(f"td.field-{field}")
                    box = cell.bounding_box()
                    assert box is not None and cell.is_visible(), (row, field)
                    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (row, field)
            # Each value is labelled (the table's headings are hidden on a phone).
            label = rows.first.locator("td.field-deadline").evaluate(
                "td => getComputedStyle(td, '::before').content"
            )
            assert label == '"Time left"'
            assert not page.locator("#result_list thead").is_visible()
    context.close()
    assert problems.errors == []

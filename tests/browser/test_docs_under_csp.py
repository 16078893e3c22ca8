"""The API docs (Swagger UI, Redoc) and the console's login in Chromium under the
Content-Security-Policy the service sends: each page works, and the browser reports no
violation of the policy (a blocked script or style would be one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from demo.seed import PASSWORD, seed
from demo.tour import PageProblems, log_in, new_context, shoot

VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def _page(chromium: Any, problems: PageProblems) -> Any:
    context = new_context(chromium)
    context.add_init_script(VIOLATIONS)
    return problems.watch(context.new_page())


def test_swagger_ui_and_redoc_work_under_the_policy(
    live_server: Any, chromium: Any, artifacts: Path
) -> None:
    problems = PageProblems()
    page = _page(chromium, problems)
    response = page.goto(f"{live_server.url}/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Marketplace dispute mediation API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-tag-section")
    assert page.locator(".opblock").count() > 10
    shoot(page, artifacts / "01-swagger-ui.png")
    assert page.evaluate("window.__cspViolations") == []

    response = page.goto(f"{live_server.url}/api/redoc/")
    assert "'nonce-" in response.headers["content-security-policy"]
    page.wait_for_selector("#redoc-container h1")
    assert "Marketplace dispute mediation API" in page.inner_text("#redoc-container h1")
    page.wait_for_selector("#redoc-container [data-section-id]")
    shoot(page, artifacts / "02-redoc.png")
    # Redoc's footer logo, which its bundle takes from Redocly's CDN, comes from static
    # (api/docs.py): nothing is refused, nothing fails to load.
    page.wait_for_selector("img[alt='redocly logo']")
    assert page.evaluate("window.__cspViolations") == []
    assert problems.errors == []


def test_the_console_logs_in_under_the_policy(
    transactional_db: Any, live_server: Any, chromium: Any, artifacts: Path
) -> None:
    seed()
    problems = PageProblems()
    page = _page(chromium, problems)
    log_in(page, live_server.url, "mia_agent", PASSWORD)
    page.goto(f"{live_server.url}/admin/mediation/dispute/")
    page.wait_for_selector("#changelist #result_list")
    page.locator("#result_list tbody tr a").first.click()
    page.wait_for_selector("#case-summary")
    shoot(page, artifacts / "01-case.png")
    assert page.evaluate("window.__cspViolations") == []
    assert problems.errors == []

"""The console in a real browser: Debian's Chromium driven by Playwright.

Shared by the browser tests (``tests/browser/``) and ``manage.py console_screenshots`` (the
README's pictures). Playwright is a development dependency and is imported only when a
browser is launched; its own browser downloads are never used (no ``playwright install``):
the browser is the distribution's ``/usr/bin/chromium`` (``apt-get install chromium``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from mediation.models import Dispute, Order
from workflows import transitions as t

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Page,
        Playwright,
        Request,
        Response,
    )

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Headless, and nothing that phones home: the closed network refuses a browser that tries.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
# The demo order the tour's dispute is about: 240.00 USD, no dispute in the demo data.
TOUR_ORDER = "PP-1001"
TOUR_RULING = "240.00"


def chromium_missing() -> str | None:
    """Why the browser cannot run here, or None when it can."""
    if not os.access(CHROMIUM, os.X_OK):
        return (
            f"Chromium is not installed at {CHROMIUM} "
            "(Debian: apt-get install chromium chromium-driver)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return (
            "the playwright package is not installed (pip install -c requirements.lock -e '.[dev]')"
        )
    return None


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@transaction.atomic
def prepare_overdue_dispute() -> Dispute:
    """The tour's case, on top of the demo data (``demo.seed.seed``): alice disputes
    order PP-1001 (240.00 USD), the shop contests, alice escalates, and the platform's
    deadline has passed. Made through the lifecycle services; only ``respond_by`` is moved
    into the past (as if the escalation were three hours older than the deadline)."""
    existing = Dispute.objects.filter(order__external_id=TOUR_ORDER).first()
    if existing is not None:
        return existing
    users = get_user_model().objects.in_bulk(["alice", "petals_owner"], field_name="username")
    order = Order.objects.get(external_id=TOUR_ORDER)
    dispute = t.raise_dispute(
        actor=users["alice"],
        order_id=order.pk,
        reason="not_as_described",
        requested_outcome="full_refund",
        description="The bouquet is half the size shown in the listing's photos.",
    ).dispute
    t.contest(
        dispute_id=dispute.pk,
        actor=users["petals_owner"],
        statement="The listing gives the size: 45 cm tall, as delivered.",
    )
    t.escalate(
        dispute_id=dispute.pk,
        actor=users["alice"],
        reason="buyer_request",
        note="Please compare the photos with what arrived.",
    )
    Dispute.objects.filter(pk=dispute.pk).update(respond_by=timezone.now() - timedelta(hours=3))
    dispute.refresh_from_db()
    return dispute


@dataclass
class PageProblems:
    """What went wrong in the browser: console errors, uncaught exceptions, failed loads."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: uncaught {exc}"))
        page.on("response", self._response)
        page.on("requestfailed", self._failed)
        return page

    def _failed(self, request: Request) -> None:
        # A load the browser gave up because the page moved on (a click that navigates
        # while an icon is still loading) is no fault of the page.
        if request.failure and "ERR_ABORTED" in request.failure:
            return
        self.errors.append(f"{request.url}: {request.failure}")

    def _console(self, message: ConsoleMessage) -> None:
        url = message.location.get("url") or ""
        if message.type == "error":
            self.errors.append(f"console error on {url}: {message.text}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.errors.append(f"{response.url}: HTTP {response.status}")


def new_context(browser: Browser) -> BrowserContext:
    """A fresh browser profile (its own cookies) at 1280x800; a step waits at most 15 s."""
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    return context


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    """The console's login form, as a person fills it; waits for the console's home."""
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-form input[type=submit]")
    page.wait_for_selector("#console-insights")


def hide_nav_sidebar(page: Page) -> None:
    """Collapse the admin's model list on the left (remembered by the browser profile)."""
    if page.is_visible("#nav-sidebar"):
        page.click("#toggle-nav-sidebar")
        page.wait_for_selector("#nav-sidebar", state="hidden")
    page.evaluate("window.scrollTo(0, 0)")


def shoot(page: Page, path: Path, *, full_page: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path


def settle(page: Page) -> Any:
    """Wait until the page and what it loads are done (no sleeps)."""
    return page.wait_for_load_state("networkidle")

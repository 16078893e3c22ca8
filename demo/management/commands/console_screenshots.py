"""``manage.py console_screenshots``: the README's pictures of the console, regenerated.

Runs in a throw-away database (``test_<name>`` of ``DATABASE_URL``, in memory for SQLite)
with the demo data and the browser tests' overdue case (order PP-1001), serves the console
from a thread, and photographs it in Debian's headless Chromium (through Playwright) at
1280x800::

    .venv/bin/python manage.py console_screenshots --out docs/console/

writes ``queue.png`` (mia_agent's queue, overdue case on top), ``case.png`` (sam_senior on a
ruling of mia_agent's that waits for his approval) and ``dashboard.png``.
"""

from __future__ import annotations

import os
import struct
import warnings
import zlib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test.testcases import LiveServerThread
from django.test.utils import override_settings

from demo.seed import PASSWORD, seed
from demo.tour import (
    TOUR_ORDER,
    PageProblems,
    chromium_missing,
    hide_nav_sidebar,
    launch,
    log_in,
    new_context,
    prepare_overdue_dispute,
    settle,
    shoot,
)
from workflows import transitions as t

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def recompress_png(path: Path) -> None:
    """Re-deflate a PNG's image data at the highest zlib level (the browser favours speed);
    the pixels are unchanged."""
    data = path.read_bytes()
    if not data.startswith(PNG_SIGNATURE):
        raise CommandError(f"{path} is not a PNG.")
    chunks: list[tuple[bytes, bytes]] = []
    pos = len(PNG_SIGNATURE)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunks.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    image = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    out = [PNG_SIGNATURE]
    idat_written = False
    for kind, body in chunks:
        if kind != b"IDAT":
            out.append(_chunk(kind, body))
        elif not idat_written:  # all image data in one chunk, where the first one was
            out.append(_chunk(b"IDAT", zlib.compress(image, 9)))
            idat_written = True
    smaller = b"".join(out)
    if len(smaller) < len(data):
        path.write_bytes(smaller)


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


class Command(BaseCommand):
    help = "Photograph the console (queue, case view, dashboard) for the README."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", default="docs/console", help="Folder for the PNG files.")

    def handle(self, *args: Any, **options: Any) -> None:
        missing = chromium_missing()
        if missing is not None:
            raise CommandError(f"Cannot take screenshots: {missing}.")
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        old_name = connection.settings_dict["NAME"]
        # The console's assets come from the apps' static folders here, not collectstatic's.
        warnings.filterwarnings("ignore", "No directory at", UserWarning)
        self.stderr.write("Creating a throw-away database with the demo data ...")
        with override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "localhost"],
            OUTBOX_RELAY_ON_COMMIT=False,
            # The throw-away server speaks plain HTTP on localhost, whatever the settings
            # of a deployment would redirect to.
            SECURE_SSL_REDIRECT=False,
            SESSION_COOKIE_SECURE=False,
            CSRF_COOKIE_SECURE=False,
        ):
            connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
            try:
                seed()
                prepare_overdue_dispute()
                written = self._photograph(out)
            finally:
                connection.close()
                connection.creation.destroy_test_db(old_name, verbosity=0)
        for path in written:
            recompress_png(path)
            self.stdout.write(f"{path} ({path.stat().st_size // 1024} KiB)")

    def _photograph(self, out: Path) -> list[Path]:
        from playwright.sync_api import sync_playwright

        shared = {}
        conn = connections[DEFAULT_DB_ALIAS]
        if conn.vendor == "sqlite" and getattr(conn, "is_in_memory_db", bool)():
            # The server thread uses this connection: an in-memory database is per connection.
            conn.inc_thread_sharing()
            shared[DEFAULT_DB_ALIAS] = conn
        server = LiveServerThread(
            "localhost", StaticFilesHandler, connections_override=shared, port=0
        )
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise CommandError(f"The console did not start: {server.error}")
        base = f"http://localhost:{server.port}"
        problems = PageProblems()
        # Playwright's sync API keeps an event loop in this thread; the ORM calls made here
        # between pictures are synchronous.
        previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        try:
            with sync_playwright() as playwright:
                browser = launch(playwright)
                try:
                    return self._tour(browser, base, out, problems)
                finally:
                    # The connections opened here belong to Playwright's context: closed
                    # now, or PostgreSQL would refuse to drop the database afterwards.
                    connections.close_all()
                    browser.close()
        finally:
            if previous is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
            server.terminate()
            if shared:
                conn.dec_thread_sharing()
            if problems.errors:
                self.stderr.write("Browser problems:\n  " + "\n  ".join(problems.errors))

    def _tour(self, browser: Any, base: str, out: Path, problems: PageProblems) -> list[Path]:
        mia = new_context(browser)
        page = problems.watch(mia.new_page())
        log_in(page, base, "mia_agent", PASSWORD)
        page.goto(f"{base}/admin/mediation/dispute/")
        page.wait_for_selector("#result_list")
        hide_nav_sidebar(page)
        queue = shoot(page, out / "queue.png")
        mia.close()

        # mia_agent takes the case and rules beyond her authority (the services the buttons
        # run); sam_senior opens it to approve.
        dispute = prepare_overdue_dispute()
        agent = get_user_model().objects.get(username="mia_agent")
        t.assign(dispute_id=dispute.pk, actor=agent)
        t.rule(
            dispute_id=dispute.pk,
            actor=agent,
            kind="full_refund",
            amount=dispute.order.total,
            rationale="The listing's photos show a far larger bouquet; refund in full.",
        )
        sam = new_context(browser)
        page = problems.watch(sam.new_page())
        log_in(page, base, "sam_senior", PASSWORD)
        page.goto(f"{base}/admin/mediation/dispute/?approval=mine")
        hide_nav_sidebar(page)
        page.get_by_role("link", name=f"#{dispute.pk} · {TOUR_ORDER}").click()
        page.wait_for_selector('form.console-action[data-action="approve-ruling"]')
        case = shoot(page, out / "case.png")

        page.goto(f"{base}/admin/dashboard/")
        page.wait_for_selector('#dashboard[data-charts-ready="11"]')
        settle(page)
        # From the charts' second row: reasons, states, outcomes, resolved without us.
        page.evaluate(
            "window.scrollTo(0, document.getElementById('chart-by-reason')"
            ".closest('section').getBoundingClientRect().top + window.scrollY - 16)"
        )
        dashboard = shoot(page, out / "dashboard.png")
        sam.close()
        return [queue, case, dashboard]

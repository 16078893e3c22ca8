"""``make bench-scale SIZE=1m BASE=10k``: the time of every list the API and the console
serve, at two sizes of the same marketplace, side by side.

Builds or reuses ``mediation_scale_<BASE>`` and ``mediation_scale_<SIZE>``
(:mod:`benchmarks.scale`), starts one gunicorn per database with production settings (the
web command of ``manage.py serve``: its worker count, ``DJANGO_DEBUG=0``, a secret key,
throttles raised out of the way), and requests each list from the base then from the
large one, alternately, after a warm-up, ``--samples`` times (fewer when a list is so slow
that its ``--budget`` of seconds runs out; never fewer than ``--min-samples``). The users
and objects are picked by the same rule at both sizes (the shop at the median rank, the
buyer with three disputes, ...: see ``Generator`` in :mod:`benchmarks.scale`).

Then, in this process against the large database, it captures the SQL each list runs
(``django.test.Client`` as the same user) and reports the sequential scans of the large
tables in their plans (:func:`benchmarks.plans.seq_scans`), and it times
``manage.py verify_audit`` over the large database::

    .venv/bin/python manage.py bench_scale --size 1m --base 10k
    .venv/bin/python manage.py bench_scale --size 100k --samples 10 --skip-verify

Targets, printed next to the figures: p95 ratio large/base at most 1.5 for every list; the
dashboard and ``/api/v1/stats/`` at most 1 s at the large size; the console's queue page at
most 200 KB.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from benchmarks import scale
from benchmarks.plans import LARGE_TABLES, seq_scans
from demo.management.commands.serve import commands as serve_commands

DEFAULT_SERVER = os.environ.get("BENCH_SCALE_SERVER", "postgres://postgres@127.0.0.1:5432")
RATIO_TARGET = 1.5
SECONDS_TARGET = 1.0  # dashboard and /stats/ at the large size
QUEUE_BYTES_TARGET = 200 * 1024
DEEP_PAGES = 20


@dataclass
class Row:
    """One list: who asks (a token's user, or the console's mediator session) and the path
    at each size (``path(meta)``)."""

    what: str
    who: str  # a username with a token, or "console"
    path: Callable[[dict[str, Any]], str]
    seconds_target: bool = False
    bytes_target: bool = False


@dataclass
class Measured:
    times: dict[str, list[float]] = field(default_factory=lambda: {"a": [], "b": []})
    size: dict[str, int] = field(default_factory=lambda: {"a": 0, "b": 0})
    errors: dict[str, str] = field(default_factory=dict)


def rows() -> list[Row]:
    def subj(meta: dict[str, Any]) -> dict[str, Any]:
        return meta["dataset"]["subjects"]

    med = "mediator"
    api = "/api/v1/disputes/"
    return [
        Row("API disputes: buyer (3 disputes)", "buyer", lambda m: api),
        Row("API disputes: small shop owner", "owner:small", lambda m: api),
        Row("API disputes: median shop owner", "owner:median", lambda m: api),
        Row("API disputes: largest shop owner", "owner:largest", lambda m: api),
        Row("API disputes: mediator", med, lambda m: api),
        Row("API disputes: mediator ?state=escalated", med, lambda m: api + "?state=escalated"),
        Row("API disputes: mediator ?reason=wrong_item", med, lambda m: api + "?reason=wrong_item"),
        Row(
            "API disputes: mediator ?shop=<median shop>",
            med,
            lambda m: api + f"?shop={subj(m)['shops']['median']}",
        ),
        Row("API disputes: mediator ?overdue=true", med, lambda m: api + "?overdue=true"),
        Row(
            "API disputes: mediator ?assigned_to_me=true",
            med,
            lambda m: api + "?assigned_to_me=true",
        ),
        Row(
            "API disputes: mediator ?order=<an order>",
            med,
            lambda m: api + f"?order={subj(m)['order']}",
        ),
        Row(f"API disputes: mediator, cursor page {DEEP_PAGES + 1}", med, lambda m: m["deep"]),
        Row("API orders: mediator", med, lambda m: "/api/v1/orders/"),
        Row("API orders: median shop owner", "owner:median", lambda m: "/api/v1/orders/"),
        Row("API orders: buyer", "buyer", lambda m: "/api/v1/orders/"),
        Row(
            "console queue",
            "console",
            lambda m: "/admin/mediation/dispute/",
            bytes_target=True,
        ),
        Row(
            "console queue ?state__exact=escalated",
            "console",
            lambda m: "/admin/mediation/dispute/?state__exact=escalated",
            bytes_target=True,
        ),
        Row(
            "console queue ?q=<buyer>",
            "console",
            lambda m: f"/admin/mediation/dispute/?q={subj(m)['search']}",
            bytes_target=True,
        ),
        Row(
            "console case page",
            "console",
            lambda m: f"/admin/mediation/dispute/{subj(m)['case']}/change/",
        ),
        Row("console dashboard", "console", lambda m: "/admin/dashboard/", seconds_target=True),
        Row("API stats", med, lambda m: "/api/v1/stats/", seconds_target=True),
    ]


def username(meta: dict[str, Any], who: str) -> str:
    subjects = meta["dataset"]["subjects"]
    if who.startswith("owner:"):
        return str(subjects["owners"][who.split(":", 1)[1]])
    if who == "console":
        return str(subjects["mediator"])
    return str(subjects[who])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class Server:
    """gunicorn as ``manage.py serve`` starts it, with production settings, on one database."""

    def __init__(self, port: int, database_url: str, workers: int, folder: Path) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = folder / f"gunicorn-{port}.log"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DATABASE_", "DJANGO_", "API_THROTTLE", "REDIS_", "STORAGE_"))
        }
        self.env.update(
            {
                "DATABASE_URL": database_url,
                "DJANGO_DEBUG": "0",
                "DJANGO_SECRET_KEY": "bench-scale-not-a-secret-" + "x" * 40,
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "API_THROTTLE_USER": "1000000/minute",
                "API_THROTTLE_ANON": "1000000/minute",
                "DATA_DIR": str(folder / f"data-{port}"),
                "LOG_LEVEL": "WARNING",
            }
        )
        self.command = serve_commands(port=port, web_workers=workers, concurrency=1)["web"]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                self.command, cwd=settings.BASE_DIR, env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CommandError(f"gunicorn on {self.port} exited: see {self.log}")
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise CommandError(f"gunicorn on {self.port} did not answer within 60 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def console_session(base: str, user: str) -> requests.Session:
    """Logged in to the console through its login form (with the CSRF token)."""
    session = requests.Session()
    page = session.get(base + "/admin/login/?next=/admin/", timeout=60)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if not match:
        raise CommandError("No CSRF token on the console's login page")
    answer = session.post(
        base + "/admin/login/?next=/admin/",
        data={
            "csrfmiddlewaretoken": match.group(1),
            "username": user,
            "password": scale.PASSWORD,
            "next": "/admin/",
        },
        headers={"Referer": base + "/admin/login/"},
        timeout=60,
    )
    if "sessionid" not in session.cookies or answer.status_code != 200:
        raise CommandError(f"Console login as {user} failed ({answer.status_code})")
    return session


def token_session(meta: dict[str, Any], user: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = "Token " + meta["dataset"]["subjects"]["tokens"][user]
    return session


def deep_page(base: str, session: requests.Session, pages: int) -> str:
    """The path of the mediator's disputes list after following ``next`` ``pages`` times."""
    url = base + "/api/v1/disputes/"
    for _ in range(pages):
        body = session.get(url, timeout=120).json()
        url = body["next"]
        if not url:
            raise CommandError("The list ended before the deep page")
    parts = urlsplit(url)
    return parts.path + "?" + parts.query


def _shorten(sql: str, width: int = 150) -> str:
    """The start of a query and its WHERE clause, on one line."""
    text = " ".join(sql.split())
    where = text.find(" WHERE ")
    head = text[:60]
    tail = text[where : where + width - 60] if where > 0 else text[60:width]
    return f"{head} ...{tail}" if where > 60 else text[:width]


class Command(BaseCommand):
    help = "Time every API and console list at two dataset sizes (PostgreSQL)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", default="1m", help="The large size (default 1m).")
        parser.add_argument("--base", default="10k", help="The base size (default 10k).")
        parser.add_argument("--server", default=DEFAULT_SERVER, help="postgres://user@host:port")
        parser.add_argument("--samples", type=int, default=30)
        parser.add_argument("--min-samples", type=int, default=5)
        parser.add_argument("--warmup", type=int, default=2)
        parser.add_argument(
            "--budget", type=float, default=60.0, help="Seconds per list before fewer samples."
        )
        parser.add_argument("--port-a", type=int, default=8110)
        parser.add_argument("--port-b", type=int, default=8111)
        parser.add_argument("--workers", type=int, default=2, help="As manage.py serve.")
        parser.add_argument("--only", default="", help="Only the lists whose name has this.")
        parser.add_argument("--skip-explain", action="store_true")
        parser.add_argument("--skip-verify", action="store_true")
        parser.add_argument(
            "--explain-only",
            action="store_true",
            help="Only the plans, in this process (DATABASE_URL: the large database).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out = self.stdout.write
        err = self.stderr.write
        size, base = options["size"].lower(), options["base"].lower()
        selected = [r for r in rows() if options["only"].lower() in r.what.lower()]
        if options["explain_only"]:
            meta = scale.read_meta(scale.server_url(options["server"], scale.database_name(size)))
            if meta is None:
                raise CommandError(f"{scale.database_name(size)} is not built")
            self._explain(selected, meta, size, options)
            return
        metas: dict[str, dict[str, Any]] = {}
        for key, label in (("a", base), ("b", size)):
            meta, phases = scale.build_database(label, options["server"], log=err)
            metas[key] = meta
            if phases:
                out(
                    f"Built {scale.database_name(label)}: "
                    + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in phases)
                )
        folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
        servers = {
            "a": Server(
                options["port_a"],
                scale.server_url(options["server"], scale.database_name(base)),
                options["workers"],
                folder,
            ),
            "b": Server(
                options["port_b"],
                scale.server_url(options["server"], scale.database_name(size)),
                options["workers"],
                folder,
            ),
        }
        results: dict[str, Measured] = {}
        try:
            for server in servers.values():
                server.start()
            err(f"gunicorn: {' '.join(servers['a'].command[1:])}")
            results = self._measure(selected, servers, metas, options)
        finally:
            for server in servers.values():
                server.stop()
            shutil.rmtree(folder, ignore_errors=True)
        self._table(selected, results, size, base, options)
        if not options["skip_explain"]:
            self._explain_in_child(size, options)
        if not options["skip_verify"]:
            self._verify(size, options)

    # --- Timing

    def _measure(
        self,
        selected: list[Row],
        servers: dict[str, Server],
        metas: dict[str, dict[str, Any]],
        options: dict[str, Any],
    ) -> dict[str, Measured]:
        err = self.stderr.write
        sessions: dict[tuple[str, str], requests.Session] = {}

        def session(key: str, who: str) -> requests.Session:
            if (key, who) not in sessions:
                name = username(metas[key], who)
                sessions[key, who] = (
                    console_session(servers[key].base, name)
                    if who == "console"
                    else token_session(metas[key], name)
                )
            return sessions[key, who]

        for key in ("a", "b"):
            if any("cursor page" in r.what for r in selected):
                metas[key]["deep"] = deep_page(
                    servers[key].base, session(key, "mediator"), DEEP_PAGES
                )
        results: dict[str, Measured] = {}
        for row in selected:
            measured = results[row.what] = Measured()
            urls = {k: servers[k].base + row.path(metas[k]) for k in ("a", "b")}

            def get(
                key: str, row: Row = row, measured: Measured = measured, urls: Any = urls
            ) -> float | None:
                started = time.perf_counter()
                try:
                    response = session(key, row.who).get(urls[key], timeout=300)
                    body = response.content
                except requests.RequestException as exc:
                    seconds = time.perf_counter() - started
                    measured.errors[key] = f"{type(exc).__name__} after {seconds:.1f} s"
                    return None
                seconds = time.perf_counter() - started
                if response.status_code != 200:
                    # gunicorn's worker timeout (30 s by default) answers 500 too.
                    measured.errors[key] = f"HTTP {response.status_code} after {seconds:.1f} s"
                    return None
                measured.size[key] = len(body)
                return seconds

            for _ in range(options["warmup"]):
                for key in ("a", "b"):
                    get(key)
            started = time.perf_counter()
            for i in range(options["samples"]):
                for key in ("a", "b"):
                    seconds = get(key)
                    if seconds is not None:
                        measured.times[key].append(seconds)
                if measured.errors or (
                    i + 1 >= options["min_samples"]
                    and time.perf_counter() - started > options["budget"]
                ):
                    break
            b = measured.times["b"]
            err(
                f"  {row.what}: {len(b)} samples, p50 {percentile(b, 0.5) * 1000:.0f} ms"
                if b
                else f"  {row.what}: {measured.errors}"
            )
        return results

    def _table(
        self,
        selected: list[Row],
        results: dict[str, Measured],
        size: str,
        base: str,
        options: dict[str, Any],
    ) -> None:
        out = self.stdout.write
        a, b = base, size
        out("")
        out(
            f"Lists at {a} (A) and {b} (B): milliseconds, requests alternating A, B after "
            f"{options['warmup']} warm-up each; n samples each. Targets: p95 B/A <= "
            f"{RATIO_TARGET}; dashboard and stats p95 B <= {SECONDS_TARGET:.0f} s; console "
            f"queue page <= {QUEUE_BYTES_TARGET // 1024} KB. MISS marks a figure off target."
        )
        head = (
            f"{'what':<46} {'n':>3} {'p50 A':>8} {'p95 A':>8} {'p50 B':>9} {'p95 B':>9} "
            f"{'B/A p95':>8} {'bytes B':>9}  verdict"
        )
        out(head)
        out("-" * len(head))
        misses = 0
        for row in selected:
            m = results.get(row.what)
            if m is None:
                continue
            if not m.times["a"] or not m.times["b"]:
                out(f"{row.what:<46} ERROR {m.errors}")
                misses += 1
                continue
            pa50, pa95 = percentile(m.times["a"], 0.5), percentile(m.times["a"], 0.95)
            pb50, pb95 = percentile(m.times["b"], 0.5), percentile(m.times["b"], 0.95)
            ratio = pb95 / pa95
            notes = []
            notes.append("ratio ok" if ratio <= RATIO_TARGET else f"MISS ratio>{RATIO_TARGET}")
            if row.seconds_target:
                notes.append(
                    f"<= {SECONDS_TARGET:.0f} s ok"
                    if pb95 <= SECONDS_TARGET
                    else f"MISS > {SECONDS_TARGET:.0f} s"
                )
            if row.bytes_target:
                notes.append(
                    "<= 200 KB ok" if m.size["b"] <= QUEUE_BYTES_TARGET else "MISS > 200 KB"
                )
            if m.errors:
                notes.append(f"errors {m.errors}")
            misses += sum("MISS" in n for n in notes)
            out(
                f"{row.what:<46} {min(len(m.times['a']), len(m.times['b'])):>3} "
                f"{pa50 * 1000:>8.1f} {pa95 * 1000:>8.1f} {pb50 * 1000:>9.1f} "
                f"{pb95 * 1000:>9.1f} {ratio:>8.2f} {m.size['b']:>9,}  {'; '.join(notes)}"
            )
        out("")
        out(f"{misses} figure(s) off target." if misses else "Every figure on target.")

    # --- Plans

    def _explain(
        self, selected: list[Row], meta: dict[str, Any], size: str, options: dict[str, Any]
    ) -> None:
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        out = self.stdout.write
        name = scale.database_name(size)
        if connection.vendor != "postgresql" or connection.settings_dict["NAME"] != name:
            raise CommandError(f"--explain-only runs with DATABASE_URL set to {name}")
        try:
            users = get_user_model().objects
            for row in selected:
                client = Client()
                who = username(meta, row.who)
                if row.who == "console":
                    client.force_login(users.get(username=who))
                    headers = {}
                else:
                    headers = {
                        "HTTP_AUTHORIZATION": "Token " + meta["dataset"]["subjects"]["tokens"][who]
                    }
                if "cursor page" in row.what and "deep" not in meta:
                    url = "/api/v1/disputes/"
                    for _ in range(DEEP_PAGES):
                        parts = urlsplit(client.get(url, **headers).json()["next"])  # type: ignore[arg-type]
                        url = parts.path + "?" + parts.query
                    meta["deep"] = url
                path = row.path(meta)
                started = time.perf_counter()
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(path, **headers)  # type: ignore[arg-type]
                took = time.perf_counter() - started
                scans: dict[str, int] = {}
                selects = 0
                offending: list[str] = []
                for query in queries.captured_queries:
                    text = query["sql"]
                    if not text.lstrip().upper().startswith(("SELECT", "WITH")):
                        continue
                    selects += 1
                    tables = seq_scans(text, None, connection)
                    for table in tables:
                        scans[table] = scans.get(table, 0) + 1
                    if tables:
                        offending.append(f"{', '.join(tables)}: {_shorten(text)}")
                found = ", ".join(f"{t} (x{n})" if n > 1 else t for t, n in scans.items())
                out(
                    f"  {row.what:<46} {response.status_code} {took * 1000:>7.0f} ms "
                    f"{selects:>3} SELECTs  seq scan: {found or 'none'}"
                )
                for line in offending:
                    out(f"      {line}")
        finally:
            connection.close()

    def _explain_in_child(self, size: str, options: dict[str, Any]) -> None:
        """:meth:`_explain` in a ``manage.py`` of its own, whose database is the large one."""
        out = self.stdout.write
        name = scale.database_name(size)
        out("")
        out(f"Sequential scans of the large tables ({', '.join(LARGE_TABLES)}) in the plans of")
        out(f"the queries each list runs (EXPLAIN, no ANALYZE), captured in-process on {name}")
        out("as the same user: status, time of that one request in-process (no server timeout),")
        out("SELECTs run, tables read by a Seq Scan (xN: in N of them), then those queries.")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
        env["DATABASE_URL"] = scale.server_url(options["server"], name)
        command = [sys.executable, "manage.py", "bench_scale", "--explain-only", "--size", size]
        command += ["--server", options["server"], "--base", options["base"]]
        if options["only"]:
            command += ["--only", options["only"]]
        done = subprocess.run(
            command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
        )
        for line in done.stdout.splitlines():
            out(line)
        if done.returncode:
            out(f"  (failed: {done.stderr.strip()[-2000:]})")

    # --- verify_audit

    def _verify(self, size: str, options: dict[str, Any]) -> None:
        out = self.stdout.write
        name = scale.database_name(size)
        env = {
            **os.environ,
            "DATABASE_URL": scale.server_url(options["server"], name),
            # The checkpoints of this database (none unless anchor_audit ran on it), not the
            # local database's.
            "AUDIT_ANCHOR_BACKEND": "local",
            "AUDIT_ANCHOR_DIR": str(Path(settings.DATA_DIR) / f"audit-anchors-{name}"),
        }
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "manage.py", "verify_audit"],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        text = [line for line in done.stdout.splitlines() if line.startswith("Verified ")][-1:]
        text = text or [done.stderr.strip()[-300:]]
        match = re.search(r"Verified (\d+) disputes? \((\d+) entries\)", done.stdout)
        out("")
        out(f"manage.py verify_audit on {name}: exit {done.returncode}, {seconds:.1f} s wall")
        out(f"  {text[0]}")
        if match:
            disputes, entries = int(match.group(1)), int(match.group(2))
            out(
                f"  {entries:,} entries of {disputes:,} disputes: {entries / seconds:,.0f} "
                f"entries/s, {disputes / seconds:,.0f} disputes/s (wall time, start-up included)"
            )

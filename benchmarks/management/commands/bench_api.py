"""``make bench-api``: what a transition costs through the API, next to two baselines
measured in the same run: a bare DRF endpoint on the same database (``benchmarks.bare``)
and pgbench replaying the SQL one transition sends (captured from the product's view).

The command (re)creates the database of DATABASE_URL (its name must contain ``bench``),
migrates it, seeds it through the product's services, then starts two gunicorn servers
with the Dockerfile's gunicorn flags and production settings (``DJANGO_DEBUG=0``, the user
throttle raised to 1,000,000/minute, Redis for the cache and the Celery broker): the
product on one port, the bare baseline on the next. Each round runs every workload for
``--seconds`` from ``--threads`` client connections, interleaved (project, bare, pgbench,
...); ``--rounds`` rounds give min, median and max::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mediation_benchapi \\
        .venv/bin/python manage.py bench_api [--rounds 5 --seconds 5 --threads 4] [--verbose]
    ... manage.py bench_api --profile [--profile-transitions 300]   # in-process, cProfile

The ping-pong: the shop owner offers, the buyer counters, and so on until the counter-offer
limit (``MAX_COUNTER_ROUNDS``, 3) leaves the owner's last offer: ``2 * 3 + 1`` transitions
per dispute, every one legal, none of them a dead end. Disputes are dealt out to the
client threads one at a time (a thread stopped by the clock hands its dispute back with
its next step), so no two requests wait on one row, and fresh disputes are raised
through the product's service between runs, as many as the last rate says the next run
needs. Each dispute thus stays as small as a real negotiation (at most seven offers).
"""

from __future__ import annotations

import cProfile
import http.client
import io
import json
import os
import pstats
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client

from benchmarks import apibench as ab

TARGET_PGBENCH = 0.35  # transition / pgbench
TARGET_BARE = 0.5  # transition / bare offer (long run: 0.8)
TARGET_BARE_LONG = 0.8
TARGET_CPU_MS = 6.0  # gunicorn worker CPU per transition

PGBENCH = os.environ.get("PGBENCH", shutil.which("pgbench") or "/usr/bin/pgbench")
THROTTLE = "1000000/minute"
MESSAGE_LIMIT = "1000000"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def gunicorn_flags(dockerfile: Path) -> list[str]:
    """The gunicorn options of the Dockerfile's CMD (what production runs), without
    ``--bind``: both servers get exactly these."""
    cmd = None
    for line in dockerfile.read_text().splitlines():
        if line.startswith("CMD "):
            cmd = json.loads(line[4:])
    if not cmd or cmd[0] != "gunicorn":
        raise CommandError(f"No gunicorn CMD in {dockerfile}")
    # Everything but the program and its WSGI application (``module:callable``), which each
    # server names itself.
    flags = [arg for arg in cmd[1:] if not re.fullmatch(r"[\w.]+:\w+", arg)]
    if "--bind" in flags:
        i = flags.index("--bind")
        del flags[i : i + 2]
    return flags


# --- Servers and their workers' CPU -----------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def workers(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
            return [int(p) for p in text.split()]
        except OSError:
            return [
                int(p.name)
                for p in Path("/proc").iterdir()
                if p.name.isdigit() and _ppid(p) == self.process.pid
            ]

    def cpu(self) -> float:
        """CPU seconds (user + system) the server's workers have used so far: the live
        workers' own, plus what the workers gunicorn has replaced used (their master's
        ``cutime`` + ``cstime``, which the kernel adds up as the master reaps each one).
        Per worker alone, a worker recycled by ``max_requests`` in a run took its CPU with
        it, and the run's figure could come out negative."""
        total = 0
        for pid in self.workers():
            fields = _stat(pid)
            if fields:
                total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        master = _stat(self.process.pid)
        if master:
            total += int(master[13]) + int(master[14])  # cutime, cstime (fields 16, 17)
        return total / CLK_TCK

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (field 3 first); [] once
    the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _ppid(proc: Path) -> int:
    fields = _stat(int(proc.name))
    return int(fields[1]) if len(fields) > 1 else -1


def start_server(
    name: str, app: str, port: int, flags: list[str], env: dict[str, str], logdir: Path
) -> Server:
    log = logdir / f"{name}.log"
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            raise CommandError(f"Port {port} is in use; pick others with --port.")
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    with log.open("wb") as out:
        process = subprocess.Popen(
            [gunicorn, app, "--bind", f"127.0.0.1:{port}", *flags],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(name, port, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"{name} server exited: {log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.2)
    server.stop()
    raise CommandError(f"{name} server did not start: {log.read_text()[-2000:]}")


# --- The client -------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    token: str
    body: dict[str, Any] | None = None
    key: bool = False


class Pool:
    """Work items (dispute, next step) handed out to one thread at a time."""

    def __init__(self, items: list[tuple[int, int]] | None = None, *, cycle: bool) -> None:
        self.items: deque[tuple[int, int]] = deque(items or [])
        self.cycle = cycle
        self.lock = threading.Lock()

    def take(self) -> tuple[int, int] | None:
        with self.lock:
            return self.items.popleft() if self.items else None

    def give_back(self, item: tuple[int, int]) -> None:
        with self.lock:
            self.items.append(item)

    def add(self, ids: list[int]) -> None:
        with self.lock:
            self.items.extend((pk, 0) for pk in ids)

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class Workload:
    """``steps(dispute)``: the requests of one work item, in order; a cycling pool gets
    the item back after them (messages, reads), a consumed one only when the clock
    stopped the thread half-way (the ping-pong)."""

    name: str
    server: str  # "project" or "bare"
    pool: Pool
    steps: Callable[[int], list[Request]]


@dataclass
class Run:
    ok: int = 0
    errors: int = 0
    first_error: str = ""
    seconds: float = 0.0
    cpu: float = 0.0
    connections: int = 0
    exhausted: bool = False

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.ok if self.ok else 0.0


def drive(server: Server, work: Workload, *, threads: int, seconds: float) -> Run:
    """``threads`` connections, each sending its requests one after the other (keep-alive
    asked for; http.client reconnects when the server closes) for ``seconds``."""
    run = Run()
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)
    ends: list[float] = []
    started: list[float] = []

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        ok = errors = connects = 0
        first = ""
        exhausted = False
        barrier.wait()
        deadline = started[0] + seconds
        try:
            while time.perf_counter() < deadline:
                item = work.pool.take()
                if item is None:
                    exhausted = True
                    break
                pk, step = item
                requests = work.steps(pk)
                while step < len(requests) and time.perf_counter() < deadline:
                    r = requests[step]
                    headers = {"Authorization": f"Token {r.token}"}
                    body = None
                    if r.body is not None:
                        body = json.dumps(r.body)
                        headers["Content-Type"] = "application/json"
                    if r.key:
                        headers["Idempotency-Key"] = uuid.uuid4().hex
                    if conn.sock is None:
                        connects += 1
                    conn.request(r.method, r.path, body, headers)
                    response = conn.getresponse()
                    data = response.read()
                    if 200 <= response.status < 300:
                        ok += 1
                        step += 1
                    else:
                        errors += 1
                        first = first or f"{r.method} {r.path}: {response.status} {data[:300]!r}"
                        step = len(requests)  # this dispute is out of the run
                if work.pool.cycle:
                    work.pool.give_back((pk, 0))
                elif step < len(requests):
                    work.pool.give_back((pk, step))
        finally:
            conn.close()
            with lock:
                ends.append(time.perf_counter())
                run.ok += ok
                run.errors += errors
                run.connections += connects
                run.first_error = run.first_error or first
                run.exhausted = run.exhausted or exhausted

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    cpu_before = server.cpu()
    started.append(time.perf_counter())
    barrier.wait()
    for t in pool:
        t.join()
    run.seconds = max(ends) - started[0]
    run.cpu = server.cpu() - cpu_before
    return run


def pgbench(scripts: list[Path], *, clients: int, seconds: int) -> float:
    db = settings.DATABASES["default"]
    args = [PGBENCH, "-n", "-c", str(clients), "-j", str(min(2, clients)), "-T", str(seconds)]
    for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if db.get(key):
            args += [flag, str(db[key])]
    for script in scripts:
        args += ["-f", str(script)]
    env = {**os.environ, **({"PGPASSWORD": db["PASSWORD"]} if db.get("PASSWORD") else {})}
    result = subprocess.run(
        [*args, db["NAME"]], capture_output=True, text=True, env=env, check=False
    )
    match = re.search(r"^tps = ([\d.]+)", result.stdout, re.MULTILINE)
    if result.returncode != 0 or match is None:
        raise CommandError(f"pgbench failed ({result.returncode}): {result.stderr[-2000:]}")
    return float(match.group(1))


# --- The command --------------------------------------------------------------------------------


def _stats(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


class Command(BaseCommand):
    help = "Transitions per second through the API, next to a bare DRF endpoint and pgbench."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rounds", type=int, default=5)
        parser.add_argument("--seconds", type=int, default=5, help="Per workload and round.")
        parser.add_argument("--threads", type=int, default=4, help="Client connections.")
        parser.add_argument("--port", type=int, default=8120, help="Product; bare on port + 1.")
        parser.add_argument(
            "--redis-url",
            default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
            help="The servers' cache and Celery broker (its 'celery' queue is emptied after).",
        )
        parser.add_argument("--disputes", type=int, default=20, help="Per read/message pool.")
        parser.add_argument("--verbose", action="store_true", help="Print the captured SQL.")
        parser.add_argument(
            "--profile", action="store_true", help="Only profile transitions in-process."
        )
        parser.add_argument("--profile-transitions", type=int, default=600)
        parser.add_argument(
            "--profile-out", default="", help="Also write the raw profile (pstats) to this file."
        )
        parser.add_argument(
            "--profile-clock",
            choices=("cpu", "wall"),
            default="cpu",
            help="cpu: time this process spends on the CPU (what the per-transition CPU "
            "target is about; waits on the database count nothing); wall: elapsed time.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench_api needs PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/"
                "mediation_benchapi"
            )
        self.options = options
        self.threads = options["threads"]
        self._recreate_database()
        try:
            seeded = self._seed()
            if options["profile"]:
                self._profile(
                    seeded,
                    options["profile_transitions"],
                    options["profile_out"],
                    clock=options["profile_clock"],
                )
                return
            scripts = self._capture(seeded)
            self._benchmark(seeded, scripts)
        finally:
            # The relay kicks every commit queued (no worker runs here).
            self._empty_queue()

    # --- setup ---------------------------------------------------------------------------

    def _recreate_database(self) -> None:
        db = settings.DATABASES["default"]
        name = db["NAME"]
        if "bench" not in name:
            raise CommandError(f"bench_api drops and recreates {name!r}: name it *bench*.")
        self.stderr.write(f"Recreating the database {name} and migrating it ...")
        connection.close()
        params = {
            k: v
            for k, v in {
                "host": db.get("HOST"),
                "port": db.get("PORT"),
                "user": db.get("USER"),
                "password": db.get("PASSWORD"),
            }.items()
            if v
        }
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        call_command("migrate", verbosity=0, interactive=False)

    def _seed(self) -> dict[str, Any]:
        n = self.options["disputes"]
        self.stderr.write("Seeding through the product's services ...")
        started = time.perf_counter()
        # One shop, owner and buyer per client thread: each user's throttle history stays
        # the size a busy real user's would.
        casts = [ab.make_cast(f"t{i}") for i in range(self.threads)]
        bare = ab.make_cast("bare")
        seeded = {
            "casts": casts,
            "bare_cast": bare,
            # pgbench: one dispute per client (and a warm-up one), captured then rolled back.
            "capture": ab.raise_disputes(casts[0], self.threads + 1),
            "messages": [pk for c in casts for pk in ab.raise_disputes(c, max(1, n // len(casts)))],
            "bare": ab.raise_disputes(bare, n),
            "pingpong": Pool(cycle=False),
        }
        # The read pool: disputes one round into the negotiation (two offers to show).
        reads = [pk for c in casts for pk in ab.raise_disputes(c, max(1, n // len(casts)))]
        client = Client()
        for pk in reads:
            c = next(c for c in casts if pk in c.disputes)
            for step, (slug, who) in enumerate(ab.ping_pong()[:2]):
                response = ab.post(
                    client,
                    f"/api/v1/disputes/{pk}/{slug}/",
                    c.token(who),
                    ab.body_for(slug, step),
                    key=True,
                )
                if response.status_code != 200:
                    raise CommandError(f"Seeding {slug}: {response.content[:300]!r}")
        seeded["reads"] = reads
        self._top_up(seeded, 40 * self.threads)
        self.stderr.write(f"  seeded in {time.perf_counter() - started:.1f} s")
        return seeded

    def _top_up(self, seeded: dict[str, Any], wanted: int) -> None:
        pool: Pool = seeded["pingpong"]
        missing = wanted - len(pool)
        if missing <= 0:
            return
        casts = seeded["casts"]
        per = -(-missing // len(casts))
        new = [ab.raise_disputes(c, per) for c in casts]
        # Interleaved by cast, so that the threads share the users evenly.
        pool.add([pk for group in zip(*new, strict=True) for pk in group])
        seeded.setdefault("raised", 0)
        seeded["raised"] += per * len(casts)

    def _capture(self, seeded: dict[str, Any]) -> list[Path]:
        cast = seeded["casts"][0]
        captured = ab.capture_transitions(cast, seeded["capture"])
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-api-"))
        offers = [o for o, _ in captured]
        counters = [c for _, c in captured]
        scripts = []
        for label, caps in (("offer", offers), ("counter", counters)):
            path = self.workdir / f"{label}.sql"
            path.write_text(ab.pgbench_script(caps))
            scripts.append(path)
        self.statements = {
            "offer": len(offers[0].statements),
            "counter": len(counters[0].statements),
        }
        self.captured = captured[0]
        return scripts

    # --- measuring -------------------------------------------------------------------------

    def _benchmark(self, seeded: dict[str, Any], scripts: list[Path]) -> None:
        opts = self.options
        seconds, threads = opts["seconds"], self.threads
        flags = gunicorn_flags(Path(settings.BASE_DIR) / "Dockerfile")
        db_url = os.environ["DATABASE_URL"]
        base_env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "DJANGO_DEBUG": "0",
            # Production settings refuse the development key.
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            # Plain http on loopback, as `make run` serves: no redirect to https.
            "DJANGO_HTTPS": "0",
            "API_THROTTLE_USER": THROTTLE,
            # Thousands of messages from a few buyers: the limits stay on (their count is
            # part of the cost measured), raised out of the way.
            "MESSAGE_RATE_PER_MINUTE": MESSAGE_LIMIT,
            "MESSAGE_MAX_PER_DISPUTE": MESSAGE_LIMIT,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "REDIS_URL": opts["redis_url"],
            "CELERY_BROKER_URL": opts["redis_url"],
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        connection.close()  # the servers and pgbench have the database to themselves
        servers: dict[str, Server] = {}
        try:
            servers["project"] = start_server(
                "project",
                "config.wsgi:application",
                opts["port"],
                flags,
                {**base_env, "DJANGO_SETTINGS_MODULE": "config.settings"},
                self.workdir,
            )
            servers["bare"] = start_server(
                "bare",
                "benchmarks.bare.wsgi:application",
                opts["port"] + 1,
                flags,
                {**base_env, "DJANGO_SETTINGS_MODULE": "benchmarks.bare.settings"},
                self.workdir,
            )
            self._measure(seeded, servers, scripts, flags, seconds, threads)
        finally:
            for server in servers.values():
                server.stop()

    def _workloads(self, seeded: dict[str, Any]) -> dict[str, Workload]:
        casts: list[ab.Cast] = seeded["casts"]
        owners: dict[int, ab.Cast] = {}

        def cast_of(pk: int) -> ab.Cast:
            if pk not in owners:  # disputes raised after this point too
                owners[pk] = next(c for c in casts if pk in c.disputes)
            return owners[pk]

        bare: ab.Cast = seeded["bare_cast"]
        moves = ab.ping_pong()

        def pingpong(key: bool) -> Callable[[int], list[Request]]:
            def steps(pk: int) -> list[Request]:
                c = cast_of(pk)
                return [
                    Request(
                        "POST",
                        f"/api/v1/disputes/{pk}/{slug}/",
                        c.token(who),
                        ab.body_for(slug, i),
                        key,
                    )
                    for i, (slug, who) in enumerate(moves)
                ]

            return steps

        def message(pk: int) -> list[Request]:
            c = cast_of(pk)
            return [
                Request("POST", f"/api/v1/disputes/{pk}/messages/", c.buyer_token, _MESSAGE, True)
            ]

        def detail(pk: int) -> list[Request]:
            return [Request("GET", f"/api/v1/disputes/{pk}/", cast_of(pk).buyer_token)]

        def bare_offer(pk: int) -> list[Request]:
            return [
                Request(
                    "POST",
                    f"/bare/disputes/{pk}/offer/",
                    bare.owner_token,
                    ab.body_for("offer", 0),
                )
            ]

        def bare_message(pk: int) -> list[Request]:
            return [Request("POST", f"/bare/disputes/{pk}/messages/", bare.buyer_token, _MESSAGE)]

        def bare_detail(pk: int) -> list[Request]:
            return [Request("GET", f"/bare/disputes/{pk}/", bare.buyer_token)]

        def cycling(ids: list[int]) -> Pool:
            return Pool([(pk, 0) for pk in ids], cycle=True)

        pp: Pool = seeded["pingpong"]
        return {
            "transition": Workload("transition", "project", pp, pingpong(True)),
            "bare offer": Workload("bare offer", "bare", cycling(seeded["bare"]), bare_offer),
            "transition, no key": Workload("transition, no key", "project", pp, pingpong(False)),
            "message": Workload("message", "project", cycling(seeded["messages"]), message),
            "bare message": Workload("bare message", "bare", cycling(seeded["bare"]), bare_message),
            "detail": Workload("detail", "project", cycling(seeded["reads"]), detail),
            "bare detail": Workload("bare detail", "bare", cycling(seeded["bare"]), bare_detail),
        }

    def _measure(
        self,
        seeded: dict[str, Any],
        servers: dict[str, Server],
        scripts: list[Path],
        flags: list[str],
        seconds: int,
        threads: int,
    ) -> None:
        workloads = self._workloads(seeded)
        order = [
            "transition",
            "bare offer",
            "pgbench",
            "transition, no key",
            "message",
            "bare message",
            "detail",
            "bare detail",
        ]
        steps = len(ab.ping_pong())
        results: dict[str, list[Run]] = {name: [] for name in workloads}
        tps: list[float] = []
        rates: dict[str, float] = {}

        def top_up() -> None:
            rate = max(rates.get("transition", 0.0), rates.get("transition, no key", 0.0), 50.0)
            wanted = int(rate * seconds * 1.5 / steps) + 2 * threads
            self._top_up(seeded, wanted)

        self.stderr.write("Warming up (1 s per workload, not counted) ...")
        for name in order:
            if name == "pgbench":
                pgbench(scripts, clients=threads, seconds=1)
                continue
            if name.startswith("transition"):
                top_up()
            work = workloads[name]
            run = drive(servers[work.server], work, threads=threads, seconds=1)
            if run.errors:
                raise CommandError(f"{name}: {run.errors} errors; first: {run.first_error}")
            rates[name] = run.rate
        for r in range(self.options["rounds"]):
            self.stderr.write(f"Round {r + 1}/{self.options['rounds']} ...")
            for name in order:
                if name == "pgbench":
                    tps.append(pgbench(scripts, clients=threads, seconds=seconds))
                    continue
                if name.startswith("transition"):
                    top_up()
                work = workloads[name]
                run = drive(servers[work.server], work, threads=threads, seconds=seconds)
                results[name].append(run)
                rates[name] = run.rate
        self._print(results, tps, flags, seeded, servers)

    def _empty_queue(self) -> None:
        """Empty the Celery queue of ``--redis-url`` (``make bench-api`` points this
        process's broker there too), which nothing consumes during the run."""
        try:
            import redis

            redis.Redis.from_url(self.options["redis_url"]).delete("celery")
        except Exception as exc:  # the report matters more than the clean-up
            self.stderr.write(f"Could not empty the Celery queue: {exc}")

    # --- the report ------------------------------------------------------------------------

    def _print(
        self,
        results: dict[str, list[Run]],
        tps: list[float],
        flags: list[str],
        seeded: dict[str, Any],
        servers: dict[str, Server],
    ) -> None:
        out = self.stdout.write
        opts = self.options
        db = settings.DATABASES["default"]
        out(
            f"bench-api, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores "
            f"(load average {os.getloadavg()[0]:.2f} at the end)"
        )
        out(
            f"gunicorn {' '.join(flags)} (the Dockerfile's CMD) for both servers: product on "
            f":{opts['port']}, bare on :{opts['port'] + 1}; DJANGO_DEBUG=0, "
            f"API_THROTTLE_USER={THROTTLE}, MESSAGE_RATE_PER_MINUTE and "
            f"MESSAGE_MAX_PER_DISPUTE={MESSAGE_LIMIT}, cache and broker {opts['redis_url']}"
        )
        out(
            f"{self.threads} client connections, {opts['rounds']} rounds of {opts['seconds']:g} s "
            "per workload, interleaved; min / median / max over rounds"
        )
        total = sum(r.ok for runs in results.values() for r in runs)
        conns = sum(r.connections for runs in results.values() for r in runs)
        out(
            f"Keep-alive asked for; the servers closed the connection after "
            f"{total / conns if conns else float('inf'):.1f} requests on average "
            "(gunicorn's sync workers close after every response)."
        )
        out(
            f"Ping-pong: {len(ab.ping_pong())} transitions per dispute (offer, counter, ... up "
            f"to MAX_COUNTER_ROUNDS={settings.MEDIATION_MAX_COUNTER_ROUNDS}, then the owner's "
            f"last offer); {seeded.get('raised', 0)} disputes raised for it."
        )
        with psycopg.connect(
            **{
                k: v
                for k, v in {
                    "dbname": db["NAME"],
                    "host": db.get("HOST"),
                    "port": db.get("PORT"),
                    "user": db.get("USER"),
                    "password": db.get("PASSWORD"),
                }.items()
                if v
            }
        ) as pg:
            fsync = pg.execute("SHOW fsync").fetchone()
            sync = pg.execute("SHOW synchronous_commit").fetchone()
        out(
            f"pgbench: the SQL of one offer ({self.statements['offer']} statements) and one "
            f"counter-offer ({self.statements['counter']}) captured from the product's view "
            "with an Idempotency-Key, literals rendered by psycopg; each run once per "
            f"transaction in BEGIN ... ROLLBACK (fsync={fsync[0] if fsync else '?'}, "
            f"synchronous_commit={sync[0] if sync else '?'}: a COMMIT would also wait for "
            "the WAL flush), one dispute per client."
        )
        out(f"Scripts and server logs kept in {self.workdir}")
        if opts["verbose"]:
            for cap in self.captured:
                out(f"  {cap.label}, {len(cap.statements)} statements:")
                for i, s in enumerate(cap.statements, 1):
                    mark = " " if s in cap.before or s in cap.after else "*"
                    out(f"   {i:>2}{mark} {s}")
            out("  (* inside the request's transaction)")
        out("")

        def rate(name: str) -> list[float]:
            return [r.rate for r in results[name]]

        def fmt(values: list[float], spec: str = ",.0f") -> str:
            lo, mid, hi = _stats(values)
            return f"{lo:{spec}} / {mid:{spec}} / {hi:{spec}}"

        def cpu(name: str) -> str:
            return fmt([r.cpu_ms for r in results[name]], ".2f")

        out(f"{'workload':<28} {'req/s':>22} {'worker CPU ms/req':>24}")
        for name in results:
            out(f"{name:<28} {fmt(rate(name)):>22} {cpu(name):>24}")
        out(f"{'pgbench (tps)':<28} {fmt(tps):>22}")
        errors = {n: sum(r.errors for r in runs) for n, runs in results.items()}
        if any(errors.values()):
            out("errors: " + ", ".join(f"{n} {e}" for n, e in errors.items() if e))
            for n, runs in results.items():
                first = next((r.first_error for r in runs if r.first_error), "")
                if first:
                    out(f"  first in {n}: {first}")
        if any(r.exhausted for runs in results.values() for r in runs):
            out("warning: a ping-pong run ran out of disputes before its end")
        out("")

        def ratio(a: list[float], b: list[float]) -> list[float]:
            return [x / y if y else 0.0 for x, y in zip(a, b, strict=True)]

        transition = rate("transition")
        rows = [
            ("transition / pgbench", ratio(transition, tps), f">= {TARGET_PGBENCH}"),
            (
                "transition / bare offer",
                ratio(transition, rate("bare offer")),
                f">= {TARGET_BARE} (long run {TARGET_BARE_LONG})",
            ),
            (
                "transition, no key / bare offer",
                ratio(rate("transition, no key"), rate("bare offer")),
                "",
            ),
            ("message / bare message", ratio(rate("message"), rate("bare message")), ""),
            ("detail / bare detail", ratio(rate("detail"), rate("bare detail")), ""),
        ]
        out(f"{'ratio (per round)':<32} {'min / median / max':>20}  target")
        for label, values, target in rows:
            verdict = ""
            if target:
                goal = TARGET_PGBENCH if "pgbench" in label else TARGET_BARE
                verdict = "met" if statistics.median(values) >= goal else "MISSED"
            out(f"{label:<32} {fmt(values, '.3f'):>20}  {target} {verdict}".rstrip())
        cpu_median = statistics.median(r.cpu_ms for r in results["transition"])
        verdict = "met" if cpu_median < TARGET_CPU_MS else "MISSED"
        out(
            f"{'worker CPU per transition':<32} {cpu('transition'):>20}  "
            f"< {TARGET_CPU_MS:g} ms {verdict} (bare offer: median "
            f"{statistics.median(r.cpu_ms for r in results['bare offer']):.2f} ms)"
        )

    # --- profile ---------------------------------------------------------------------------

    def _profile(
        self, seeded: dict[str, Any], n: int, save_to: str = "", *, clock: str = "cpu"
    ) -> None:
        """``n`` ping-pong transitions in-process through Django's test client (the whole
        stack but the HTTP server), under cProfile timing this process's CPU (``clock``
        "cpu": a wait on the database or Redis counts nothing) or the elapsed time."""
        out = self.stdout.write
        steps = ab.ping_pong()
        casts = seeded["casts"]
        needed = 2 * (-(-n // len(steps))) + 3
        disputes = ab.raise_disputes(casts[0], needed)
        cast = casts[0]
        client = Client()

        def transitions(ids: list[int], count: int) -> None:
            done = 0
            for pk in ids:
                for i, (slug, who) in enumerate(steps):
                    if done == count:
                        return
                    response = ab.post(
                        client,
                        f"/api/v1/disputes/{pk}/{slug}/",
                        cast.token(who),
                        ab.body_for(slug, i),
                        key=True,
                    )
                    if response.status_code != 200:
                        raise CommandError(f"{slug}: {response.content[:300]!r}")
                    done += 1

        transitions(disputes[:1], len(steps))  # warm-up
        # First without the profiler: this process's CPU (the database's is not in it).
        half = 1 + (len(disputes) - 1) // 2
        started, cpu = time.perf_counter(), time.process_time()
        transitions(disputes[1:half], n // 2)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        out(
            f"{n // 2} transitions in-process, not profiled: {1000 * elapsed / (n // 2):.2f} ms "
            f"each, {1000 * cpu / (n // 2):.2f} ms of this process's CPU"
        )
        timer = time.process_time if clock == "cpu" else time.perf_counter
        profiler = cProfile.Profile(timer)
        started, cpu = time.perf_counter(), time.process_time()
        profiler.enable()
        transitions(disputes[half:], n // 2)
        profiler.disable()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        # The share of each function below is of what the profiler's clock measured.
        measured = cpu if clock == "cpu" else elapsed
        if save_to:
            profiler.dump_stats(save_to)
        backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        out(
            f"{n // 2} transitions in-process (test client, cache {backend}) under cProfile: "
            f"{elapsed:.2f} s, {1000 * elapsed / (n // 2):.2f} ms each, "
            f"{1000 * cpu / (n // 2):.2f} ms of CPU (profiled; the profile's clock: {clock})"
        )
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.sort_stats("cumulative").print_stats(25)
        out(stream.getvalue())
        raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
        out("Own time (tottime) by package:")
        by_package: dict[str, float] = {}
        for (filename, _, _), (_, _, tottime, _, _) in raw.items():
            package = _package(filename)
            by_package[package] = by_package.get(package, 0.0) + tottime
        total = sum(by_package.values()) or 1.0
        for package, spent in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]:
            out(f"  {package:<28} {spent:7.2f} s  {100 * spent / total:5.1f} %")
        out("")
        out("The product's functions by cumulative time (share of the profiled total):")
        ours = [
            (cumtime, f"{_package(filename).split()[0]}{Path(filename).name}:{line}({func})")
            for (filename, line, func), (_, _, _, cumtime, _) in raw.items()
            if _package(filename).endswith("(ours)") and "benchmarks" not in filename
        ]
        for cumtime, where in sorted(ours, reverse=True)[:20]:
            out(f"  {cumtime:7.2f} s  {100 * cumtime / measured:5.1f} %  {where}")
        out("Top 15 by own time (tottime):")
        own = sorted(raw.items(), key=lambda kv: -kv[1][2])[:15]
        for (filename, line, func), (_, calls, tottime, _, _) in own:
            out(f"  {tottime:7.2f} s  {calls:>8}  {_short(filename)}:{line}({func})")


_MESSAGE = {"body": "Could you confirm the refund will go to my card?"}


def _package(filename: str) -> str:
    if "site-packages" in filename:
        return filename.split("site-packages" + os.sep)[1].split(os.sep)[0]
    base = str(settings.BASE_DIR) + os.sep
    if filename.startswith(base):
        return filename[len(base) :].split(os.sep)[0] + "/ (ours)"
    if filename.startswith(("~", "<")):
        return "builtins"
    return "stdlib"


def _short(filename: str) -> str:
    if "site-packages" in filename:
        return filename.split("site-packages" + os.sep)[1]
    base = str(settings.BASE_DIR) + os.sep
    return filename[len(base) :] if filename.startswith(base) else filename

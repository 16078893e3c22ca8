"""The contract test: schemathesis against a live gunicorn server, as four roles.

``make contract`` (and .ci/run, on SQLite and on PostgreSQL + Redis) runs it; ``make test``
leaves it out (the ``contract`` marker). It builds an empty database of the suite's kind,
migrates it and seeds the demo data, issues the roles' tokens in the database (not through
the login endpoint), starts gunicorn with production settings (DJANGO_DEBUG=0, no request
rates) and runs ``schemathesis run openapi.yaml`` once per role: every check, every phase
(examples, coverage, fuzzing, stateful). Any failure, 5xx included, fails the test, quoting
schemathesis' report of it.

Settings (environment variables):

* ``CONTRACT_MAX_EXAMPLES`` (100): test cases per operation and phase.
* ``CONTRACT_OTHER_EXAMPLES`` (unset): when set, only the operations a role can use (its
  ``own`` below) get ``CONTRACT_MAX_EXAMPLES`` and the coverage phase; the others, which
  should only refuse the role, get this many fuzzed cases, enough to check that the
  refusals conform.
* ``CONTRACT_CONTINUE_ON_FAILURE`` (0): 1 runs every test case of an operation after its
  first failure (schemathesis stops there by default): every failure, and the time a run
  takes once the schema holds.
* ``CONTRACT_ROLES`` (all): a comma-separated subset of buyer, owner, mediator, platform.
* ``CONTRACT_PARALLEL`` (2): roles run at once against the server. One schemathesis process
  (of one worker) keeps about one core busy; with 2, two roles share the server and both
  cores.
* ``CONTRACT_TOKEN_POOL`` (400): tokens in each logout pool of each role (see hooks.py).
* ``CONTRACT_SEED``: schemathesis' random seed (each run prints the one it used).
* ``CONTRACT_REDIS_DB`` (10) / ``CONTRACT_BROKER_DB`` (11): the Redis databases of the cache
  and the Celery broker when the suite runs with ``REDIS_URL`` (emptied before and after).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests import live
from tests.contract import conftest

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
PORTS = range(8400, 8500)
# Operations every person may use: logging in and out, their notification preferences.
PERSON = (
    "logout",
    "logout_all",
    "get_notification_preferences",
    "update_notification_preferences",
)
# What each party reads of its disputes.
READS = (
    "list_disputes",
    "get_dispute",
    "list_timeline",
    "list_messages",
    "list_evidence",
    "download_evidence",
)


@dataclass(frozen=True)
class Role:
    name: str
    kind: str  # buyer, owner, mediator or platform: tokens.py's stand-ins are of this kind
    user: str
    # The operations this role can use (operation ids of openapi.yaml); with
    # CONTRACT_OTHER_EXAMPLES, the only ones run with CONTRACT_MAX_EXAMPLES.
    own: tuple[str, ...] = field(default=())


ROLES = (
    Role(
        "buyer",
        "buyer",
        "alice",
        (
            *PERSON,
            *READS,
            "create_token",
            "create_dispute",
            "accept_offer",
            "counter_offer",
            "escalate",
            "appeal",
            "withdraw",
            "confirm_received",
            "provide_info",
            "create_message",
            "report_message",
            "list_feedback",
            "create_feedback",
            "create_evidence",
            "withdraw_evidence",
        ),
    ),
    Role(
        "owner",
        "owner",
        "petals_owner",
        (
            *PERSON,
            *READS,
            "make_offer",
            "accept_request",
            "contest",
            "escalate",
            "acknowledge_return",
            "fulfil",
            "approve_offer",
            "reject_offer",
            "create_message",
            "create_evidence",
            "list_api_keys",
            "create_api_key",
            "revoke_api_key",
            "list_policies",
            "create_policy",
            "list_webhook_endpoints",
            "create_webhook_endpoint",
            "get_webhook_endpoint",
            "update_webhook_endpoint",
            "delete_webhook_endpoint",
            "list_deliveries",
            "redeliver_webhook_delivery",
            "rotate_webhook_secret",
        ),
    ),
    Role(
        "mediator",
        "mediator",
        "lee_lead",
        (
            *PERSON,
            *READS,
            "assign",
            "rule",
            "approve_ruling",
            "reject_ruling",
            "request_info",
            "create_message",
            "get_audit",
            "get_case_file",
            "get_stats",
        ),
    ),
    Role(
        "platform",
        "platform",
        "storefront",
        ("list_orders", "create_order", "fulfil", "list_disputes"),
    ),
)


def setting(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


MAX_EXAMPLES = setting("CONTRACT_MAX_EXAMPLES", 100)
OTHER_EXAMPLES = setting("CONTRACT_OTHER_EXAMPLES", 0) or None
TOKEN_POOL = setting("CONTRACT_TOKEN_POOL", 400)
CONTINUE_ON_FAILURE = bool(setting("CONTRACT_CONTINUE_ON_FAILURE", 0))
PARALLEL = max(1, setting("CONTRACT_PARALLEL", 2))


def selected_roles() -> list[Role]:
    wanted = [n.strip() for n in os.environ.get("CONTRACT_ROLES", "").split(",") if n.strip()]
    unknown = set(wanted) - {r.name for r in ROLES}
    assert not unknown, f"CONTRACT_ROLES: no such role {sorted(unknown)}"
    return [r for r in ROLES if not wanted or r.name in wanted]


def unknown_operations() -> list[str]:
    """Operation ids of the roles' ``own`` that openapi.yaml does not have (renamed?)."""
    import yaml

    schema = yaml.safe_load((live.ROOT / "openapi.yaml").read_text())
    ids = {
        operation.get("operationId")
        for methods in schema["paths"].values()
        for operation in methods.values()
        if isinstance(operation, dict)
    }
    return sorted({op for role in ROLES for op in role.own} - ids)


# --- The server ---------------------------------------------------------------------------


def wait_until_ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, f"gunicorn exited ({server.returncode}):\n{tail(log)}"
        with suppress(OSError), urllib.request.urlopen(f"{url}/readyz", timeout=2) as answer:
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"gunicorn did not answer on {url} within 60 s:\n{tail(log)}")


@contextmanager
def gunicorn(env: dict[str, str], log: Path) -> Iterator[str]:
    """gunicorn serving config.wsgi as the Dockerfile does, with its settings file (here two
    workers of four threads, for two cores, and no access log) on a free port of 8400-8499,
    in a process group of its own;
    stopped after, and killed with its workers if they outlive the warm shutdown."""
    port = live.free_port(PORTS)
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                "config/gunicorn.conf.py",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--graceful-timeout",
                "10",
            ],
            cwd=live.ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(url, server, log)
        yield url
    finally:
        pids = [server.pid, *live.descendants(server.pid)]
        live.stop(server)
        with suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def cache_database() -> Any:
    """The Redis URL of the server's cache (CONTRACT_REDIS_DB of the suite's REDIS_URL),
    emptied before and after; None on the embedded default (files under DATA_DIR)."""
    return live.redis_database(setting("CONTRACT_REDIS_DB", 10))


def still_signed_in(url: str, authorization: str) -> int:
    """The status of a read with the role's credential; 0 when the server does not answer."""
    request = urllib.request.Request(
        f"{url}/api/v1/me/notifications/", headers={"Authorization": authorization}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)
    except OSError:  # refused, reset or timed out: the server is gone or stuck
        return 0


# --- Schemathesis -------------------------------------------------------------------------


@dataclass
class Result:
    role: str
    exit_code: int
    seconds: float
    output: Path
    selected: int = 0
    tested: int = 0
    cases: int = 0
    failures: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    signed_in: int = 0

    def row(self) -> str:
        logouts = "-"
        if self.usage:
            logouts = f"{self.usage['logout']}/{self.usage['logout_all']}"
        result = "ok" if self.exit_code == 0 else f"exit {self.exit_code}"
        return line(
            self.role,
            f"{self.tested}/{self.selected}",
            self.cases,
            self.failures,
            logouts,
            f"{self.seconds:.0f}",
            result,
        )


def line(
    role: str, ops: str, cases: Any, failures: Any, logouts: str, seconds: str, result: str
) -> str:
    return f"{role:<9} {ops:>6} {cases:>7} {failures:>8} {logouts:>9} {seconds:>7}  {result}"


def table(results: list[Result], title: str) -> str:
    """One line a role: operations tested of those selected, test cases generated, unique
    failures, logout / logout-all calls given a pool's token, seconds, the exit status."""
    header = line("role", "ops", "cases", "failures", "logouts", "seconds", "result")
    total = line(
        "total",
        "",
        sum(r.cases for r in results),
        sum(r.failures for r in results),
        "",
        f"{sum(r.seconds for r in results):.0f}",
        "",
    )
    return "\n".join([title, header, *(r.row() for r in results), total])


def role_config(role: Role, directory: Path) -> Path:
    """tests/contract/schemathesis.toml, with the role's own cache (crash files) and, with
    CONTRACT_OTHER_EXAMPLES, per-operation example counts."""
    text = (HERE / "schemathesis.toml").read_text()
    cache = json.dumps(str(directory / "cache"))
    text = f"[cache]\ndirectory = {cache}\n\n{text}"
    if OTHER_EXAMPLES is not None:
        # Without --max-examples on the command line, the stateful phase would fall back to
        # its own default: it keeps CONTRACT_MAX_EXAMPLES (scenarios, not per operation).
        text += f"\n[phases.stateful.generation]\nmax-examples = {MAX_EXAMPLES}\n"
        for ids, examples in ((role.own, MAX_EXAMPLES), (None, OTHER_EXAMPLES)):
            text += "\n[[operations]]\n"
            if ids is None:
                text += f"exclude-operation-id = {json.dumps(list(role.own))}\n"
            else:
                text += f"include-operation-id = {json.dumps(list(ids))}\n"
            text += f"generation.max-examples = {examples}\n"
            if ids is None:
                # The coverage phase's boundary cases go to the role that uses the
                # operation; the others check, in their fuzzed cases, that it refuses them.
                text += "phases.coverage.enabled = false\n"
    path = directory / "schemathesis.toml"
    path.write_text(text)
    return path


def run_schemathesis(role: Role, url: str, credentials: Path, directory: Path) -> Result:
    directory.mkdir()
    output = directory / "output.txt"
    usage = directory / "logout-tokens.json"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "CONTRACT_AUTHORIZATION": json.loads(credentials.read_text())[role.name]["authorization"],
        "CONTRACT_ROLE": role.name,
        "CONTRACT_TOKEN_POOL": str(credentials),
        "CONTRACT_TOKEN_USAGE": str(usage),
        "SCHEMATHESIS_HOOKS": str(HERE / "hooks.py"),
        "COLUMNS": "120",
    }
    command = [
        str(BIN / "schemathesis"),
        "--config-file",
        str(role_config(role, directory)),
        "run",
        str(live.ROOT / "openapi.yaml"),
        "--url",
        url,
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        # One worker (thread) a process: under two, hypothesis' lambda descriptions run
        # ast in two threads at once and CPython 3.11 can fail with "SystemError: AST
        # constructor recursion depth mismatch" (a tool error, not the API's). Roles run
        # side by side as processes instead (CONTRACT_PARALLEL).
        "--workers",
        "1",
        "--report",
        "junit,ndjson",
        "--report-dir",
        str(directory),
        "--no-color",
        # No example database in the checkout (.hypothesis/): each run starts afresh; its
        # failures are kept as crash files for `schemathesis replay`.
        "--generation-database",
        ":memory:",
    ]
    if OTHER_EXAMPLES is None:
        command += ["--max-examples", str(MAX_EXAMPLES)]
    if CONTINUE_ON_FAILURE:
        command.append("--continue-on-failure")
    if os.environ.get("CONTRACT_SEED"):
        command += ["--seed", os.environ["CONTRACT_SEED"]]
    started = time.monotonic()
    with output.open("w") as out:
        done = subprocess.run(
            command, cwd=live.ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=3600
        )
    result = Result(role.name, done.returncode, time.monotonic() - started, output)
    parse_summary(result, output.read_text())
    if usage.exists():
        result.usage = json.loads(usage.read_text())
    return result


def parse_summary(result: Result, text: str) -> None:
    """The counts of schemathesis' closing summary."""
    if found := re.search(r"Selected:\s*(\d+)/(\d+)", text):
        result.selected = int(found.group(1))
    if found := re.search(r"Tested:\s*(\d+)", text):
        result.tested = int(found.group(1))
    if found := re.search(r"Test cases:\s*\n?\s*([\d,]+) generated", text):
        result.cases = int(found.group(1).replace(",", ""))
    if found := re.search(r"([\d,]+) unique failures?", text):
        result.failures = int(found.group(1).replace(",", ""))


def tail(path: Path, chars: int = 6000) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-chars:]


def failures(path: Path, chars: int = 30000) -> str:
    """Schemathesis' FAILURES section of a report (each failure with its curl line and case
    id), or the report's end when it has none (a tool error)."""
    text = path.read_text(errors="replace") if path.exists() else ""
    start = text.find(" FAILURES ")
    if start < 0:
        return text[-6000:]
    start = text.rfind("\n", 0, start) + 1
    end = text.find(" WARNINGS ", start)
    end = text.rfind("\n", start, end) if end > 0 else len(text)
    section = text[start:end]
    return (
        section
        if len(section) <= chars
        else section[:chars] + "\n[... cut; the whole report is in the file]"
    )


# --- The test -----------------------------------------------------------------------------


@pytest.mark.contract
def test_the_server_keeps_the_openapi_contract_for_every_role(tmp_path: Path) -> None:
    roles = selected_roles()
    assert not unknown_operations(), f"not in openapi.yaml: {unknown_operations()}"
    secret = secrets.token_urlsafe(40)
    with (
        live.database(tmp_path, prefix="mediation_contract") as database_url,
        live.broker(redis_db=setting("CONTRACT_BROKER_DB", 11)) as broker,
        cache_database() as cache_url,
    ):
        env = live.environment(
            tmp_path / "data",
            database_url,
            broker,
            DJANGO_DEBUG="0",
            DJANGO_HTTPS="0",
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DJANGO_SECRET_KEY=secret,
            AUDIT_HMAC_KEY=secrets.token_urlsafe(40),
            API_THROTTLE_ANON="off",
            API_THROTTLE_USER="off",
            # Room for the logout pools (tokens.py): each new token past the limit would
            # revoke the user's oldest, their main token first.
            API_TOKENS_PER_USER=str(TOKEN_POOL + 100),
            # No DNS look-ups of generated host names at registration; nothing is delivered
            # anyway, since no Celery worker runs.
            WEBHOOKS_ALLOW_PRIVATE_URLS="1",
            # Errors with their tracebacks (django.request still logs each 4xx in a line).
            LOG_LEVEL="ERROR",
            GUNICORN_ACCESS_LOG="",
            # No worker recycling: a run of ~16,000 requests would restart each worker
            # several times, each restart a fresh Django start-up on a busy machine.
            GUNICORN_MAX_REQUESTS="0",
        )
        env.pop("REDIS_URL", None)
        if cache_url:
            env["REDIS_URL"] = cache_url
        (tmp_path / "data").mkdir()
        live.manage(env, "migrate", "--noinput")
        live.manage(env, "seed_demo")
        credentials = tmp_path / "credentials.json"
        spec = [{"role": r.name, "kind": r.kind, "user": r.user} for r in roles]
        live.manage(
            env,
            "shell",
            "-c",
            "from tests.contract.tokens import issue; "
            f"issue({spec!r}, {TOKEN_POOL}, {str(credentials)!r})",
        )
        with gunicorn(env, tmp_path / "gunicorn.log") as url:

            def run(role: Role) -> Result:
                result = run_schemathesis(role, url, credentials, tmp_path / role.name)
                authorization = json.loads(credentials.read_text())[role.name]["authorization"]
                result.signed_in = still_signed_in(url, authorization)
                return result

            names = ", ".join(f"{r.name} ({r.user})" for r in roles)
            conftest.progress(f"contract: {names} against {url}, {PARALLEL} at a time ...")
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
                running = [pool.submit(run, role) for role in roles]
                for done in as_completed(running):
                    conftest.progress(done.result().row())
            results = [future.result() for future in running]
            wall = time.monotonic() - started

    mode = f"{MAX_EXAMPLES} examples per operation"
    if PARALLEL > 1:
        mode += f", {PARALLEL} roles at a time"
    if OTHER_EXAMPLES is not None:
        mode += f" of the role's own, {OTHER_EXAMPLES} of the others"
    if CONTINUE_ON_FAILURE:
        mode += ", continuing after failures"
    summary = table(results, f"schemathesis against openapi.yaml ({mode}); reports in {tmp_path}")
    summary += f"\nschemathesis wall time, all roles: {wall:.0f} s" if len(results) > 1 else ""
    conftest.SUMMARIES.append(summary)

    problems = []
    for r in results:
        if r.exit_code != 0:
            problems.append(
                f"--- {r.role}: schemathesis exit code {r.exit_code}; the failures in "
                f"{r.output}:\n{failures(r.output)}"
            )
        if r.tested == 0:
            problems.append(f"--- {r.role}: no operation was tested:\n{tail(r.output, 2000)}")
        if r.usage.get("exhausted"):
            problems.append(
                f"--- {r.role}: the logout pools ran dry {r.usage['exhausted']} "
                "times (raise CONTRACT_TOKEN_POOL)"
            )
        if r.signed_in == 0:
            problems.append(
                f"--- {r.role}: the server no longer answered after the role's run "
                f"(the end of its log):\n{tail(tmp_path / 'gunicorn.log', 3000)}"
            )
        elif r.signed_in != 200:
            problems.append(
                f"--- {r.role}: the role's own credential no longer works after "
                f"its run (GET /me/notifications/ answered {r.signed_in})"
            )
    log = (tmp_path / "gunicorn.log").read_text(errors="replace")
    if (errors := log.count("Internal Server Error:")) or "Traceback" in log:
        first = log[log.find("Traceback") :][:3000] if "Traceback" in log else ""
        problems.append(f"--- the server logged {errors} 500s; the first traceback:\n{first}")
    if problems:
        problems.append(
            "To replay a case against a server with the same demo data (make run on a fresh "
            "var/, or on SQLite this run's live.sqlite3, whose tokens are in credentials.json):"
            "\n  CONTRACT_AUTHORIZATION='Token <a token of the role>' "
            f"{BIN}/schemathesis --config-file {tmp_path}/<role>/schemathesis.toml "
            "replay <case id> --url http://127.0.0.1:8000"
        )
    assert not problems, summary + "\n\n" + "\n\n".join(problems)

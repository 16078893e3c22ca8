"""Beat is no single point of failure (README "Queues" and "Scaling out"): on a Redis broker
(deployment) the scheduler is RedBeat, a lock in Redis, so two beats send each periodic task
once, and the standby takes over when the active one dies; ``manage.py beat_health`` (the
compose healthcheck) says whether the periodic tasks are being sent."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests import live

SWEEP = "workflows.sweep_deadlines"


def _health(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "beat_health", *args],
        cwd=live.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _sent(client: redis.Redis, task: str = SWEEP) -> int:
    """Messages for ``task`` waiting in the "celery" queue (no worker takes them here)."""
    return sum(
        1 for raw in client.lrange("celery", 0, -1) if json.loads(raw)["headers"]["task"] == task
    )


def test_without_a_run_the_beat_is_unhealthy(tmp_path: Path) -> None:
    with live.database(tmp_path) as database_url, live.broker(redis_db=8) as broker:
        env = live.environment(tmp_path, database_url, broker)
        live.manage(env, "migrate", "--noinput")
        done = _health(env)
    assert done.returncode == 1
    assert "has not sent sweep-deadlines yet" in done.stderr


def test_two_beats_send_each_tick_once_and_the_standby_takes_over(tmp_path: Path) -> None:
    with live.database(tmp_path) as database_url, live.broker(redis_db=7) as broker:
        if not broker.startswith("redis"):
            pytest.skip("RedBeat needs the Redis broker (the PostgreSQL + Redis suite)")
        env = live.environment(
            tmp_path,
            database_url,
            broker,
            BEAT_INTERVAL_SECONDS="1",
            BEAT_LOCK_TIMEOUT_SECONDS="4",
        )
        live.manage(env, "migrate", "--noinput")
        client = redis.Redis.from_url(broker)
        logs = [tmp_path / "beat-a.log", tmp_path / "beat-b.log"]
        files = [path.open("w") for path in logs]
        beats = [live.beat(env, f) for f in files]
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and _sent(client) < 3:
                time.sleep(0.2)
            assert _sent(client) >= 3, [p.read_text()[-2000:] for p in logs]
            start, began = _sent(client), time.monotonic()
            time.sleep(6)
            sent, elapsed = _sent(client) - start, time.monotonic() - began
            # One beat's ticks: about one a second, not two.
            assert sent <= elapsed + 2, (sent, elapsed)
            assert sent >= elapsed / 2 - 1, (sent, elapsed)
            first = _health(env)
            assert first.returncode == 0, (
                first.stderr[-500:],
                sorted(client.keys("redbeat*")),
                client.hgetall("redbeat:sweep-deadlines"),
            )

            # The active beat dies without a word; the standby takes the lock once it lapses.
            active = next(i for i, p in enumerate(logs) if "Acquired lock" in p.read_text())
            live.kill(beats[active])
            killed_at, before = time.monotonic(), _sent(client)
            deadline = killed_at + 30
            while time.monotonic() < deadline and _sent(client) < before + 3:
                time.sleep(0.2)
            assert _sent(client) >= before + 3, logs[1 - active].read_text()[-3000:]
            assert "Acquired lock" in logs[1 - active].read_text()
            assert time.monotonic() - killed_at < 4 + 10  # the lock's timeout, and a tick
            health = _health(env)
            assert health.returncode == 0, health.stderr
            assert "ok: beat (RedBeat)" in health.stdout
        finally:
            live.stop(*beats)
            for f in files:
                f.close()
        # No beat sends: unhealthy once the entry's last run is older than the limit.
        time.sleep(2.5)
        stale = _health(env, "--max-age", "2")
        client.close()
    assert stale.returncode == 1
    assert "last sent sweep-deadlines" in stale.stderr

"""The broker on local files (the embedded default): a worker never reads a message that
is still being written (config.broker).

kombu's stock filesystem transport creates the message file under its final name before it
writes the body, so a worker polling the folder at that moment takes the file, reads it
empty and stops (``Unrecoverable error: JSONDecodeError``; seen in ``make run``'s worker).
Here a producer thread puts large messages while a consumer takes them as fast as it can:
with the stock transport the consumer soon meets an empty or cut file; with ours, every
message arrives whole and in order.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

from kombu import Connection
from kombu.transport import filesystem, resolve_transport

from config import broker

MESSAGES = 20
# Slow to encode (kombu's encoder calls back into Python for each UUID, about 70 ms in
# all): the stock transport encodes the body after creating the file, and the consumer
# thread gets its turn meanwhile (the test switches threads often).
BODY = [uuid.uuid4() for _ in range(20_000)]


def _channel(transport: Any, folder: Path) -> Any:
    options = {
        "data_folder_in": str(folder / "broker"),
        "data_folder_out": str(folder / "broker"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }
    for name in ("broker", "processed", "control"):
        (folder / name).mkdir(exist_ok=True)
    return Connection("filesystem://", transport=transport, transport_options=options).channel()


def _race(transport: Any, folder: Path) -> tuple[list[int], list[str]]:
    """Put MESSAGES while taking them; (the numbers read, the errors met)."""
    producer, consumer = _channel(transport, folder), _channel(transport, folder)
    done = threading.Event()

    def put() -> None:
        for i in range(MESSAGES):
            producer._put("q", {"n": i, "body": BODY})
        done.set()

    thread = threading.Thread(target=put)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0001)
    thread.start()
    read: list[int] = []
    errors: list[str] = []
    try:
        while len(read) + len(errors) < MESSAGES and not (errors and done.is_set()):
            try:
                message = consumer._get("q")
            except filesystem.Empty:
                if done.is_set() and not consumer._size("q"):
                    break
                continue
            except (ValueError, json.JSONDecodeError) as exc:
                errors.append(repr(exc)[:80])
                continue
            read.append(message["n"])
            assert message["body"] == BODY
    finally:
        thread.join()
        sys.setswitchinterval(interval)
    return read, errors


def test_a_consumer_never_reads_a_message_being_written(tmp_path: Path) -> None:
    read, errors = _race(broker.Transport, tmp_path)
    assert errors == []
    assert read == list(range(MESSAGES))
    # nothing half-written is left behind either
    assert [p.name for p in (tmp_path / "broker").iterdir()] == []


def test_the_stock_transport_lets_a_consumer_read_a_half_written_message(
    tmp_path: Path,
) -> None:
    """The race config.broker closes, shown on kombu's own transport: the consumer reads
    files still empty (when a kombu release fixes it, this test fails, and config.broker
    can go)."""
    _, errors = _race(filesystem.Transport, tmp_path)
    assert errors, "kombu's filesystem transport no longer shows the race"
    assert "Expecting value" in errors[0]


def test_every_process_means_ours_by_filesystem() -> None:
    """config.celery installs it: the web, the workers and beat, whatever their broker URL
    says at the time (a Redis URL keeps kombu's Redis transport)."""
    import config.celery  # noqa: F401  (what every process imports through config)

    assert resolve_transport("filesystem") is broker.Transport
    assert type(Connection("filesystem://").transport) is broker.Transport
    assert resolve_transport("redis") is not broker.Transport

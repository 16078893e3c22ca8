"""Threads for the PostgreSQL concurrency tests: each with its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar, cast

from django.db import connections

T = TypeVar("T")


def run_together(
    calls: Sequence[Callable[[], T]], *, name: str = "thread", timeout: float = 120
) -> list[T]:
    """Run each call in its own thread (named ``{name}-{i}``), all released at once by a
    barrier; their results in order. Fails if a thread hung or raised."""
    barrier = threading.Barrier(len(calls))
    results: list[T | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = call()
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [
        threading.Thread(target=run, args=(i, call), name=f"{name}-{i}")
        for i, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), f"a {name} hung"
    assert not errors, errors
    return cast(list[T], results)  # every thread finished its call


@contextmanager
def in_background(call: Callable[[], object], *, timeout: float = 30) -> Iterator[None]:
    """Run ``call`` in a thread with its own connection while the block runs; on leaving,
    join it and fail if it hung or raised."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield
    finally:
        thread.join(timeout=timeout)
    assert not thread.is_alive(), "the background thread hung"
    assert not errors, errors

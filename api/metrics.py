"""What the API counts for ``/metrics`` (config/metrics.py exports it): the dispute actions
asked for, by action and outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import Counter
from rest_framework.exceptions import APIException

TRANSITIONS = Counter(
    "mediation_transitions_total",
    "Dispute actions asked for through the API, by action and outcome (ok, "
    "waiting_for_approval, or the refusal's problem code).",
    ["action", "outcome"],
)


def outcome_of(exc: BaseException) -> str:
    """A refusal's problem code (a fixed set, so the label stays small); ``error`` else."""
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code:
        return code
    if isinstance(exc, APIException):
        return str(exc.default_code)
    return "error"


@contextmanager
def counted(action: str) -> Iterator[Callable[[Any], None]]:
    """Counts one action: ``done(result)`` on success, the exception's code on a refusal."""
    outcome: list[str] = []

    def done(result: Any) -> None:
        outcome.append("waiting_for_approval" if result.waiting_for_approval else "ok")

    try:
        yield done
    except Exception as exc:
        TRANSITIONS.labels(action=action, outcome=outcome_of(exc)).inc()
        raise
    TRANSITIONS.labels(action=action, outcome=outcome[0] if outcome else "ok").inc()

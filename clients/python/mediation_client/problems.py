"""Answers as values or exceptions (written by hand; the generator keeps it).

A generated ``sync()`` returns the parsed body: the model on success, a
:class:`~mediation_client.models.Problem` (the service's ``application/problem+json``, with its
stable ``code``) for an error status, ``None`` for a status the schema does not describe.
:func:`expect` keeps the model and raises the rest, so that a script reads straight on::

    from mediation_client.problems import ApiError, expect

    try:
        dispute = expect(make_offer.sync(dispute_id, client=shop, body=offer))
    except ApiError as error:
        if error.code != "invalid_transition":  # someone answered first
            raise
"""

from __future__ import annotations

from typing import TypeVar

from .models.problem import Problem

T = TypeVar("T")


class ApiError(Exception):
    """The service refused the request: :attr:`problem` is its answer (``status``, ``code``,
    ``detail``, and per field ``errors`` for a 400)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.status} {problem.code}: {problem.detail}")
        self.problem = problem

    @property
    def status(self) -> int:
        return self.problem.status

    @property
    def code(self) -> str:
        return self.problem.code


class UnexpectedAnswer(Exception):
    """An answer the schema does not describe (a status it does not list, or none)."""


def expect(result: T | Problem | None) -> T:
    """``result`` when it is the answer the call hoped for; :class:`ApiError` for a problem,
    :class:`UnexpectedAnswer` for ``None``."""
    if isinstance(result, Problem):
        raise ApiError(result)
    if result is None:
        raise UnexpectedAnswer("the service answered with a status the schema does not describe")
    return result

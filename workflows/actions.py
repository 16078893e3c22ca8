"""The action registry: every action of the dispute lifecycle, declared once, where its
service is defined.

Each service of a stage module (:mod:`workflows.negotiation`, :mod:`workflows.review`,
:mod:`workflows.fulfilment`, :mod:`workflows.appeal`) carries an ``@action(...)``
declaration: its API slug (``POST /api/v1/disputes/{id}/<slug>/``, and its name in
``allowed_actions`` and the console), the django-fsm transition of ``Dispute.state`` it
runs (named like the action, so the state diagram reads like the API), its guard
(body-independent, so the same function computes ``allowed_actions``), the audit steps it
records with what each means outside the log (its outbox event, its timeline sentence, its
email: :class:`workflows.steps.Step`), the API's description of it and the console's
button. The index :mod:`workflows.transitions` imports every stage, so its ``ACTIONS``,
``CHECKS`` and the event catalogue are complete; the API (one view per entry), the console
(its buttons), events, the timeline, the emails and the transition-matrix test read them.

Adding an action: the transition on ``Dispute`` (mediation/models.py); its guard and its
service with their ``@action`` in the module of its stage; its input serializer
(api/serializers.py, ``@input_for``); plus email templates when a step sends one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from mediation.actors import Roles
from mediation.models import Dispute
from workflows.steps import STEPS, Step

Guard = Callable[[Dispute, Roles, datetime], None]
Service = TypeVar("Service", bound=Callable[..., Any])

# The stage modules in the order of the lifecycle: the order of allowed_actions, of the
# API's routes and of the console's buttons (within a stage, the order of definition).
STAGES = (
    "workflows.negotiation",
    "workflows.review",
    "workflows.fulfilment",
    "workflows.appeal",
)


@dataclass(frozen=True)
class Action:
    slug: str  # the API path segment, the name in allowed_actions and in the console
    transition: Callable[..., Any]  # the Dispute.state transition, named like the action
    guard: Guard | None  # body-independent refusals (None: the service checks all)
    service: Callable[..., Any]  # the use case; returns a workflows.base.Result
    records: tuple[str, ...]  # the audit steps it may write (declared with it)
    summary: str  # the API operation's title, a few words
    description: str  # for the API's documentation
    console: str | None = None  # the console's button, when mediators take it there
    # Offered in allowed_actions and routed as POST /disputes/{id}/<slug>/; an action on one
    # of the dispute's offers has a route of its own (``offers/{offer}/approve/``).
    offered: bool = True

    @property
    def transition_name(self) -> str:
        return str(self.transition.__name__)

    @property
    def position(self) -> tuple[int, int]:
        return STAGES.index(self.service.__module__), self.service.__code__.co_firstlineno


_registered: dict[str, Action] = {}


def action(
    slug: str,
    *,
    transition: Callable[..., Any],
    guard: Guard | None,
    steps: dict[str, Step],
    summary: str,
    description: str,
    console: str | None = None,
    offered: bool = True,
) -> Callable[[Service], Service]:
    """Declare the decorated service as the action ``slug`` (see the module's docstring)."""

    def register(service: Service) -> Service:
        if slug in _registered:
            raise ValueError(f"The action {slug!r} is declared twice.")
        for name, step in steps.items():
            if name in STEPS:
                raise ValueError(f"The audit step {name!r} is declared twice.")
            STEPS[name] = step
        _registered[slug] = Action(
            slug=slug,
            transition=transition,
            guard=guard,
            service=service,
            records=tuple(steps),
            summary=summary,
            description=description,
            console=console,
            offered=offered,
        )
        return service

    return register


def registered() -> dict[str, Action]:
    """Every action declared so far, in the order of the lifecycle (complete once every
    stage module is imported: use ``workflows.transitions.ACTIONS``)."""
    return {a.slug: a for a in sorted(_registered.values(), key=lambda a: a.position)}

"""The frame every dispute use case runs in.

``locked_dispute`` opens the transaction, locks the dispute row (scoped to what the actor
may see, so an invisible dispute is "not found" in every entry point), resolves the
actor's roles and checks the optimistic version. The use case then checks its guards,
runs the django-fsm transition, records the audit entry, and ``finish`` saves the row,
all before the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from mediation import audit
from mediation.actors import Roles, SystemActor, roles_for
from mediation.errors import Conflict, NotFound, VersionConflict
from mediation.models import Dispute, State, Visibility
from mediation.selectors import attach_membership, disputes_for
from workflows import events, policy


@dataclass
class Context:
    dispute: Dispute
    actor: Any
    roles: Roles
    now: datetime
    from_state: str = ""
    changed: bool = False
    audit_entries: list[Any] = field(default_factory=list)

    def record(
        self, action: str, payload: dict[str, Any] | None = None, *, internal: bool = False
    ) -> None:
        self.audit_entries.append(
            audit.record(
                self.dispute,
                actor=self.actor,
                roles=self.roles,
                action=action,
                from_state=self.from_state,
                payload=payload,
                visibility=Visibility.MEDIATORS if internal else Visibility.ALL,
            )
        )


@dataclass
class Result:
    """What a use case did; ``waiting_for_approval`` makes the API answer 202."""

    dispute: Dispute
    waiting_for_approval: bool = False
    created: Any = None


def lock(dispute_id: Any, actor: Any) -> Dispute:
    qs = disputes_for(actor).select_for_update(of=("self",))
    if isinstance(actor, SystemActor):
        # The system's use cases (deadlines, reminders, SLA flags) read no related row: a
        # lighter lock query keeps the deadline sweeper fast.
        qs = qs.select_related(None)
    try:
        dispute = qs.get(pk=int(dispute_id))
    except (Dispute.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such dispute.") from None
    if getattr(actor, "pk", None) is not None:
        attach_membership(dispute, actor)
    return dispute


@contextmanager
def locked_dispute(
    dispute_id: Any, actor: Any, *, expected_version: int | None = None
) -> Iterator[Context]:
    with transaction.atomic():
        dispute = lock(dispute_id, actor)
        if expected_version is not None and dispute.version != expected_version:
            raise VersionConflict(
                f"The dispute is at version {dispute.version}, not {expected_version}: "
                "read it again and retry.",
                current_version=dispute.version,
            )
        ctx = Context(
            dispute=dispute,
            actor=actor,
            roles=roles_for(actor, dispute),
            now=timezone.now(),
            from_state=dispute.state,
        )
        if not ctx.roles.can_see:
            raise NotFound("No such dispute.")
        yield ctx
        if ctx.changed:
            dispute.version += 1
        if ctx.changed or ctx.audit_entries:
            try:
                dispute.save()
            except IntegrityError:
                # The only constraint a dispute row can break on save: an appeal reopening
                # a dispute while a new one was raised on the same order.
                raise Conflict(
                    "Another dispute is open on this order.", code="dispute_already_open"
                ) from None
        # The events of the change, in its transaction: nothing is sent for a rollback.
        events.emit(ctx.audit_entries)


def deadline_for(
    state: str, now: datetime, *, reason: str = "", override: datetime | None = None
) -> datetime | None:
    """``respond_by`` on entering ``state`` (DESIGN §4 deadline column): from the deadline
    policy table (cached, no query per transition), per reason, defaulting to settings."""
    if state == State.CLOSED:
        return None
    if override is not None:
        return override
    delta = policy.duration(state, reason)
    return now + delta if delta else None


def enter(ctx: Context, *, respond_by: datetime | None = None) -> None:
    """Bookkeeping after a transition method moved the state."""
    dispute = ctx.dispute
    dispute.respond_by = deadline_for(
        dispute.state, ctx.now, reason=dispute.reason, override=respond_by
    )
    if dispute.state == State.CLOSED:
        dispute.closed_at = ctx.now
    ctx.changed = True

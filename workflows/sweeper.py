"""The deadline sweeper (DESIGN §4 "on deadline (system)", §6).

Three passes, each over due disputes in batches locked with ``SELECT ... FOR UPDATE SKIP
LOCKED``, each batch one transaction:

- **transitions**: ``awaiting_seller -> escalated`` (seller_no_response), ``awaiting_buyer
  -> closed`` (lapsed), ``awaiting_info -> under_review``, ``awaiting_fulfilment ->
  escalated`` (fulfilment_overdue), through :func:`workflows.transitions.apply_deadline`,
  the same service a person's action goes through, as the system actor, with its audit
  entry and outbox events;
- **SLA breaches** of ``escalated``, ``under_review`` and ``pending_approval``: not a
  transition; the dispute is flagged (``overdue_flagged_for``) and an audit entry
  ``sla_breached`` (event ``dispute.overdue``) is written, once per deadline;
- **reminders** before a party's deadline (policy ``remind_before``: seller 4 h, buyer
  24 h): an audit entry ``reminder`` (event ``dispute.reminder``), once per deadline
  (``reminded_for``);
- **feedback reminders**: ``MEDIATION_FEEDBACK_REMINDER_AFTER`` (48 h) after a dispute
  closed (``feedback_due_at``), the parties who have not rated its handling are asked to:
  an audit entry ``feedback_reminder`` (event ``dispute.feedback_requested``), once per
  dispute (``feedback_reminded_at``), none when both have rated.

Each batch is locked with one query, each service runs on the locked rows inside
:func:`workflows.base.batch` (guards, fsm transition, audit entry, as for a person), and
the batch's dispute rows, audit entries and outbox rows are written with one statement
each at its end: a handful of statements per batch instead of several per dispute.

Exactly once: a second sweeper skips the rows the first holds; a row it does get is
re-checked under its lock by the service, which refuses what is no longer due (someone,
or another sweeper, got there first) and the refusal is counted, not raised. On SQLite,
which has no row locks, ``skip_locked`` is ignored: one sweeper at a time there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from mediation.actors import SYSTEM, Actor
from mediation.errors import DomainError, Forbidden, RuleViolation
from mediation.models import (
    SLA_STATES,
    TRANSITION_STATES,
    Dispute,
    Feedback,
    Party,
    Remedy,
    State,
)
from workflows import base, counters, policy
from workflows.base import Result, locked_dispute
from workflows.transitions import apply_deadline

log = logging.getLogger(__name__)

S = State

Progress = Callable[[int], None]


def _not_done_for(column: str) -> Q:
    """``column`` is not the current ``respond_by`` (NULL-safe)."""
    return (
        Q(**{f"{column}__isnull": True})
        | Q(**{f"{column}__lt": F("respond_by")})
        | Q(**{f"{column}__gt": F("respond_by")})
    )


def due_transitions(now: datetime) -> Q:
    return Q(state__in=TRANSITION_STATES, respond_by__lte=now)


def due_sla_flags(now: datetime) -> Q:
    # The same test as the API's ``overdue`` filter (respond_by < now).
    return Q(state__in=SLA_STATES, respond_by__lt=now) & _not_done_for("overdue_flagged_for")


def due_reminders(now: datetime) -> Q:
    """Disputes whose party's reminder is due: within ``remind_before`` of a deadline that
    has not passed yet, and not yet reminded for this deadline."""
    windows = Q(pk__in=[])
    for state, (default, overrides) in policy.reminder_leads().items():
        in_state = Q(state=state)
        for reason, lead in overrides.items():
            if lead:
                windows |= in_state & Q(reason=reason, respond_by__lte=now + lead)
        if default:
            windows |= in_state & ~Q(reason__in=list(overrides)) & Q(respond_by__lte=now + default)
    return windows & Q(respond_by__gt=now) & _not_done_for("reminded_for")


def due_feedback_reminders(now: datetime) -> Q:
    """Closed disputes whose parties are to be asked for their rating now."""
    return Q(feedback_due_at__lte=now)


def reminded_party(dispute: Dispute) -> str:
    if dispute.state == S.AWAITING_BUYER:
        return Party.BUYER
    if dispute.state == S.AWAITING_INFO:
        return dispute.info_requested_from or "party"
    if dispute.state == S.AWAITING_FULFILMENT:
        # A return travels first: the buyer must ship it before the shop can refund.
        if dispute.agreed_kind == Remedy.RETURN_AND_REFUND and not dispute.return_shipped:
            return Party.BUYER
        return Party.SELLER
    if dispute.state in SLA_STATES:
        return "platform"
    return Party.SELLER


# --- The services the sweeper calls, besides apply_deadline --------------------------------


def flag_overdue(*, dispute_id: int, actor: Actor = SYSTEM) -> Result:
    """Flag the breach of the platform's deadline (DESIGN §4: escalated, under_review,
    pending_approval stay where they are, flagged overdue), once per deadline."""
    with locked_dispute(dispute_id, actor) as ctx:
        d = ctx.dispute
        if not ctx.roles.system:
            raise Forbidden("SLA breaches are flagged by the system.")
        if not (
            d.state in SLA_STATES
            and d.respond_by is not None
            and d.respond_by < ctx.now
            and d.overdue_flagged_for != d.respond_by
        ):
            raise RuleViolation("Not overdue, or already flagged.", code="not_due")
        d.overdue_flagged_for = d.respond_by
        ctx.record("sla_breached", {"respond_by": d.respond_by, "state": d.state})
    return Result(ctx.dispute)


def send_reminder(*, dispute_id: int, actor: Actor = SYSTEM) -> Result:
    """Remind the party whose deadline is near (policy ``remind_before``), once per deadline."""
    with locked_dispute(dispute_id, actor) as ctx:
        d = ctx.dispute
        if not ctx.roles.system:
            raise Forbidden("Reminders are sent by the system.")
        lead = policy.remind_before(d.state, d.reason)
        if not (
            lead
            and d.respond_by is not None
            and ctx.now < d.respond_by <= ctx.now + lead
            and d.reminded_for != d.respond_by
        ):
            raise RuleViolation("No reminder is due.", code="not_due")
        d.reminded_for = d.respond_by
        ctx.record("reminder", {"party": reminded_party(d), "respond_by": d.respond_by})
    return Result(ctx.dispute)


def remind_to_rate(*, dispute_id: int, actor: Actor = SYSTEM) -> Result:
    """Ask the parties who have not rated the handling of a closed dispute to rate it,
    once per dispute (``feedback_due_at`` set on closing; a reopened dispute clears it)."""
    with locked_dispute(dispute_id, actor) as ctx:
        d = ctx.dispute
        if not ctx.roles.system:
            raise Forbidden("Feedback reminders are sent by the system.")
        if not (
            d.state == S.CLOSED
            and d.feedback_due_at is not None
            and d.feedback_due_at <= ctx.now
            and d.feedback_reminded_at is None
        ):
            raise RuleViolation("No feedback reminder is due.", code="not_due")
        rated = set(Feedback.objects.filter(dispute_id=d.pk).values_list("party", flat=True))
        parties = [p for p in (Party.BUYER, Party.SELLER) if p not in rated]
        d.feedback_due_at = None
        d.feedback_reminded_at = ctx.now
        ctx.changed = True
        if parties:
            ctx.record("feedback_reminder", {"parties": parties})
    return Result(ctx.dispute)


# --- The sweep ------------------------------------------------------------------------------


@dataclass
class PassReport:
    applied: int = 0
    skipped: int = 0  # no longer due under the lock: someone got there first
    failed: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"applied": self.applied, "skipped": self.skipped, "failed": self.failed}


@dataclass
class SweepReport:
    transitions: PassReport = field(default_factory=PassReport)
    sla_flags: PassReport = field(default_factory=PassReport)
    reminders: PassReport = field(default_factory=PassReport)
    feedback_reminders: PassReport = field(default_factory=PassReport)
    seconds: float = 0.0
    complete: bool = True  # False when the time budget ran out with work left

    def as_dict(self) -> dict[str, Any]:
        return {
            "transitions": self.transitions.as_dict(),
            "sla_flags": self.sla_flags.as_dict(),
            "reminders": self.reminders.as_dict(),
            "feedback_reminders": self.feedback_reminders.as_dict(),
            "seconds": round(self.seconds, 3),
            "complete": self.complete,
        }


@dataclass
class Due:
    transitions: list[Dispute]
    sla_flags: list[Dispute]
    reminders: list[Dispute]
    feedback_reminders: list[Dispute]


def _due_querysets(now: datetime) -> tuple[QuerySet[Dispute], ...]:
    base = Dispute.objects.order_by("respond_by", "pk")
    return (
        base.filter(due_transitions(now)),
        base.filter(due_sla_flags(now)),
        base.filter(due_reminders(now)),
        base.filter(due_feedback_reminders(now)).order_by("feedback_due_at", "pk"),
    )


def due(now: datetime | None = None) -> Due:
    """What a sweep at ``now`` would do (the dry run)."""
    now = now or timezone.now()
    transitions_qs, sla_qs, reminders_qs, feedback_qs = _due_querysets(now)
    return Due(list(transitions_qs), list(sla_qs), list(reminders_qs), list(feedback_qs))


def count_due(now: datetime | None = None) -> int:
    now = now or timezone.now()
    return sum(qs.count() for qs in _due_querysets(now))


def _apply_each(
    rows: list[Dispute], service: Callable[..., Result], outcome: PassReport, passed: set[int]
) -> None:
    """``passed`` gets the rows refused or failed: the pass does not take them again (a row
    refused while it still matches the pass's query would otherwise come back in every
    batch until the time budget ran out)."""
    for dispute in rows:
        pk = dispute.pk
        try:
            # Undone alone on a refusal or a failure, never the batch: in a batch the
            # dispute is put back and its writes dropped; one at a time, locked_dispute's
            # savepoint is rolled back.
            service(dispute_id=pk, actor=SYSTEM)
        except DomainError:
            passed.add(pk)
            outcome.skipped += 1
        except Exception:
            log.exception("deadline sweep: %s failed on dispute %s", service.__name__, pk)
            passed.add(pk)
            outcome.failed.append(pk)
        else:
            outcome.applied += 1


def _run_pass(
    qs: QuerySet[Dispute],
    service: Callable[..., Result],
    report: PassReport,
    *,
    batch_size: int,
    deadline: float | None,
    progress: Progress | None,
) -> bool:
    """Apply ``service`` to every row of ``qs``; False when the time budget ran out.

    Each batch is one transaction: its rows are locked with one query, ``service`` runs
    for each of them inside :func:`workflows.base.batch`, and their writes are flushed
    together. Should the flush fail, the batch is rolled back and taken again one
    dispute at a time, each in a savepoint, as a person's action is.
    """
    passed: set[int] = set()  # refused or failed: not taken again by this pass
    one_by_one = False
    while True:
        if deadline is not None and time.monotonic() >= deadline:
            return False
        outcome = PassReport()
        batch_passed: set[int] = set()
        rows: list[Dispute] = []
        try:
            with transaction.atomic():
                rows = list(qs.exclude(pk__in=passed)[:batch_size])
                if not rows:
                    return True
                if one_by_one:
                    _apply_each(rows, service, outcome, batch_passed)
                else:
                    with base.batch(rows):
                        _apply_each(rows, service, outcome, batch_passed)
        except Exception:
            if one_by_one:
                raise
            log.exception(
                "deadline sweep: a batch of %s failed to write; retrying it one by one", len(rows)
            )
            one_by_one = True
            continue
        one_by_one = False
        passed |= batch_passed
        report.applied += outcome.applied
        report.skipped += outcome.skipped
        report.failed.extend(outcome.failed)
        if progress is not None:
            progress(len(rows))


def sweep(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    max_seconds: float | None = None,
    progress: Progress | None = None,
) -> SweepReport:
    """Apply every due deadline transition, flag SLA breaches, send due reminders and ask
    for the ratings due.

    Safe to run twice and on several workers at once. ``now`` only selects what is due;
    each service decides under the row lock with the real clock. ``max_seconds`` stops
    between batches (the periodic task runs again a minute later).
    """
    started = time.monotonic()
    deadline = started + max_seconds if max_seconds else None
    batch_size = batch_size or settings.MEDIATION_SWEEP_BATCH_SIZE
    report = SweepReport()
    passes: list[tuple[Callable[[datetime], Q], Callable[..., Result], PassReport, str]] = [
        (due_transitions, apply_deadline, report.transitions, "respond_by"),
        (due_sla_flags, flag_overdue, report.sla_flags, "respond_by"),
        (due_reminders, send_reminder, report.reminders, "respond_by"),
        (due_feedback_reminders, remind_to_rate, report.feedback_reminders, "feedback_due_at"),
    ]
    for condition, service, pass_report, order in passes:
        at = now or timezone.now()
        qs = base.lockable_for_system().filter(condition(at)).order_by(order, "pk")
        done = _run_pass(
            qs,
            service,
            pass_report,
            batch_size=batch_size,
            deadline=deadline,
            progress=progress,
        )
        if not done:
            report.complete = False
            break
    report.seconds = time.monotonic() - started
    _count(report)
    return report


# What the sweeps did, for /metrics (config/metrics.py reads them): in the shared cache, since
# the sweeps run in workers and the scrape in web. One counter per pass and outcome.
PASSES = ("transitions", "sla_flags", "reminders", "feedback_reminders")
OUTCOMES = ("applied", "skipped", "failed")
SWEEP_COUNT_KEY = "metrics:sweep:{}:{}"


def _count(report: SweepReport) -> None:
    for name in PASSES:
        done: PassReport = getattr(report, name)
        for outcome, n in zip(
            OUTCOMES, (done.applied, done.skipped, len(done.failed)), strict=True
        ):
            if n:
                counters.bump(SWEEP_COUNT_KEY.format(name, outcome), n)

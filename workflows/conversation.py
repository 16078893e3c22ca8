"""The dispute's thread and the parties' feedback: audited like every other action."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Aggregate, Count, Min, Q

from mediation import rollups
from mediation.actors import Actor, human
from mediation.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    RateLimited,
    RuleViolation,
)
from mediation.models import LOW_RATING, Feedback, FeedbackReason, Message, State
from workflows.base import Context, locked_dispute

# The longest message, and the longest reason of a report, in characters (400 invalid).
MAX_BODY = 20_000
MAX_REASON = 10_000
# The window of MESSAGE_RATE_PER_MINUTE.
RATE_WINDOW = timedelta(minutes=1)


def _party_messages(dispute_id: int, party: str) -> Q:
    """The messages of one side in a dispute: the buyer's, or the shop's members' together."""
    written = Q(author_role="buyer") if party == "buyer" else Q(author_role__startswith="seller_")
    return Q(dispute_id=dispute_id) & written


def _retry_after(oldest: datetime, now: datetime) -> int:
    """Seconds until the oldest write of the window leaves it (at least 1)."""
    return max(1, math.ceil((oldest + RATE_WINDOW - now).total_seconds()))


def check_message_limits(ctx: Context, actor: Actor) -> None:
    """Refuse a message beyond the writer's party's quota on this dispute
    (``MESSAGE_MAX_PER_DISPUTE``, 422 ``message_quota_exceeded``; mediators have none) or
    beyond the writer's rate (``MESSAGE_RATE_PER_MINUTE`` in any 60 seconds, all disputes
    together, 429 ``message_rate_exceeded``).

    Both are counted in the database, in one query (the thread's rows of the dispute, and
    the writer's rows of the last minute on the ``message_author_recent`` index), under the
    dispute's row lock: two posts of one party never both take the last place, and the rate
    holds across web processes without a shared cache."""
    quota, rate = settings.MESSAGE_MAX_PER_DISPUTE, settings.MESSAGE_RATE_PER_MINUTE
    party = ctx.roles.party if ctx.roles.mediator is None else None
    written = _party_messages(ctx.dispute.pk, party) if quota > 0 and party else None
    recent = Q(author_id=actor.pk, created_at__gt=ctx.now - RATE_WINDOW) if rate > 0 else None
    if written is None and recent is None:
        return
    where = Q()
    aggregates: dict[str, Aggregate] = {}
    if written is not None:
        where |= written
        aggregates["written"] = Count("pk", filter=written)
    if recent is not None:
        where |= recent
        aggregates["recent"] = Count("pk", filter=recent)
        aggregates["oldest"] = Min("created_at", filter=recent)
    counts = Message.objects.filter(where).aggregate(**aggregates)
    if written is not None and counts["written"] >= quota:
        raise RuleViolation(
            f"The {party} has written {counts['written']} messages in this dispute, the most "
            f"allowed ({quota}).",
            code="message_quota_exceeded",
            limit=quota,
        )
    if recent is not None and counts["recent"] >= rate:
        wait = _retry_after(counts["oldest"], ctx.now)
        raise RateLimited(
            f"You have written {counts['recent']} messages in the last minute, the most "
            f"allowed ({rate}): wait {wait} seconds.",
            code="message_rate_exceeded",
            limit=rate,
            retry_after=wait,
        )


def check_report_rate(ctx: Context, actor: Actor) -> None:
    """Refuse a report beyond ``MESSAGE_RATE_PER_MINUTE`` reports of one user in any 60
    seconds (429 ``report_rate_exceeded``): each report puts the case in the mediators'
    reported-conduct queue and notifies them."""
    rate = settings.MESSAGE_RATE_PER_MINUTE
    if rate <= 0:
        return
    counts = Message.objects.filter(
        reported_by_id=actor.pk, reported_at__gt=ctx.now - RATE_WINDOW
    ).aggregate(recent=Count("pk"), oldest=Min("reported_at"))
    if counts["recent"] >= rate:
        wait = _retry_after(counts["oldest"], ctx.now)
        raise RateLimited(
            f"You have reported {counts['recent']} messages in the last minute, the most "
            f"allowed ({rate}): wait {wait} seconds.",
            code="report_rate_exceeded",
            limit=rate,
            retry_after=wait,
        )


def post_message(
    *,
    dispute_id: int,
    actor: Actor,
    body: str,
    internal: bool = False,
    expected_audit_seq: int | None = None,
) -> Message:
    """A party or a mediator writes in the thread; mediators may keep a note internal.

    A message does not change the dispute's version; ``expected_audit_seq`` (the audit
    sequence the writer last saw) tells a second submit of the same form, or a step taken
    meanwhile, apart: 409 ``version_conflict``."""
    body = (body or "").strip()
    if not body:
        raise InvalidInput("The message is empty.", field="body")
    if len(body) > MAX_BODY:
        raise InvalidInput(f"Keep messages under {MAX_BODY} characters.", field="body")
    with locked_dispute(dispute_id, actor) as ctx:
        if expected_audit_seq is not None and ctx.dispute.audit_seq != expected_audit_seq:
            raise Conflict(
                "The case changed since you opened it (perhaps this note was already "
                "added): read it again and retry.",
                code="version_conflict",
            )
        roles = ctx.roles
        if internal and roles.mediator is None:
            raise Forbidden("Only mediators write internal notes.")
        if not (roles.buyer or roles.seller or roles.mediator is not None):
            raise Forbidden("Only the parties and mediators write in the thread.")
        if ctx.dispute.state == State.CLOSED and roles.mediator is None:
            raise InvalidTransition("The dispute is closed; the thread is read-only.")
        check_message_limits(ctx, actor)
        message = Message.objects.create(
            dispute=ctx.dispute,
            author=human(actor),
            author_role=roles.label(),
            body=body,
            internal=internal,
        )
        ctx.record(
            "internal_note" if internal else "message",
            {"message": message.pk, "body": body},
            internal=internal,
        )
    return message


def report_message(*, dispute_id: int, message_id: int, actor: Actor, reason: str) -> Message:
    """A party reports an abusive or threatening message for the mediators to see."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say what is wrong with the message.", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"Keep the reason under {MAX_REASON} characters.", field="reason")
    with locked_dispute(dispute_id, actor) as ctx:
        roles = ctx.roles
        if not (roles.buyer or roles.seller):
            raise Forbidden("Only the parties report messages.")
        try:
            message = Message.objects.get(dispute=ctx.dispute, pk=int(message_id), internal=False)
        except (Message.DoesNotExist, TypeError, ValueError):
            raise NotFound("No such message on this dispute.") from None
        if message.author_id == actor.pk:
            raise RuleViolation(
                "You cannot report your own message.", code="own_message", field="message"
            )
        if message.reported:
            raise Conflict("This message has been reported already.", code="already_reported")
        check_report_rate(ctx, actor)
        message.reported = True
        message.report_reason = reason
        message.reported_by = human(actor)
        message.reported_at = ctx.now
        message.save(update_fields=["reported", "report_reason", "reported_by", "reported_at"])
        # The case enters the mediators' reported-conduct queue (escalated or not).
        ctx.dispute.conduct_reported_at = ctx.dispute.conduct_reported_at or ctx.now
        ctx.record("report_message", {"message": message.pk, "reason": reason})
    return message


def leave_feedback(
    *, dispute_id: int, actor: Actor, rating: int, comment: str = "", reason: str = ""
) -> Feedback:
    """Each party rates how a closed dispute was handled, once; with a low rating (1 or 2)
    they may say why (``reason``), and the case is listed on the dashboard for follow-up."""
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput("Rate from 1 to 5.", field="rating")
    if reason and reason not in FeedbackReason.values:
        raise InvalidInput(f"Unknown reason {reason!r}.", field="reason")
    if reason and rating > LOW_RATING:
        raise RuleViolation(
            f"A reason goes with a low rating ({LOW_RATING} or less).",
            code="reason_needs_low_rating",
            field="reason",
        )
    with locked_dispute(dispute_id, actor) as ctx:
        party = ctx.roles.party
        if party is None:
            raise Forbidden("Only the buyer and the shop give feedback.")
        if ctx.dispute.state != State.CLOSED:
            raise InvalidTransition("Feedback is for closed disputes.")
        try:
            with transaction.atomic():
                feedback = Feedback.objects.create(
                    dispute=ctx.dispute,
                    party=party,
                    author=human(actor),
                    rating=rating,
                    comment=comment,
                    reason=reason,
                    outcome=ctx.dispute.outcome,
                    mediator_id=ctx.dispute.assigned_to_id,
                )
        except IntegrityError:
            raise Conflict(
                f"The {party} has already given feedback on this dispute.",
                code="feedback_already_given",
            ) from None
        rollups.feedback_given(ctx.dispute, feedback)
        ctx.record(
            "feedback",
            {"party": party, "rating": rating, "comment": comment, "reason": reason},
        )
    return feedback


__all__ = ["leave_feedback", "post_message", "report_message"]

"""The dispute's thread and the parties' feedback: audited like every other action."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from mediation import rollups
from mediation.actors import Actor, human
from mediation.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from mediation.models import LOW_RATING, Feedback, FeedbackReason, Message, State
from workflows.base import locked_dispute

MAX_BODY = 20_000


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
    with locked_dispute(dispute_id, actor) as ctx:
        roles = ctx.roles
        if not (roles.buyer or roles.seller):
            raise Forbidden("Only the parties report messages.")
        try:
            message = Message.objects.get(dispute=ctx.dispute, pk=int(message_id), internal=False)
        except (Message.DoesNotExist, TypeError, ValueError):
            raise NotFound("No such message on this dispute.") from None
        if message.author_id == actor.pk:
            raise InvalidInput("You cannot report your own message.", field="message")
        if message.reported:
            raise Conflict("This message has been reported already.", code="already_reported")
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
        raise InvalidInput(
            f"A reason goes with a low rating ({LOW_RATING} or less).", field="reason"
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

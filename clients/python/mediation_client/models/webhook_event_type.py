from enum import StrEnum


class WebhookEventType(StrEnum):
    DISPUTE_APPEALED = "dispute.appealed"
    DISPUTE_ASSIGNED = "dispute.assigned"
    DISPUTE_CLOSED = "dispute.closed"
    DISPUTE_CONTESTED = "dispute.contested"
    DISPUTE_COUNTERED = "dispute.countered"
    DISPUTE_DEADLINE_PASSED = "dispute.deadline_passed"
    DISPUTE_ESCALATED = "dispute.escalated"
    DISPUTE_ESCALATION_REQUESTED = "dispute.escalation_requested"
    DISPUTE_EVIDENCE_ADDED = "dispute.evidence_added"
    DISPUTE_EVIDENCE_WITHDRAWN = "dispute.evidence_withdrawn"
    DISPUTE_FEEDBACK_GIVEN = "dispute.feedback_given"
    DISPUTE_FEEDBACK_REQUESTED = "dispute.feedback_requested"
    DISPUTE_FULFILMENT_RECORDED = "dispute.fulfilment_recorded"
    DISPUTE_INFO_PROVIDED = "dispute.info_provided"
    DISPUTE_INFO_REQUESTED = "dispute.info_requested"
    DISPUTE_MESSAGE_POSTED = "dispute.message_posted"
    DISPUTE_MESSAGE_REPORTED = "dispute.message_reported"
    DISPUTE_OFFER_ACCEPTED = "dispute.offer_accepted"
    DISPUTE_OFFER_MADE = "dispute.offer_made"
    DISPUTE_OFFER_PENDING_APPROVAL = "dispute.offer_pending_approval"
    DISPUTE_OFFER_REJECTED = "dispute.offer_rejected"
    DISPUTE_OVERDUE = "dispute.overdue"
    DISPUTE_RAISED = "dispute.raised"
    DISPUTE_RECEIPT_CONFIRMED = "dispute.receipt_confirmed"
    DISPUTE_REFUND_DUE = "dispute.refund_due"
    DISPUTE_REMINDER = "dispute.reminder"
    DISPUTE_REQUEST_ACCEPTED = "dispute.request_accepted"
    DISPUTE_RETURN_ACKNOWLEDGED = "dispute.return_acknowledged"
    DISPUTE_RULED = "dispute.ruled"
    DISPUTE_RULING_PROPOSED = "dispute.ruling_proposed"
    DISPUTE_RULING_REJECTED = "dispute.ruling_rejected"
    DISPUTE_WITHDRAWN = "dispute.withdrawn"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class AllowedActionsEnum(StrEnum):
    ACCEPT_OFFER = "accept-offer"
    ACCEPT_REQUEST = "accept-request"
    ACKNOWLEDGE_RETURN = "acknowledge-return"
    APPEAL = "appeal"
    APPROVE_OFFER = "approve-offer"
    APPROVE_RULING = "approve-ruling"
    ASSIGN = "assign"
    CONFIRM_RECEIVED = "confirm-received"
    CONTEST = "contest"
    COUNTER = "counter"
    ESCALATE = "escalate"
    FULFIL = "fulfil"
    OFFER = "offer"
    PROVIDE_INFO = "provide-info"
    REJECT_OFFER = "reject-offer"
    REJECT_RULING = "reject-ruling"
    REQUEST_INFO = "request-info"
    RULE = "rule"
    WITHDRAW = "withdraw"

    def __str__(self) -> str:
        return str(self.value)

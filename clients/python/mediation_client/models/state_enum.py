from enum import StrEnum


class StateEnum(StrEnum):
    AWAITING_BUYER = "awaiting_buyer"
    AWAITING_FULFILMENT = "awaiting_fulfilment"
    AWAITING_INFO = "awaiting_info"
    AWAITING_SELLER = "awaiting_seller"
    CLOSED = "closed"
    ESCALATED = "escalated"
    PENDING_APPROVAL = "pending_approval"
    UNDER_REVIEW = "under_review"

    def __str__(self) -> str:
        return str(self.value)

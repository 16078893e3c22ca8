from enum import StrEnum


class OfferStatusEnum(StrEnum):
    ACCEPTED = "accepted"
    OPEN = "open"
    PENDING_APPROVAL = "pending_approval"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class PartyEscalationReasonEnum(StrEnum):
    ABUSIVE_CONDUCT = "abusive_conduct"
    BUYER_REQUEST = "buyer_request"
    SELLER_REQUEST = "seller_request"

    def __str__(self) -> str:
        return str(self.value)

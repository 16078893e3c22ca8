from enum import StrEnum


class EscalationReasonEnum(StrEnum):
    ABUSIVE_CONDUCT = "abusive_conduct"
    APPEAL = "appeal"
    BUYER_REQUEST = "buyer_request"
    FULFILMENT_OVERDUE = "fulfilment_overdue"
    RETURN_DISPUTED = "return_disputed"
    SELLER_NO_RESPONSE = "seller_no_response"
    SELLER_REQUEST = "seller_request"

    def __str__(self) -> str:
        return str(self.value)

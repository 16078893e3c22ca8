from enum import StrEnum


class RefundDueKind(StrEnum):
    FULL_REFUND = "full_refund"
    GOODWILL = "goodwill"
    NO_ACTION = "no_action"
    PARTIAL_REFUND = "partial_refund"
    REPLACEMENT = "replacement"
    RETURN_AND_REFUND = "return_and_refund"
    STORE_CREDIT = "store_credit"

    def __str__(self) -> str:
        return str(self.value)

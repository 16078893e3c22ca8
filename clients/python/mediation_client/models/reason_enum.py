from enum import StrEnum


class ReasonEnum(StrEnum):
    CANCELLATION_NOT_HONOURED = "cancellation_not_honoured"
    DAMAGED_OR_DEFECTIVE = "damaged_or_defective"
    MISSING_PARTS = "missing_parts"
    NOT_AS_DESCRIBED = "not_as_described"
    NOT_RECEIVED = "not_received"
    OTHER = "other"
    RETURN_NOT_REFUNDED = "return_not_refunded"
    WRONG_ITEM = "wrong_item"

    def __str__(self) -> str:
        return str(self.value)

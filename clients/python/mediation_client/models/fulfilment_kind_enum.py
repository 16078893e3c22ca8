from enum import StrEnum


class FulfilmentKindEnum(StrEnum):
    REFUND = "refund"
    REPLACEMENT_SHIPMENT = "replacement_shipment"
    RETURN_LABEL = "return_label"
    RETURN_SHIPMENT = "return_shipment"
    STORE_CREDIT = "store_credit"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class OutcomeEnum(StrEnum):
    AGREEMENT = "agreement"
    LAPSED = "lapsed"
    RULED_FOR_BUYER = "ruled_for_buyer"
    RULED_FOR_SELLER = "ruled_for_seller"
    RULED_PARTIAL = "ruled_partial"
    WITHDRAWN = "withdrawn"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class ReturnResultEnum(StrEnum):
    AS_EXPECTED = "as_expected"
    DAMAGED = "damaged"
    EMPTY_OR_DIFFERENT = "empty_or_different"
    MISSING_PARTS = "missing_parts"
    NOT_RECEIVED = "not_received"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class EvidenceKindEnum(StrEnum):
    CORRESPONDENCE = "correspondence"
    OTHER = "other"
    PHOTO = "photo"
    RECEIPT = "receipt"
    TRACKING = "tracking"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class TierEnum(StrEnum):
    AGENT = "agent"
    LEAD = "lead"
    SENIOR = "senior"

    def __str__(self) -> str:
        return str(self.value)

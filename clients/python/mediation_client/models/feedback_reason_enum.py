from enum import StrEnum


class FeedbackReasonEnum(StrEnum):
    NOT_RESOLVED = "not_resolved"
    OTHER = "other"
    POOR_COMMUNICATION = "poor_communication"
    TOO_SLOW = "too_slow"
    UNFAIR_OUTCOME = "unfair_outcome"

    def __str__(self) -> str:
        return str(self.value)

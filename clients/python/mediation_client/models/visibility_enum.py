from enum import StrEnum


class VisibilityEnum(StrEnum):
    ALL = "all"
    MEDIATORS = "mediators"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class FunderEnum(StrEnum):
    PLATFORM = "platform"
    SELLER = "seller"

    def __str__(self) -> str:
        return str(self.value)

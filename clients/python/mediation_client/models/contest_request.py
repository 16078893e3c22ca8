from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ContestRequest")


@_attrs_define
class ContestRequest:
    """
    Attributes:
        statement (str):
    """

    statement: str

    def to_dict(self) -> dict[str, Any]:
        statement = self.statement

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "statement": statement,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        statement = d.pop("statement")

        contest_request = cls(
            statement=statement,
        )

        return contest_request

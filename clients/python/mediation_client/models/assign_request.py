from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="AssignRequest")


@_attrs_define
class AssignRequest:
    """
    Attributes:
        mediator (str | Unset): Username; yourself by default Default: ''.
    """

    mediator: str | Unset = ""

    def to_dict(self) -> dict[str, Any]:
        mediator = self.mediator

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if mediator is not UNSET:
            field_dict["mediator"] = mediator

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        mediator = d.pop("mediator", UNSET)

        assign_request = cls(
            mediator=mediator,
        )

        return assign_request

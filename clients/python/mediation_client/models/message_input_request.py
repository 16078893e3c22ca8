from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="MessageInputRequest")


@_attrs_define
class MessageInputRequest:
    """
    Attributes:
        body (str):
        internal (bool | Unset):  Default: False.
    """

    body: str
    internal: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        body = self.body

        internal = self.internal

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "body": body,
            }
        )
        if internal is not UNSET:
            field_dict["internal"] = internal

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        body = d.pop("body")

        internal = d.pop("internal", UNSET)

        message_input_request = cls(
            body=body,
            internal=internal,
        )

        return message_input_request

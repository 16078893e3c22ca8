from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ShopPolicyInputRequest")


@_attrs_define
class ShopPolicyInputRequest:
    """
    Attributes:
        text (str):
        effective_from (datetime.datetime | Unset): Now by default; never earlier than now or the last version
    """

    text: str
    effective_from: datetime.datetime | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        text = self.text

        effective_from: str | Unset = UNSET
        if not isinstance(self.effective_from, Unset):
            effective_from = self.effective_from.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "text": text,
            }
        )
        if effective_from is not UNSET:
            field_dict["effective_from"] = effective_from

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        text = d.pop("text")

        _effective_from = d.pop("effective_from", UNSET)
        effective_from: datetime.datetime | Unset
        if isinstance(_effective_from, Unset):
            effective_from = UNSET
        else:
            effective_from = datetime.datetime.fromisoformat(_effective_from)

        shop_policy_input_request = cls(
            text=text,
            effective_from=effective_from,
        )

        return shop_policy_input_request

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RotateSecretRequest")


@_attrs_define
class RotateSecretRequest:
    """
    Attributes:
        keep_previous_hours (int | Unset): How long the old secret also signs deliveries (0: stop at once). Default: 24.
    """

    keep_previous_hours: int | Unset = 24

    def to_dict(self) -> dict[str, Any]:
        keep_previous_hours = self.keep_previous_hours

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if keep_previous_hours is not UNSET:
            field_dict["keep_previous_hours"] = keep_previous_hours

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        keep_previous_hours = d.pop("keep_previous_hours", UNSET)

        rotate_secret_request = cls(
            keep_previous_hours=keep_previous_hours,
        )

        return rotate_secret_request

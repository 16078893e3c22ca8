from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ShopPolicy")


@_attrs_define
class ShopPolicy:
    """An output of model rows, every field read-only, whose schema still says what the
    model column allows: a blank choice (``"outcome": ""`` while open) and a null (``assigned_to``
    before anyone holds the case). DRF drops both from read-only fields.

        Attributes:
            version (int):
            text (str):
            effective_from (datetime.datetime):
            sha256 (str): SHA-256 of the text, hex
    """

    version: int
    text: str
    effective_from: datetime.datetime
    sha256: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        version = self.version

        text = self.text

        effective_from = self.effective_from.isoformat()

        sha256 = self.sha256

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "version": version,
                "text": text,
                "effective_from": effective_from,
                "sha256": sha256,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        version = d.pop("version")

        text = d.pop("text")

        effective_from = datetime.datetime.fromisoformat(d.pop("effective_from"))

        sha256 = d.pop("sha256")

        shop_policy = cls(
            version=version,
            text=text,
            effective_from=effective_from,
            sha256=sha256,
        )

        shop_policy.additional_properties = d
        return shop_policy

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="AcceptOfferRequest")


@_attrs_define
class AcceptOfferRequest:
    """
    Attributes:
        offer (int | None | Unset):
    """

    offer: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        offer: int | None | Unset
        if isinstance(self.offer, Unset):
            offer = UNSET
        else:
            offer = self.offer

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if offer is not UNSET:
            field_dict["offer"] = offer

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_offer(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        offer = _parse_offer(d.pop("offer", UNSET))

        accept_offer_request = cls(
            offer=offer,
        )

        return accept_offer_request

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.party_history_thresholds import PartyHistoryThresholds
    from ..models.party_rates import PartyRates


T = TypeVar("T", bound="PartyHistory")


@_attrs_define
class PartyHistory:
    """
    Attributes:
        buyer (PartyRates):
        shop (PartyRates):
        marketplace (PartyRates):
        buyer_flags (list[str]): Why the buyer is a possible serial claimant
        shop_flags (list[str]): Why the shop is a possible problem seller
        thresholds (PartyHistoryThresholds): The settings the flags are computed with (SERIAL_CLAIMANT_*,
            PROBLEM_SELLER_*)
    """

    buyer: PartyRates
    shop: PartyRates
    marketplace: PartyRates
    buyer_flags: list[str]
    shop_flags: list[str]
    thresholds: PartyHistoryThresholds
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        buyer = self.buyer.to_dict()

        shop = self.shop.to_dict()

        marketplace = self.marketplace.to_dict()

        buyer_flags = self.buyer_flags

        shop_flags = self.shop_flags

        thresholds = self.thresholds.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "buyer": buyer,
                "shop": shop,
                "marketplace": marketplace,
                "buyer_flags": buyer_flags,
                "shop_flags": shop_flags,
                "thresholds": thresholds,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.party_history_thresholds import PartyHistoryThresholds  # noqa: PLC0415
        from ..models.party_rates import PartyRates  # noqa: PLC0415

        d = dict(src_dict)
        buyer = PartyRates.from_dict(d.pop("buyer"))

        shop = PartyRates.from_dict(d.pop("shop"))

        marketplace = PartyRates.from_dict(d.pop("marketplace"))

        buyer_flags = cast(list[str], d.pop("buyer_flags"))

        shop_flags = cast(list[str], d.pop("shop_flags"))

        thresholds = PartyHistoryThresholds.from_dict(d.pop("thresholds"))

        party_history = cls(
            buyer=buyer,
            shop=shop,
            marketplace=marketplace,
            buyer_flags=buyer_flags,
            shop_flags=shop_flags,
            thresholds=thresholds,
        )

        party_history.additional_properties = d
        return party_history

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

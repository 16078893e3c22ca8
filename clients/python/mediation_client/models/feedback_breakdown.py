from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.mediator_rating import MediatorRating
    from ..models.outcome_rating import OutcomeRating
    from ..models.reason_rating import ReasonRating
    from ..models.shop_rating import ShopRating


T = TypeVar("T", bound="FeedbackBreakdown")


@_attrs_define
class FeedbackBreakdown:
    """
    Attributes:
        by_mediator (list[MediatorRating]):
        by_outcome (list[OutcomeRating]):
        by_reason (list[ReasonRating]):
        by_shop (list[ShopRating]): The shops with the most low ratings, then the lowest average.
    """

    by_mediator: list[MediatorRating]
    by_outcome: list[OutcomeRating]
    by_reason: list[ReasonRating]
    by_shop: list[ShopRating]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        by_mediator = []
        for by_mediator_item_data in self.by_mediator:
            by_mediator_item = by_mediator_item_data.to_dict()
            by_mediator.append(by_mediator_item)

        by_outcome = []
        for by_outcome_item_data in self.by_outcome:
            by_outcome_item = by_outcome_item_data.to_dict()
            by_outcome.append(by_outcome_item)

        by_reason = []
        for by_reason_item_data in self.by_reason:
            by_reason_item = by_reason_item_data.to_dict()
            by_reason.append(by_reason_item)

        by_shop = []
        for by_shop_item_data in self.by_shop:
            by_shop_item = by_shop_item_data.to_dict()
            by_shop.append(by_shop_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "by_mediator": by_mediator,
                "by_outcome": by_outcome,
                "by_reason": by_reason,
                "by_shop": by_shop,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.mediator_rating import MediatorRating  # noqa: PLC0415
        from ..models.outcome_rating import OutcomeRating  # noqa: PLC0415
        from ..models.reason_rating import ReasonRating  # noqa: PLC0415
        from ..models.shop_rating import ShopRating  # noqa: PLC0415

        d = dict(src_dict)
        by_mediator = []
        _by_mediator = d.pop("by_mediator")
        for by_mediator_item_data in _by_mediator:
            by_mediator_item = MediatorRating.from_dict(by_mediator_item_data)

            by_mediator.append(by_mediator_item)

        by_outcome = []
        _by_outcome = d.pop("by_outcome")
        for by_outcome_item_data in _by_outcome:
            by_outcome_item = OutcomeRating.from_dict(by_outcome_item_data)

            by_outcome.append(by_outcome_item)

        by_reason = []
        _by_reason = d.pop("by_reason")
        for by_reason_item_data in _by_reason:
            by_reason_item = ReasonRating.from_dict(by_reason_item_data)

            by_reason.append(by_reason_item)

        by_shop = []
        _by_shop = d.pop("by_shop")
        for by_shop_item_data in _by_shop:
            by_shop_item = ShopRating.from_dict(by_shop_item_data)

            by_shop.append(by_shop_item)

        feedback_breakdown = cls(
            by_mediator=by_mediator,
            by_outcome=by_outcome,
            by_reason=by_reason,
            by_shop=by_shop,
        )

        feedback_breakdown.additional_properties = d
        return feedback_breakdown

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

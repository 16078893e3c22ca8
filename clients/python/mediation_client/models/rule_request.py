from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.funder_enum import FunderEnum
from ..models.remedy_enum import RemedyEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="RuleRequest")


@_attrs_define
class RuleRequest:
    """
    Attributes:
        kind (RemedyEnum): * `full_refund` - Full refund
            * `partial_refund` - Partial refund
            * `replacement` - Replacement
            * `return_and_refund` - Return and refund
            * `store_credit` - Store credit
            * `goodwill` - Goodwill gesture
            * `no_action` - No action
        rationale (str):
        amount (int | None | Unset): Integer amount in minor units of the order's currency (3000 = 30.00 USD).
        funded_by (FunderEnum | Unset): * `seller` - Seller
            * `platform` - Platform Default: FunderEnum.SELLER.
    """

    kind: RemedyEnum
    rationale: str
    amount: int | None | Unset = UNSET
    funded_by: FunderEnum | Unset = FunderEnum.SELLER

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind.value

        rationale = self.rationale

        amount: int | None | Unset
        if isinstance(self.amount, Unset):
            amount = UNSET
        else:
            amount = self.amount

        funded_by: str | Unset = UNSET
        if not isinstance(self.funded_by, Unset):
            funded_by = self.funded_by.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "kind": kind,
                "rationale": rationale,
            }
        )
        if amount is not UNSET:
            field_dict["amount"] = amount
        if funded_by is not UNSET:
            field_dict["funded_by"] = funded_by

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        kind = RemedyEnum(d.pop("kind"))

        rationale = d.pop("rationale")

        def _parse_amount(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        amount = _parse_amount(d.pop("amount", UNSET))

        _funded_by = d.pop("funded_by", UNSET)
        funded_by: FunderEnum | Unset
        if isinstance(_funded_by, Unset):
            funded_by = UNSET
        else:
            funded_by = FunderEnum(_funded_by)

        rule_request = cls(
            kind=kind,
            rationale=rationale,
            amount=amount,
            funded_by=funded_by,
        )

        return rule_request

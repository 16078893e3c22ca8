from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.party_enum import PartyEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="RequestInfoRequest")


@_attrs_define
class RequestInfoRequest:
    """
    Attributes:
        party (PartyEnum): * `buyer` - Buyer
            * `seller` - Seller
        question (str):
        respond_by (datetime.datetime | None | Unset):
    """

    party: PartyEnum
    question: str
    respond_by: datetime.datetime | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        party = self.party.value

        question = self.question

        respond_by: None | str | Unset
        if isinstance(self.respond_by, Unset):
            respond_by = UNSET
        elif isinstance(self.respond_by, datetime.datetime):
            respond_by = self.respond_by.isoformat()
        else:
            respond_by = self.respond_by

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "party": party,
                "question": question,
            }
        )
        if respond_by is not UNSET:
            field_dict["respond_by"] = respond_by

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        party = PartyEnum(d.pop("party"))

        question = d.pop("question")

        def _parse_respond_by(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                respond_by_type_0 = datetime.datetime.fromisoformat(data)

                return respond_by_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        respond_by = _parse_respond_by(d.pop("respond_by", UNSET))

        request_info_request = cls(
            party=party,
            question=question,
            respond_by=respond_by,
        )

        return request_info_request

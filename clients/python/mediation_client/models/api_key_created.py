from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.shop_role_enum import ShopRoleEnum

T = TypeVar("T", bound="ApiKeyCreated")


@_attrs_define
class ApiKeyCreated:
    """A shop's API key as its owners see it: never the key itself.

    Attributes:
        prefix (str): The key's first 8 characters, its id.
        name (str):
        role (ShopRoleEnum): * `owner` - Owner
            * `agent` - Support agent
        offer_limit (int): Integer amount in minor units of the order's currency (3000 = 30.00 USD).
        offer_limit_currency (str):
        created_at (datetime.datetime):
        created_by (None | str):
        last_used_at (datetime.datetime | None):
        revoked (bool):
        revoked_at (datetime.datetime | None):
        key (str): Shown this once: send it as `Authorization: Bearer <key>`.
    """

    prefix: str
    name: str
    role: ShopRoleEnum
    offer_limit: int
    offer_limit_currency: str
    created_at: datetime.datetime
    created_by: None | str
    last_used_at: datetime.datetime | None
    revoked: bool
    revoked_at: datetime.datetime | None
    key: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        prefix = self.prefix

        name = self.name

        role = self.role.value

        offer_limit = self.offer_limit

        offer_limit_currency = self.offer_limit_currency

        created_at = self.created_at.isoformat()

        created_by: None | str
        created_by = self.created_by

        last_used_at: None | str
        if isinstance(self.last_used_at, datetime.datetime):
            last_used_at = self.last_used_at.isoformat()
        else:
            last_used_at = self.last_used_at

        revoked = self.revoked

        revoked_at: None | str
        if isinstance(self.revoked_at, datetime.datetime):
            revoked_at = self.revoked_at.isoformat()
        else:
            revoked_at = self.revoked_at

        key = self.key

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "prefix": prefix,
                "name": name,
                "role": role,
                "offer_limit": offer_limit,
                "offer_limit_currency": offer_limit_currency,
                "created_at": created_at,
                "created_by": created_by,
                "last_used_at": last_used_at,
                "revoked": revoked,
                "revoked_at": revoked_at,
                "key": key,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        prefix = d.pop("prefix")

        name = d.pop("name")

        role = ShopRoleEnum(d.pop("role"))

        offer_limit = d.pop("offer_limit")

        offer_limit_currency = d.pop("offer_limit_currency")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_created_by(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        created_by = _parse_created_by(d.pop("created_by"))

        def _parse_last_used_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_used_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_used_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_used_at = _parse_last_used_at(d.pop("last_used_at"))

        revoked = d.pop("revoked")

        def _parse_revoked_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                revoked_at_type_0 = datetime.datetime.fromisoformat(data)

                return revoked_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        revoked_at = _parse_revoked_at(d.pop("revoked_at"))

        key = d.pop("key")

        api_key_created = cls(
            prefix=prefix,
            name=name,
            role=role,
            offer_limit=offer_limit,
            offer_limit_currency=offer_limit_currency,
            created_at=created_at,
            created_by=created_by,
            last_used_at=last_used_at,
            revoked=revoked,
            revoked_at=revoked_at,
            key=key,
        )

        api_key_created.additional_properties = d
        return api_key_created

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

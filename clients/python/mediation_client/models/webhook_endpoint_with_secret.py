from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.shop_ref import ShopRef


T = TypeVar("T", bound="WebhookEndpointWithSecret")


@_attrs_define
class WebhookEndpointWithSecret:
    """An output of model rows, every field read-only, whose schema still says what the
    model column allows: a blank choice (``"outcome": ""`` while open) and a null (``assigned_to``
    before anyone holds the case). DRF drops both from read-only fields.

        Attributes:
            id (int):
            shop (None | ShopRef):
            url (str):
            events (list[str]):
            description (str):
            active (bool):
            disabled_reason (str):
            disabled_at (datetime.datetime | None):
            consecutive_failures (int):
            secret_rotated_until (datetime.datetime | None): Until then deliveries carry a second v1 signature made with the
                old secret.
            created_at (datetime.datetime):
            updated_at (datetime.datetime):
            secret (str): Shown once: keep it to verify Mediation-Signature.
    """

    id: int
    shop: None | ShopRef
    url: str
    events: list[str]
    description: str
    active: bool
    disabled_reason: str
    disabled_at: datetime.datetime | None
    consecutive_failures: int
    secret_rotated_until: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    secret: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.shop_ref import ShopRef  # noqa: PLC0415

        id = self.id

        shop: dict[str, Any] | None
        if isinstance(self.shop, ShopRef):
            shop = self.shop.to_dict()
        else:
            shop = self.shop

        url = self.url

        events = self.events

        description = self.description

        active = self.active

        disabled_reason = self.disabled_reason

        disabled_at: None | str
        if isinstance(self.disabled_at, datetime.datetime):
            disabled_at = self.disabled_at.isoformat()
        else:
            disabled_at = self.disabled_at

        consecutive_failures = self.consecutive_failures

        secret_rotated_until: None | str
        if isinstance(self.secret_rotated_until, datetime.datetime):
            secret_rotated_until = self.secret_rotated_until.isoformat()
        else:
            secret_rotated_until = self.secret_rotated_until

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        secret = self.secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "shop": shop,
                "url": url,
                "events": events,
                "description": description,
                "active": active,
                "disabled_reason": disabled_reason,
                "disabled_at": disabled_at,
                "consecutive_failures": consecutive_failures,
                "secret_rotated_until": secret_rotated_until,
                "created_at": created_at,
                "updated_at": updated_at,
                "secret": secret,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.shop_ref import ShopRef  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        def _parse_shop(data: object) -> None | ShopRef:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                shop_type_0 = ShopRef.from_dict(data)

                return shop_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ShopRef, data)

        shop = _parse_shop(d.pop("shop"))

        url = d.pop("url")

        events = cast(list[str], d.pop("events"))

        description = d.pop("description")

        active = d.pop("active")

        disabled_reason = d.pop("disabled_reason")

        def _parse_disabled_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                disabled_at_type_0 = datetime.datetime.fromisoformat(data)

                return disabled_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        disabled_at = _parse_disabled_at(d.pop("disabled_at"))

        consecutive_failures = d.pop("consecutive_failures")

        def _parse_secret_rotated_until(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                secret_rotated_until_type_0 = datetime.datetime.fromisoformat(data)

                return secret_rotated_until_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        secret_rotated_until = _parse_secret_rotated_until(d.pop("secret_rotated_until"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        secret = d.pop("secret")

        webhook_endpoint_with_secret = cls(
            id=id,
            shop=shop,
            url=url,
            events=events,
            description=description,
            active=active,
            disabled_reason=disabled_reason,
            disabled_at=disabled_at,
            consecutive_failures=consecutive_failures,
            secret_rotated_until=secret_rotated_until,
            created_at=created_at,
            updated_at=updated_at,
            secret=secret,
        )

        webhook_endpoint_with_secret.additional_properties = d
        return webhook_endpoint_with_secret

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

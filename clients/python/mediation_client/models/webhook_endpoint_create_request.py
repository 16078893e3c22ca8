from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.events_enum import EventsEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="WebhookEndpointCreateRequest")


@_attrs_define
class WebhookEndpointCreateRequest:
    """
    Attributes:
        url (str): https://host[:port]/path
        events (list[EventsEnum]): Event types, or ["*"] for every party-visible event.
        description (str | Unset):  Default: ''.
        shop (str | Unset): The shop's slug; needed only when you own several shops. The platform integration leaves it
            out: its endpoints cover every shop.
    """

    url: str
    events: list[EventsEnum]
    description: str | Unset = ""
    shop: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        url = self.url

        events = []
        for events_item_data in self.events:
            events_item = events_item_data.value
            events.append(events_item)

        description = self.description

        shop = self.shop

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "url": url,
                "events": events,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if shop is not UNSET:
            field_dict["shop"] = shop

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        url = d.pop("url")

        events = []
        _events = d.pop("events")
        for events_item_data in _events:
            events_item = EventsEnum(events_item_data)

            events.append(events_item)

        description = d.pop("description", UNSET)

        shop = d.pop("shop", UNSET)

        webhook_endpoint_create_request = cls(
            url=url,
            events=events,
            description=description,
            shop=shop,
        )

        return webhook_endpoint_create_request

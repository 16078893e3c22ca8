from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.events_enum import EventsEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="PatchedWebhookEndpointUpdateRequest")


@_attrs_define
class PatchedWebhookEndpointUpdateRequest:
    """
    Attributes:
        url (str | Unset): https://host[:port]/path
        events (list[EventsEnum] | Unset):
        description (str | Unset):
        active (bool | Unset): true turns a disabled endpoint back on; false pauses it.
    """

    url: str | Unset = UNSET
    events: list[EventsEnum] | Unset = UNSET
    description: str | Unset = UNSET
    active: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        url = self.url

        events: list[str] | Unset = UNSET
        if not isinstance(self.events, Unset):
            events = []
            for events_item_data in self.events:
                events_item = events_item_data.value
                events.append(events_item)

        description = self.description

        active = self.active

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if url is not UNSET:
            field_dict["url"] = url
        if events is not UNSET:
            field_dict["events"] = events
        if description is not UNSET:
            field_dict["description"] = description
        if active is not UNSET:
            field_dict["active"] = active

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        url = d.pop("url", UNSET)

        _events = d.pop("events", UNSET)
        events: list[EventsEnum] | Unset = UNSET
        if _events is not UNSET:
            events = []
            for events_item_data in _events:
                events_item = EventsEnum(events_item_data)

                events.append(events_item)

        description = d.pop("description", UNSET)

        active = d.pop("active", UNSET)

        patched_webhook_endpoint_update_request = cls(
            url=url,
            events=events,
            description=description,
            active=active,
        )

        return patched_webhook_endpoint_update_request

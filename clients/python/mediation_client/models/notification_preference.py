from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="NotificationPreference")


@_attrs_define
class NotificationPreference:
    """
    Attributes:
        always_sent (list[str]): Emails that are always sent: rulings, agreements, escalations, closures and a
            mediator's question.
        reminders (bool | Unset): Reminders before your deadline to answer.
        updates (bool | Unset): Routine steps: a dispute raised, offers, counter-offers, replies, deliveries.
    """

    always_sent: list[str]
    reminders: bool | Unset = UNSET
    updates: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        always_sent = self.always_sent

        reminders = self.reminders

        updates = self.updates

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "always_sent": always_sent,
            }
        )
        if reminders is not UNSET:
            field_dict["reminders"] = reminders
        if updates is not UNSET:
            field_dict["updates"] = updates

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        always_sent = cast(list[str], d.pop("always_sent"))

        reminders = d.pop("reminders", UNSET)

        updates = d.pop("updates", UNSET)

        notification_preference = cls(
            always_sent=always_sent,
            reminders=reminders,
            updates=updates,
        )

        notification_preference.additional_properties = d
        return notification_preference

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

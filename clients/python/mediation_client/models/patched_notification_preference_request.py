from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="PatchedNotificationPreferenceRequest")


@_attrs_define
class PatchedNotificationPreferenceRequest:
    """
    Attributes:
        reminders (bool | Unset): Reminders before your deadline to answer.
        updates (bool | Unset): Routine steps: a dispute raised, offers, counter-offers, replies, deliveries.
    """

    reminders: bool | Unset = UNSET
    updates: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        reminders = self.reminders

        updates = self.updates

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if reminders is not UNSET:
            field_dict["reminders"] = reminders
        if updates is not UNSET:
            field_dict["updates"] = updates

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        reminders = d.pop("reminders", UNSET)

        updates = d.pop("updates", UNSET)

        patched_notification_preference_request = cls(
            reminders=reminders,
            updates=updates,
        )

        return patched_notification_preference_request

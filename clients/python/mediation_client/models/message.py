from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Message")


@_attrs_define
class Message:
    """An output of model rows, every field read-only, whose schema still says what the
    model column allows: a blank choice (``"outcome": ""`` while open) and a null (``assigned_to``
    before anyone holds the case). DRF drops both from read-only fields.

        Attributes:
            id (int):
            author (str): The user's username
            author_role (str):
            body (str):
            internal (bool): Mediator-only note
            reported (bool):
            report_reason (str):
            created_at (datetime.datetime):
    """

    id: int
    author: str
    author_role: str
    body: str
    internal: bool
    reported: bool
    report_reason: str
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        author = self.author

        author_role = self.author_role

        body = self.body

        internal = self.internal

        reported = self.reported

        report_reason = self.report_reason

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "author": author,
                "author_role": author_role,
                "body": body,
                "internal": internal,
                "reported": reported,
                "report_reason": report_reason,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        author = d.pop("author")

        author_role = d.pop("author_role")

        body = d.pop("body")

        internal = d.pop("internal")

        reported = d.pop("reported")

        report_reason = d.pop("report_reason")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        message = cls(
            id=id,
            author=author,
            author_role=author_role,
            body=body,
            internal=internal,
            reported=reported,
            report_reason=report_reason,
            created_at=created_at,
        )

        message.additional_properties = d
        return message

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

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="TimelineEvent")


@_attrs_define
class TimelineEvent:
    """
    Attributes:
        seq (int):
        at (datetime.datetime):
        actor (str):
        actor_role (str):
        action (str):
        from_state (str):
        to_state (str):
        summary (str):
        note (str): What its author wrote with the step: a note, a statement, a question, an answer, a ruling's
            rationale, an appeal's reason
    """

    seq: int
    at: datetime.datetime
    actor: str
    actor_role: str
    action: str
    from_state: str
    to_state: str
    summary: str
    note: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        seq = self.seq

        at = self.at.isoformat()

        actor = self.actor

        actor_role = self.actor_role

        action = self.action

        from_state = self.from_state

        to_state = self.to_state

        summary = self.summary

        note = self.note

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "seq": seq,
                "at": at,
                "actor": actor,
                "actor_role": actor_role,
                "action": action,
                "from_state": from_state,
                "to_state": to_state,
                "summary": summary,
                "note": note,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        seq = d.pop("seq")

        at = datetime.datetime.fromisoformat(d.pop("at"))

        actor = d.pop("actor")

        actor_role = d.pop("actor_role")

        action = d.pop("action")

        from_state = d.pop("from_state")

        to_state = d.pop("to_state")

        summary = d.pop("summary")

        note = d.pop("note")

        timeline_event = cls(
            seq=seq,
            at=at,
            actor=actor,
            actor_role=actor_role,
            action=action,
            from_state=from_state,
            to_state=to_state,
            summary=summary,
            note=note,
        )

        timeline_event.additional_properties = d
        return timeline_event

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

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.visibility_enum import VisibilityEnum

T = TypeVar("T", bound="AuditEntry")


@_attrs_define
class AuditEntry:
    """An output of model rows, every field read-only, whose schema still says what the
    model column allows: a blank choice (``"outcome": ""`` while open) and a null (``assigned_to``
    before anyone holds the case). DRF drops both from read-only fields.

        Attributes:
            seq (int):
            created_at (datetime.datetime):
            actor (str):
            actor_role (str):
            action (str):
            from_state (str):
            to_state (str):
            payload (Any):
            visibility (VisibilityEnum): * `all` - Parties and mediators
                * `mediators` - Mediators only
            prev_hash (str):
            hash_ (str):
    """

    seq: int
    created_at: datetime.datetime
    actor: str
    actor_role: str
    action: str
    from_state: str
    to_state: str
    payload: Any
    visibility: VisibilityEnum
    prev_hash: str
    hash_: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        seq = self.seq

        created_at = self.created_at.isoformat()

        actor = self.actor

        actor_role = self.actor_role

        action = self.action

        from_state = self.from_state

        to_state = self.to_state

        payload = self.payload

        visibility = self.visibility.value

        prev_hash = self.prev_hash

        hash_ = self.hash_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "seq": seq,
                "created_at": created_at,
                "actor": actor,
                "actor_role": actor_role,
                "action": action,
                "from_state": from_state,
                "to_state": to_state,
                "payload": payload,
                "visibility": visibility,
                "prev_hash": prev_hash,
                "hash": hash_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        seq = d.pop("seq")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        actor = d.pop("actor")

        actor_role = d.pop("actor_role")

        action = d.pop("action")

        from_state = d.pop("from_state")

        to_state = d.pop("to_state")

        payload = d.pop("payload")

        visibility = VisibilityEnum(d.pop("visibility"))

        prev_hash = d.pop("prev_hash")

        hash_ = d.pop("hash")

        audit_entry = cls(
            seq=seq,
            created_at=created_at,
            actor=actor,
            actor_role=actor_role,
            action=action,
            from_state=from_state,
            to_state=to_state,
            payload=payload,
            visibility=visibility,
            prev_hash=prev_hash,
            hash_=hash_,
        )

        audit_entry.additional_properties = d
        return audit_entry

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

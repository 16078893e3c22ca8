from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="WebhookAttempt")


@_attrs_define
class WebhookAttempt:
    """An output of model rows, every field read-only, whose schema still says what the
    model column allows: a blank choice (``"outcome": ""`` while open) and a null (``assigned_to``
    before anyone holds the case). DRF drops both from read-only fields.

        Attributes:
            number (int):
            started_at (datetime.datetime):
            succeeded (bool):
            response_code (int | None):
            duration_ms (int):
            error (str):
            manual (bool):
    """

    number: int
    started_at: datetime.datetime
    succeeded: bool
    response_code: int | None
    duration_ms: int
    error: str
    manual: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        number = self.number

        started_at = self.started_at.isoformat()

        succeeded = self.succeeded

        response_code: int | None
        response_code = self.response_code

        duration_ms = self.duration_ms

        error = self.error

        manual = self.manual

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "number": number,
                "started_at": started_at,
                "succeeded": succeeded,
                "response_code": response_code,
                "duration_ms": duration_ms,
                "error": error,
                "manual": manual,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        number = d.pop("number")

        started_at = datetime.datetime.fromisoformat(d.pop("started_at"))

        succeeded = d.pop("succeeded")

        def _parse_response_code(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        response_code = _parse_response_code(d.pop("response_code"))

        duration_ms = d.pop("duration_ms")

        error = d.pop("error")

        manual = d.pop("manual")

        webhook_attempt = cls(
            number=number,
            started_at=started_at,
            succeeded=succeeded,
            response_code=response_code,
            duration_ms=duration_ms,
            error=error,
            manual=manual,
        )

        webhook_attempt.additional_properties = d
        return webhook_attempt

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

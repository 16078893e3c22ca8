from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.evidence_kind_enum import EvidenceKindEnum

T = TypeVar("T", bound="Evidence")


@_attrs_define
class Evidence:
    """An output of model rows, every field read-only, whose schema still says what the
    model column allows: a blank choice (``"outcome": ""`` while open) and a null (``assigned_to``
    before anyone holds the case). DRF drops both from read-only fields.

        Attributes:
            id (int):
            kind (EvidenceKindEnum): * `photo` - Photo
                * `receipt` - Receipt
                * `tracking` - Tracking
                * `correspondence` - Correspondence
                * `other` - Other
            description (str):
            uploaded_by (str):
            file_name (str):
            content_type (str):
            size (int):
            sha256 (str):
            internal (bool):
            created_at (datetime.datetime):
            withdrawn (bool):
            withdrawn_at (datetime.datetime | None):
    """

    id: int
    kind: EvidenceKindEnum
    description: str
    uploaded_by: str
    file_name: str
    content_type: str
    size: int
    sha256: str
    internal: bool
    created_at: datetime.datetime
    withdrawn: bool
    withdrawn_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        kind = self.kind.value

        description = self.description

        uploaded_by = self.uploaded_by

        file_name = self.file_name

        content_type = self.content_type

        size = self.size

        sha256 = self.sha256

        internal = self.internal

        created_at = self.created_at.isoformat()

        withdrawn = self.withdrawn

        withdrawn_at: None | str
        if isinstance(self.withdrawn_at, datetime.datetime):
            withdrawn_at = self.withdrawn_at.isoformat()
        else:
            withdrawn_at = self.withdrawn_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "kind": kind,
                "description": description,
                "uploaded_by": uploaded_by,
                "file_name": file_name,
                "content_type": content_type,
                "size": size,
                "sha256": sha256,
                "internal": internal,
                "created_at": created_at,
                "withdrawn": withdrawn,
                "withdrawn_at": withdrawn_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        kind = EvidenceKindEnum(d.pop("kind"))

        description = d.pop("description")

        uploaded_by = d.pop("uploaded_by")

        file_name = d.pop("file_name")

        content_type = d.pop("content_type")

        size = d.pop("size")

        sha256 = d.pop("sha256")

        internal = d.pop("internal")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        withdrawn = d.pop("withdrawn")

        def _parse_withdrawn_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                withdrawn_at_type_0 = datetime.datetime.fromisoformat(data)

                return withdrawn_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        withdrawn_at = _parse_withdrawn_at(d.pop("withdrawn_at"))

        evidence = cls(
            id=id,
            kind=kind,
            description=description,
            uploaded_by=uploaded_by,
            file_name=file_name,
            content_type=content_type,
            size=size,
            sha256=sha256,
            internal=internal,
            created_at=created_at,
            withdrawn=withdrawn,
            withdrawn_at=withdrawn_at,
        )

        evidence.additional_properties = d
        return evidence

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

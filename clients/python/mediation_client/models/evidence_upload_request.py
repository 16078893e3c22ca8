from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, TypeVar

from attrs import define as _attrs_define

from .. import types
from ..models.evidence_kind_enum import EvidenceKindEnum
from ..types import UNSET, File, Unset

T = TypeVar("T", bound="EvidenceUploadRequest")


@_attrs_define
class EvidenceUploadRequest:
    """The multipart upload as the schema shows it.

    Attributes:
        file (File): JPEG, PNG, GIF, WebP, HEIC, PDF or UTF-8 text.
        description (str | Unset):
        kind (EvidenceKindEnum | Unset): * `photo` - Photo
            * `receipt` - Receipt
            * `tracking` - Tracking
            * `correspondence` - Correspondence
            * `other` - Other Default: EvidenceKindEnum.OTHER.
        internal (bool | Unset):  Default: False.
    """

    file: File
    description: str | Unset = UNSET
    kind: EvidenceKindEnum | Unset = EvidenceKindEnum.OTHER
    internal: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()

        description = self.description

        kind: str | Unset = UNSET
        if not isinstance(self.kind, Unset):
            kind = self.kind.value

        internal = self.internal

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "file": file,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if kind is not UNSET:
            field_dict["kind"] = kind
        if internal is not UNSET:
            field_dict["internal"] = internal

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))

        if not isinstance(self.description, Unset):
            files.append(("description", (None, str(self.description).encode(), "text/plain")))

        if not isinstance(self.kind, Unset):
            files.append(("kind", (None, str(self.kind.value).encode(), "text/plain")))

        if not isinstance(self.internal, Unset):
            files.append(("internal", (None, str(self.internal).encode(), "text/plain")))

        return files

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        file = File(payload=BytesIO(d.pop("file")))

        description = d.pop("description", UNSET)

        _kind = d.pop("kind", UNSET)
        kind: EvidenceKindEnum | Unset
        if isinstance(_kind, Unset):
            kind = UNSET
        else:
            kind = EvidenceKindEnum(_kind)

        internal = d.pop("internal", UNSET)

        evidence_upload_request = cls(
            file=file,
            description=description,
            kind=kind,
            internal=internal,
        )

        return evidence_upload_request

"""Streaming evidence uploads: the body goes to a temporary file chunk by chunk, the SHA-256
is computed on the way, and a file beyond the limit is cut off as soon as it crosses it.

One file per request, as the field ``file``: anything else is refused before its content
is streamed, so no parser differential decides which of two files is stored. Whatever
goes wrong while parsing, the temporary files are removed at once (not whenever the
request is garbage collected).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.uploadhandler import TemporaryFileUploadHandler
from rest_framework.parsers import DataAndFiles, MultiPartParser

from mediation.errors import FileTooLarge, InvalidInput
from workflows.evidence import max_file_bytes

# Room for the multipart framing and the text fields around the file.
MULTIPART_OVERHEAD = 64 * 1024
FILE_FIELD = "file"


def too_large(limit: int) -> FileTooLarge:
    return FileTooLarge(f"A file may be at most {limit} bytes.", limit=limit)


def check_content_length(meta: dict[str, Any]) -> None:
    """Refuse before reading anything when the declared body cannot fit."""
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        length = 0
    limit = max_file_bytes()
    if length > limit + MULTIPART_OVERHEAD:
        raise too_large(limit)


class EvidenceUploadHandler(TemporaryFileUploadHandler):
    """A temporary-file handler that hashes while streaming and stops at the size limit."""

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.limit = max_file_bytes()
        self.sha = hashlib.sha256()
        self.received = 0
        self.files: list[Any] = []

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: Any,
        encoding: str | None = None,
    ) -> None:
        check_content_length(META)

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        if field_name != FILE_FIELD:
            raise InvalidInput(
                f"Attach the file as the multipart field `{FILE_FIELD}`, not `{field_name}`.",
                field=FILE_FIELD,
            )
        if self.files:
            raise InvalidInput("Send one file per request.", field=FILE_FIELD)
        super().new_file(field_name, *args, **kwargs)
        self.files.append(self.file)
        self.sha = hashlib.sha256()
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.file.close()  # a NamedTemporaryFile: closing removes it
            raise too_large(self.limit)
        self.sha.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int) -> Any:
        uploaded: Any = super().file_complete(file_size)
        uploaded.sha256 = self.sha.hexdigest()
        uploaded.streamed_size = self.received
        return uploaded

    def discard(self) -> None:
        """Remove every temporary file this upload made (closing one deletes it)."""
        for file in self.files:
            file.close()  # TemporaryUploadedFile.close tolerates a file moved away already


class EvidenceMultiPartParser(MultiPartParser):
    """DRF's multipart parser, but a failed parse (bad framing, bad base64, a refused file)
    leaves no temporary file behind."""

    def parse(
        self, stream: Any, media_type: Any = None, parser_context: Any = None
    ) -> DataAndFiles:
        try:
            return super().parse(stream, media_type, parser_context)
        except BaseException:
            request = (parser_context or {}).get("request")
            for handler in getattr(request, "upload_handlers", None) or ():
                if isinstance(handler, EvidenceUploadHandler):
                    handler.discard()
            raise

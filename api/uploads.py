"""Streaming evidence uploads: the body goes to a temporary file chunk by chunk, the SHA-256
is computed on the way, and a file beyond the limit is cut off as soon as it crosses it."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.uploadhandler import TemporaryFileUploadHandler

from mediation.errors import FileTooLarge
from workflows.evidence import max_file_bytes

# Room for the multipart framing and the text fields around the file.
MULTIPART_OVERHEAD = 64 * 1024


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

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: Any,
        encoding: str | None = None,
    ) -> None:
        check_content_length(META)

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
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

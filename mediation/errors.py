"""Domain errors with a stable machine code.

Services raise these; the API turns them into problem+json (RFC 9457) and the console
shows their message. The status is the HTTP status the API answers with, kept here so
admin, API and workers classify a refusal the same way.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 422
    code = "unprocessable"
    title = "The request breaks a rule of the dispute process"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra


class NotAuthenticated(DomainError):
    """No or bad credentials (401)."""

    status = 401
    code = "not_authenticated"
    title = "The credentials are not valid"


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


class Forbidden(DomainError):
    """A role or a limit forbids the action (403)."""

    status = 403
    code = "forbidden"
    title = "You may not do this"


class AuthorityLimitExceeded(Forbidden):
    code = "authority_limit_exceeded"
    title = "The amount is beyond your authority"


class InvalidTransition(DomainError):
    """The dispute's state does not allow the action (409)."""

    status = 409
    code = "invalid_transition"
    title = "The dispute's state does not allow this"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "A concurrent change won"


class VersionConflict(DomainError):
    status = 412
    code = "version_conflict"
    title = "The dispute changed since you read it"


class RuleViolation(DomainError):
    """A rule of the domain refuses the request (422): amounts, deadlines, limits of rounds."""

    status = 422


class InvalidInput(DomainError):
    status = 400
    code = "invalid"
    title = "The request is not valid"


class FileTooLarge(DomainError):
    """An upload beyond the per-file limit (413), refused while streaming."""

    status = 413
    code = "file_too_large"
    title = "The file is too large"


class ImageTooLarge(DomainError):
    """An image whose header claims more pixels than the limits allow (422): refused before
    it is stored, so no browser is ever asked to decode it."""

    status = 422
    code = "image_too_large"
    title = "The image has too many pixels"


class UnsupportedFileType(DomainError):
    """The content is not an allowed type, or contradicts its declared or named type (415)."""

    status = 415
    code = "unsupported_file_type"
    title = "The file type is not accepted"


class RateLimited(DomainError):
    """Too many requests of one kind in a short time (429); ``retry_after`` is the number
    of seconds until the next one would be accepted (the API sends it as ``Retry-After``)."""

    status = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(
        self, message: str, *, retry_after: int, code: str | None = None, **extra: Any
    ) -> None:
        super().__init__(message, code=code, retry_after=retry_after, **extra)

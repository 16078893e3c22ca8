"""Cursor pagination of the API's lists: ``{"next", "previous", "results"}``.

Every list is ordered by one unique integer column (an id or the audit sequence), so a
cursor is a position in that column and a page is one indexed range query, whatever the
size of the list. A cursor the client mangled is a 400 ``invalid`` (problem+json), never a
404 (the list exists) nor a 500 (a position that is not a number of the column).
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from mediation.errors import InvalidInput

# The position a cursor holds: a value of the integer column the list is ordered by.
_POSITION = re.compile(r"-?\d{1,19}")


_PAGE_SIZE = re.compile(r"[0-9]{1,6}")


def single(request: Request, name: str) -> str | None:
    """The query parameter ``name`` given at most once (400 ``invalid`` when repeated)."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise InvalidInput(f"Give {name} once.", field=name)
    return values[0] if values else None


class CursorPage(CursorPagination):
    """The API's cursor pagination: ``page_size`` by default, ``?page_size=`` from 1 to
    ``max_page_size``; any other value is refused (400 ``invalid``) rather than replaced
    by the default, so a client never takes a page of another size for the one it asked."""

    ordering: Any = "-id"
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    invalid_cursor_message = "The cursor is not valid: follow the next or previous link."

    def get_page_size(self, request: Request) -> int:
        value = single(request, self.page_size_query_param)
        if value is None:
            return self.page_size
        if _PAGE_SIZE.fullmatch(value) and 1 <= int(value) <= self.max_page_size:
            return int(value)
        raise InvalidInput(
            f"page_size must be a whole number from 1 to {self.max_page_size}.",
            field=self.page_size_query_param,
        )

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The position to continue from: follow `next` or `previous`.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page: {self.page_size} by default.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]

    def decode_cursor(self, request: Request) -> Cursor | None:
        single(request, self.cursor_query_param)
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
            bad = True
        else:
            bad = (
                cursor is not None
                and cursor.position is not None
                and not _POSITION.fullmatch(str(cursor.position))
            )
        if bad:
            raise InvalidInput(self.invalid_cursor_message, field=self.cursor_query_param)
        return cursor


class ThreadPagination(CursorPage):
    """A dispute's messages, oldest first (ids follow the order they were written in)."""

    ordering = "id"
    page_size = 50


class ChainPagination(CursorPage):
    """A dispute's audit entries and timeline, in the chain's order (``seq``)."""

    ordering = "seq"
    page_size = 50


CURSOR_PARAMETERS = [
    OpenApiParameter(
        spec["name"],
        spec["schema"],
        OpenApiParameter.QUERY,
        required=False,
        description=spec["description"],
    )
    for spec in ChainPagination().get_schema_operation_parameters(None)
]

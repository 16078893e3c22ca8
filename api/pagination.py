"""Cursor pagination of the API's lists: ``{"next", "previous", "results"}``.

Every list is ordered by one unique integer column (an id or the audit sequence), so a
cursor is a position in that column and a page is one indexed range query, whatever the
size of the list. A cursor the client mangled is a 400 ``invalid`` (problem+json), never a
404 (the list exists) nor a 500 (a position that is not a number of the column).
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from mediation.errors import InvalidInput

# The position a cursor holds: a value of the integer column the list is ordered by.
_POSITION = re.compile(r"-?\d{1,19}")


class CursorPage(CursorPagination):
    """The API's cursor pagination: ``page_size`` by default, ``?page_size=`` up to
    ``max_page_size`` (larger values are capped, others fall back to the default)."""

    ordering: Any = "-id"
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    invalid_cursor_message = "The cursor is not valid: follow the next or previous link."

    def decode_cursor(self, request: Request) -> Cursor | None:
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
        "cursor",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        required=False,
        description="The pagination cursor value (from `next` or `previous`).",
    ),
    OpenApiParameter(
        "page_size",
        OpenApiTypes.INT,
        OpenApiParameter.QUERY,
        required=False,
        description=f"Results per page (at most {ChainPagination.max_page_size}).",
    ),
]

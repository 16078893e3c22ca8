"""The API's JSON parser: DRF's, with the limits a public endpoint needs.

Whatever a client sends, parsing ends in a value or in a 400 ``invalid`` (413
``request_too_large`` for a body over the size limit), never in a 500:

* the body is at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes (413): DRF hands JSON parsers
  ``request.body``, which Django bounds by that limit, and this parser reads no further than
  it from whatever stream it is given;
* nesting deeper than ``API_JSON_MAX_DEPTH`` is refused *before* the body is parsed, by
  counting brackets outside strings with regular expressions and C-level iteration, so
  that no input can drive the (recursive) JSON decoder into a ``RecursionError``;
* the body must be text in the request's charset (UTF-8 unless it says otherwise); NaN,
  Infinity and numbers out of a float's range (``1e999999``) are refused, as are integers
  beyond Python's 4,300-digit conversion limit, duplicate keys in an object (which two
  JSON readers could take differently) and strings holding a lone UTF-16 surrogate
  (``"\\ud800"``: no UTF-8 encoding exists, so it could be neither stored nor echoed).
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Mapping
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# A JSON string, escapes included (unrolled: no backtracking per character).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# A \u escape of a UTF-16 surrogate: a lone one is found only after decoding.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def max_depth() -> int:
    return int(settings.API_JSON_MAX_DEPTH)


def max_body_bytes() -> int | None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return None if limit is None else int(limit)


def too_large(limit: int) -> RequestDataTooBig:
    return RequestDataTooBig(f"The request body is larger than the {limit} bytes allowed.")


def read_body(stream: Any, limit: int | None) -> bytes:
    """The body, or :class:`RequestDataTooBig` once more than ``limit`` bytes arrive."""
    if stream is None:
        return b""
    if limit is None:
        return bytes(stream.read())
    data = bytes(stream.read(limit + 1))
    if len(data) > limit:
        raise too_large(limit)
    return data


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in ``text`` (brackets inside strings do not count),
    computed without recursion; for unbalanced text, the deepest a reader would go."""
    if text.count("[") + text.count("{") == 0:
        return 0
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _bounded_int(text: str) -> int:
    # Python refuses longer ones too (ValueError), with a message about its own internals.
    if len(text.lstrip("-")) > (sys.get_int_max_str_digits() or 4300):
        raise ValueError(f"an integer of {len(text)} digits is out of range")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {key[:100]!r} appears twice in an object")
            seen.add(key)
    return obj


def _has_lone_surrogate(value: Any) -> bool:
    """True when a string (or object key) anywhere in ``value`` cannot be UTF-8 encoded;
    iterative, the depth being bounded already."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def loads(text: str, *, depth: int) -> Any:
    """Parse JSON text within the limits above; raises :class:`ValueError` saying why not."""
    if nesting_depth(text) > depth:
        raise ValueError(f"arrays and objects nest more than {depth} levels deep")
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
            object_pairs_hook=_unique_keys,
        )
    except RecursionError:  # not reachable within the depth limit; never a 500 regardless
        raise ValueError("arrays and objects nest too deeply") from None
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise ValueError("a string holds a lone UTF-16 surrogate (no such character exists)")
    return value


class LimitedJSONParser(JSONParser):
    """``application/json`` bodies within the size and depth limits (see the module)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = read_body(stream, max_body_bytes())
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(f"JSON parse error - the body is not valid {encoding}.") from None
        try:
            return loads(text, depth=max_depth())
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None

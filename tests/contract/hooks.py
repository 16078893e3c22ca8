"""Schemathesis hooks of the contract run (loaded through SCHEMATHESIS_HOOKS): the logout
operations, fuzzed without ending the role's run, and cursors, which only the API makes.

``POST /auth/logout/`` revokes the token it carries and ``POST /auth/logout-all/`` every
token of its caller, so sent with the role's token either would end the run: every later
request would be a 401, which the checks accept. So each logout call that carries the role's
token is given its own fresh one instead, from pools tokens.py issued before the server
started (CONTRACT_TOKEN_POOL, this role's entry):

* ``logout``: more tokens of the role's own user. Logging one out leaves the others, the
  role's main token among them, alive.
* ``logout_all``: one token each of stand-ins of the same kind (another buyer, another
  shop's owner, another lead mediator), each used once: logging out everywhere revokes
  that stand-in's only token, and the next call gets a live token of the next stand-in,
  never one of the role's user.

Calls that carry anything else (no credentials, a made-up one: the auth checks' probes) are
left alone, and the platform's API key, which no logout revokes, has no pools. Were a pool
to run dry, the call gets a token already spent (a 401, never the role's own token) and
the count of such calls, written to CONTRACT_TOKEN_USAGE with the others, fails the test.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import schemathesis

POOLS = {"/api/v1/auth/logout/": "logout", "/api/v1/auth/logout-all/": "logout_all"}

_LOCK = threading.Lock()
_ROLE: dict[str, Any] = {}
if os.environ.get("CONTRACT_TOKEN_POOL"):
    _all = json.loads(Path(os.environ["CONTRACT_TOKEN_POOL"]).read_text())
    _ROLE = _all[os.environ["CONTRACT_ROLE"]]
_USAGE_PATH = os.environ.get("CONTRACT_TOKEN_USAGE", "")
_USAGE = {"logout": 0, "logout_all": 0, "exhausted": 0}
_SPENT: dict[str, str] = {}


def _authorization_key(headers: dict[str, Any] | None) -> str | None:
    return next((name for name in headers or {} if name.lower() == "authorization"), None)


def _next_token(pool: str) -> str | None:
    """The pool's next unused token; once it is empty, the last one handed out (spent)."""
    with _LOCK:
        tokens = _ROLE.get(pool)
        if tokens is None:
            return None
        if tokens:
            token = tokens.pop()
            _SPENT[pool] = token
            _USAGE[pool] += 1
        else:
            token = _SPENT.get(pool, "Token spent")
            _USAGE["exhausted"] += 1
        if _USAGE_PATH:
            Path(_USAGE_PATH).write_text(json.dumps(_USAGE))
        return token


_POSITION = re.compile(r"-?\d{1,19}")


def issued_cursor(value: Any) -> bool:
    """A cursor the API could have put in a ``next`` or ``previous`` link (DRF's: base64 of
    ``o=<offset>&r=<reverse>&p=<position>``)."""
    try:
        decoded = base64.b64decode(str(value).encode("ascii"), validate=True).decode("ascii")
    except (ValueError, UnicodeError):
        return False
    parts = parse_qs(decoded, keep_blank_values=True)
    if not parts or set(parts) - {"o", "r", "p"}:
        return False
    return all(_POSITION.fullmatch(v[0] or "0") for k, v in parts.items() if k in ("o", "p"))


def _drop_made_up_cursor(case: Any) -> None:
    """A cursor is a position the API hands out in ``next`` and ``previous``: any string is
    schema-valid, but a made-up one is no position (400 invalid, as the negative cases and
    tests/api/test_pagination.py check). A positive case asks for the first page instead."""
    mode = getattr(getattr(getattr(case, "meta", None), "generation", None), "mode", None)
    query = case.query
    if mode == "positive" and query and "cursor" in query and not issued_cursor(query["cursor"]):
        del query["cursor"]


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    _drop_made_up_cursor(case)
    pool = POOLS.get(case.operation.path)
    if pool is None or case.method.upper() != "POST":
        return
    key = _authorization_key(case.headers)
    if key is None or case.headers[key] != _ROLE.get("authorization"):
        return
    token = _next_token(pool)
    if token is not None:
        case.headers[key] = token

"""The saved-reply picker of the case page's message and request-for-information forms:
each reply the mediator is offered, rendered for this case (``console.replies``), or
marked unavailable with the reason. One query for the replies; the case's values come from
what the case page already loaded."""

from __future__ import annotations

from typing import Any

from console.models import ReplyKind, SavedReply
from console.replies import Case, Unavailable, render
from mediation.models import Dispute, Party

# The case page's form of each kind, and the field the picker fills.
FORMS = {
    ReplyKind.MESSAGE: ("message", "body"),
    ReplyKind.REQUEST_INFO: ("request-info", "question"),
}


def _render(body: str, case: Case) -> tuple[str, str]:
    try:
        return render(body, case), ""
    except Unavailable as why:
        return "", str(why)


def pickers(dispute: Dispute, user: Any) -> dict[str, dict[str, Any]]:
    """Per form name: the field to fill and its replies (id, title, shared, and either the
    text, per party asked for a request for information, or why it is unavailable)."""
    result: dict[str, dict[str, Any]] = {}
    for reply in SavedReply.offered_to(user).order_by("-shared", "title", "pk"):
        form, target = FORMS[ReplyKind(reply.kind)]
        entry = {"id": reply.pk, "title": reply.title, "shared": reply.shared}
        if reply.kind == ReplyKind.REQUEST_INFO:
            texts = {p: _render(reply.body, Case(dispute, user, p)) for p in Party.values}
            entry["texts"] = {p: text for p, (text, _) in texts.items()}
            entry["unavailable"] = next((why for _, why in texts.values() if why), "")
        else:
            text, why = _render(reply.body, Case(dispute, user))
            entry["texts"] = {"": text}
            entry["unavailable"] = why
        result.setdefault(form, {"target": f"id_{form}_{target}", "replies": []})
        result[form]["replies"].append(entry)
    return result


__all__ = ["pickers"]

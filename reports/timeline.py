"""A readable history of a dispute, derived from its audit entries (each step's sentence is
declared with the step, in ``workflows.steps``)."""

from __future__ import annotations

from typing import Any

from mediation.models import AuditEntry, Dispute, Evidence, Visibility
from mediation.selectors import audit_entries
from workflows.steps import note_of, summary

_EVIDENCE_STEPS = frozenset({"evidence", "evidence_withdrawn"})


def timeline(
    dispute: Dispute,
    *,
    include_internal: bool,
    party: str | None = None,
    entries: list[AuditEntry] | None = None,
    hidden_evidence: set[int] | None = None,
) -> list[dict[str, Any]]:
    """The dispute's steps in words, as a mediator (``include_internal``) or a viewer of
    ``party`` ("buyer", "seller" or None for the platform) may read them: the files the
    other party withdrew are not named to them. ``entries`` and ``hidden_evidence`` (those
    files' ids): when the caller has read them already."""
    events = []
    currency = dispute.order.currency
    hidden: set[int] = set()
    if not include_internal:
        hidden = (
            hidden_evidence
            if hidden_evidence is not None
            else set(
                Evidence.objects.filter(dispute=dispute, withdrawn=True)
                .exclude(party=party or "-")
                .values_list("pk", flat=True)
            )
        )
    for entry in audit_entries(dispute) if entries is None else entries:
        if entry.visibility == Visibility.MEDIATORS and not include_internal:
            continue
        payload = entry.payload or {}
        if entry.action in _EVIDENCE_STEPS and payload.get("evidence") in hidden:
            payload = {k: v for k, v in payload.items() if k != "file_name"}
        events.append(
            {
                "seq": entry.seq,
                "at": entry.created_at,
                "actor": entry.actor_display,
                "actor_role": entry.actor_role,
                "action": entry.action,
                "from_state": entry.from_state,
                "to_state": entry.to_state,
                "summary": summary(entry.action, payload, currency, entry.actor_display),
                "note": note_of(entry.action, payload, staff=include_internal),
            }
        )
    return events

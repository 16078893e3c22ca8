"""Who sees what of a dispute: the read rules that the API, the console, the case file and
the webhooks share, written once.

- :func:`viewer_of` and :func:`party_or_mediator`: the caller's standing on a dispute (a
  mediator sees everything; the buyer and the shop's members are its parties).
- :func:`visible_offers`, :func:`visible_rulings`: an agent's offer waiting for the owner
  is the shop's business until approved; proposed and rejected rulings stay with the
  platform.
- :func:`audit_payload`: a mediators-only audit entry keeps its place in the chain, but
  its payload is redacted for anyone else.

Which disputes a caller may see at all is :func:`mediation.selectors.disputes_for`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mediation.actors import Actor, SystemActor, mediator_profile, roles_for
from mediation.errors import Forbidden
from mediation.models import (
    AuditEntry,
    Dispute,
    Offer,
    OfferStatus,
    Ruling,
    RulingStatus,
    Visibility,
)

REDACTED: dict[str, Any] = {"redacted": True}


@dataclass(frozen=True)
class Viewer:
    """Whose view of a dispute is shown."""

    role: str  # "buyer", "seller", "mediator", "platform" (the system) or "" (no standing)
    staff: bool  # the full view of the mediators (internal notes, evidence, every ruling)
    party: str | None  # "buyer" or "seller"


# The system (the case-file export command, workers): the full view.
PLATFORM = Viewer(role="platform", staff=True, party=None)


def sees_internal(user: Actor | Any) -> bool:
    """Mediators see internal notes, internal evidence, internal entries and every ruling
    (the system's webhook view of a shop is a party's, not this)."""
    return mediator_profile(user) is not None


def viewer_of(dispute: Dispute, user: Actor | Any) -> Viewer:
    """The caller's standing on ``dispute`` (one they may see)."""
    if isinstance(user, SystemActor):
        return PLATFORM
    roles = roles_for(user, dispute)
    if roles.mediator is not None:
        return Viewer(role="mediator", staff=True, party=roles.party)
    return Viewer(role=roles.party or "", staff=False, party=roles.party)


def party_or_mediator(dispute: Dispute, user: Actor | Any, *, what: str) -> Viewer:
    """:func:`viewer_of`, refusing (403) anyone who is neither a party nor a mediator
    (the platform's integration sees disputes, not their files): ``what`` names the thing
    refused, e.g. ``"The audit log"``."""
    viewer = viewer_of(dispute, user)
    if not viewer.staff and viewer.party is None:
        raise Forbidden(f"{what} is for the parties and the mediators.")
    return viewer


def sees_conversation(dispute: Dispute, user: Actor | Any) -> bool:
    """The thread, the notes that go with offers, evidence, the audit log and the case
    file are for the parties and the mediators; the platform's integration, which pays
    refunds, sees the dispute's state, amounts and deliveries only."""
    viewer = viewer_of(dispute, user)
    return viewer.staff or viewer.party is not None


def visible_offers(dispute: Dispute, *, to_buyer: bool) -> list[Offer]:
    offers = list(dispute.offers.all())
    # An agent's offer waiting for the owner is the shop's business until approved.
    if to_buyer:
        offers = [o for o in offers if o.status != OfferStatus.PENDING_APPROVAL]
    return offers


def visible_rulings(dispute: Dispute, *, staff: bool) -> list[Ruling]:
    rulings = list(dispute.rulings.all())
    if not staff:
        # Parties see decided rulings; proposals and rejected drafts stay with the platform.
        rulings = [r for r in rulings if r.status == RulingStatus.APPROVED]
    return rulings


def audit_payload(entry: AuditEntry, *, staff: bool) -> dict[str, Any]:
    """The entry's payload as ``staff`` (or not) may read it."""
    if entry.visibility == Visibility.MEDIATORS and not staff:
        return dict(REDACTED)
    return entry.payload

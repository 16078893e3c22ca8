"""What a person chose to hear by email, and which emails nobody can turn off.

Published for the API's ``/me/notifications/`` endpoint (``api.preferences``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mediation.errors import RuleViolation
from mediation.models import NotificationPreference

# Never opted out of: rulings, agreements, escalations, closures and a mediator's question.
ALWAYS = frozenset({"ruled", "agreed", "escalated", "closed", "info_requested"})
# The mediators' emails (a report of conduct): sent whatever a person chose as a party.
MEDIATOR_KINDS = frozenset({"conduct_reported"})
# Reminders before a deadline, and the one request to rate a closed case.
REMINDERS = frozenset({"reminder", "feedback_reminder"})
# Names a client might use for the emails that cannot be turned off.
REQUIRED_NAMES = frozenset(
    {
        *ALWAYS,
        "rulings",
        "ruling",
        "agreements",
        "escalations",
        "closures",
        "questions",
        "info_requests",
    }
)


def check_may_turn_off(names: Iterable[str]) -> None:
    """Refuse (422 ``notification_required``) any of ``names`` that is an email nobody can
    turn off."""
    required = sorted(name for name in set(names) if name in REQUIRED_NAMES)
    if required:
        raise RuleViolation(
            "Rulings, agreements, escalations, closures and a mediator's questions are "
            "always sent; only reminders and updates can be turned off.",
            code="notification_required",
            fields=required,
        )


def set_preferences(
    user: Any, *, reminders: bool | None = None, updates: bool | None = None
) -> NotificationPreference:
    """Turn reminders or routine updates on or off (None: as it was)."""
    preference = preference_for(user)
    if reminders is not None:
        preference.reminders = reminders
    if updates is not None:
        preference.updates = updates
    preference.save()
    return preference


def skip_reason(kind: str, user: Any, preference: NotificationPreference | None) -> str:
    if not user.email:
        return "no email address"
    if not user.is_active:
        return "inactive account"
    if kind in ALWAYS or kind in MEDIATOR_KINDS or preference is None:
        return ""
    if kind in REMINDERS and not preference.reminders:
        return "opted out of reminders"
    if kind not in REMINDERS and not preference.updates:
        return "opted out of updates"
    return ""


def preference_for(user: Any) -> NotificationPreference:
    """The user's preferences (the defaults, unsaved, when they never changed them)."""
    found = NotificationPreference.objects.filter(user_id=user.pk).first()
    return found or NotificationPreference(user_id=user.pk)

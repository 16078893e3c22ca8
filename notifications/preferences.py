"""What a person chose to hear by email, and which emails nobody can turn off.

Published for the API's ``/me/notifications/`` endpoint (``api.preferences``).
"""

from __future__ import annotations

from typing import Any

from mediation.models import NotificationPreference

# Never opted out of: rulings, agreements, escalations, closures and a mediator's question.
ALWAYS = frozenset({"ruled", "agreed", "escalated", "closed", "info_requested"})
REMINDERS = frozenset({"reminder"})


def skip_reason(kind: str, user: Any, preference: NotificationPreference | None) -> str:
    if not user.email:
        return "no email address"
    if not user.is_active:
        return "inactive account"
    if kind in ALWAYS or preference is None:
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

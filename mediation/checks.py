"""System checks of the audit log's configuration (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def audit_key_is_set(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A deployment keys its audit chain with its own secret, not the one derived from
    SECRET_KEY for a laptop."""
    if not settings.AUDIT_HMAC_KEY_DERIVED:
        return []
    return [
        Warning(
            "The audit chain is keyed with a key derived from SECRET_KEY (id 'local').",
            hint="Set AUDIT_HMAC_KEY to a long random secret kept outside the database, "
            "and AUDIT_HMAC_KEY_ID to its id.",
            id="mediation.W001",
        )
    ]

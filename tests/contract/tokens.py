"""The credentials of the contract run, issued in the server's database before it starts.

Run inside ``manage.py shell`` (the server's environment), never through the login endpoint:
:func:`issue` writes, for each role, the Authorization header of its main credential and
two pools of personal tokens for the logout operations (see hooks.py), as JSON.

Tokens are django-rest-knox's: a SHA-512 digest each, so a few hundred cost milliseconds.
``API_TOKENS_PER_USER`` must be above the pool's size in the environment (it is, in the
contract test's), or each new token would revoke the oldest, the main one first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from mediation.models import MediatorProfile, Shop, ShopMember, ShopRole, Tier
from workflows.credentials import issue_token

# The platform integration's key in the demo data (demo.seed.DEMO_PLATFORM_KEY).
PLATFORM_KEY = "demo0key.storefront-demo-key-not-secret"


def _stand_ins(kind: str, role: str, count: int) -> list[Any]:
    """``count`` people of the role's kind who only ever log out everywhere: a buyer (no
    roles), an owner of a shop of their own (no orders: the demo shops' members, who hear
    of their disputes, stay as they are), or a lead mediator. No usable password."""
    user_model = get_user_model()
    users = [user_model(username=f"contract-{role}-{n:04d}") for n in range(count)]
    for user in users:
        user.set_unusable_password()
        user.is_staff = kind == "mediator"
    users = user_model.objects.bulk_create(users)
    if kind == "owner":
        shop = Shop.objects.create(slug=f"contract-{role}", name="Logout stand-ins")
        ShopMember.objects.bulk_create(
            ShopMember(shop=shop, user=user, role=ShopRole.OWNER) for user in users
        )
    elif kind == "mediator":
        MediatorProfile.objects.bulk_create(
            MediatorProfile(user=user, tier=Tier.LEAD, authority={}) for user in users
        )
    return users


def issue(spec: list[dict[str, Any]], pool: int, path: str) -> None:
    """For each ``{"role", "kind", "user"}`` of ``spec``: ``authorization`` (the header the
    run sends), ``logout`` (``pool`` more tokens of the same user) and ``logout_all`` (one
    token each of ``pool`` stand-ins of the same kind); the platform's key has no pools."""
    assert pool < settings.API_TOKENS_PER_USER, "raise API_TOKENS_PER_USER above the pool"
    user_model = get_user_model()
    out: dict[str, dict[str, Any]] = {}
    with transaction.atomic():
        for item in spec:
            role, kind = item["role"], item["kind"]
            if kind == "platform":
                out[role] = {"authorization": f"Bearer {PLATFORM_KEY}"}
                continue
            user = user_model.objects.get(username=item["user"])
            out[role] = {
                "authorization": f"Token {issue_token(user)[1]}",
                "logout": [f"Token {issue_token(user)[1]}" for _ in range(pool)],
                "logout_all": [
                    f"Token {issue_token(stand_in)[1]}" for stand_in in _stand_ins(kind, role, pool)
                ],
            }
    Path(path).write_text(json.dumps(out))

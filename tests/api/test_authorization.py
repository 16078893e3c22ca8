"""Who may call what: every endpoint of ``api/urls.py`` x every role (DESIGN §2, §9).

The policy is the table :data:`POLICY` below, one row per endpoint and one column per
role, written from the design:

* a dispute is seen by its buyer, its shop's members, the mediators and the platform
  integration; anyone else gets 404 ``not_found`` on every endpoint under it (the dispute,
  its actions, messages, report, timeline, audit, evidence, case file, feedback and offer
  approval), so its existence does not leak; nobody anonymous gets past 401
  ``not_authenticated``;
* the thread, the audit log, the evidence and the case file are for the parties and the
  mediators (§7, §9); the platform, which pays refunds, gets 403 (and the notes of offers
  blank in the dispute);
* internal notes are written and read by mediators only: a party posting one gets 403,
  and parties (and the platform) never see them in the thread, the timeline, or the
  payload of the audit log (redacted);
* orders are synced by the platform integration only (403 for everyone else) and listed
  to each caller as the orders they bought or their shop sold (mediators and the
  platform see all);
* each action is posted in a state where it is possible, so the only thing between the
  caller and a success is their role;
* webhook endpoints (§6) belong to a shop's owners: anyone else (its agents included) gets
  404 on an endpoint and its deliveries, and the list shows them none; registering needs
  an owned shop (403 otherwise; the owner of another shop registers for their own);
* notification preferences (§6) are the caller's own: everyone signed in reads and changes
  theirs, and only theirs.
* the statistics (the dashboard's figures) are for mediators: everyone else gets 403.

Each cell is its own test with a fresh state; :func:`test_no_unauthorized_success` walks
the whole table once more and counts every 2xx the policy does not grant (it must be 0).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from mediation.models import Dispute, Message, Offer
from tests.scenarios import Cast, Scenario, as_user, dispute_in
from workflows import conversation, credentials, evidence

pytestmark = pytest.mark.django_db

ROLES = (
    "buyer",
    "other_buyer",
    "owner",
    "agent",
    "other_member",
    "mediator_agent",
    "mediator_senior",
    "mediator_lead",
    "platform",
    "anonymous",
)
MEDIATORS = {"mediator_agent", "mediator_senior", "mediator_lead"}
SECRET = "INTERNAL-NOTE-7f3a: the seller has three open fraud flags"
PASSWORD = "x-test-pass-1"

# fmt: off
# Columns:                    buyer other owner agent other  med.  med.  med. platf  anon
#                                   buyer             member agent senior lead
POLICY: dict[str, tuple[int, ...]] = {
    "POST auth/token":          ( 200,  200,  200,  200,  200,  200,  200,  200,  403,  401),
    "POST auth/logout":         ( 204,  204,  204,  204,  204,  204,  204,  204,  204,  401),
    "POST auth/logout-all":     ( 200,  200,  200,  200,  200,  200,  200,  200,  200,  401),
    "GET orders":               ( 200,  200,  200,  200,  200,  200,  200,  200,  200,  401),
    "POST orders":              ( 403,  403,  403,  403,  403,  403,  403,  403,  201,  401),
    "GET disputes":             ( 200,  200,  200,  200,  200,  200,  200,  200,  200,  401),
    "POST disputes":            ( 201,  404,  404,  404,  404,  404,  404,  404,  404,  401),
    "GET dispute":              ( 200,  404,  200,  200,  404,  200,  200,  200,  200,  401),
    "GET messages":             ( 200,  404,  200,  200,  404,  200,  200,  200,  403,  401),
    "POST message":             ( 201,  404,  201,  201,  404,  201,  201,  201,  403,  401),
    "POST internal note":       ( 403,  404,  403,  403,  404,  201,  201,  201,  403,  401),
    "POST report":              ( 200,  404,  200,  200,  404,  403,  403,  403,  403,  401),
    "GET timeline":             ( 200,  404,  200,  200,  404,  200,  200,  200,  200,  401),
    "GET audit":                ( 200,  404,  200,  200,  404,  200,  200,  200,  403,  401),
    "GET feedback":             ( 200,  404,  200,  200,  404,  200,  200,  200,  200,  401),
    "POST feedback":            ( 201,  404,  201,  201,  404,  403,  403,  403,  403,  401),
    "GET evidence":             ( 200,  404,  200,  200,  404,  200,  200,  200,  403,  401),
    "POST evidence":            ( 201,  404,  201,  201,  404,  201,  201,  201,  403,  401),
    "GET evidence download":    ( 200,  404,  200,  200,  404,  200,  200,  200,  403,  401),
    "POST evidence withdraw":   ( 200,  404,  403,  403,  404,  403,  403,  403,  403,  401),
    "GET case file":            ( 200,  404,  200,  200,  404,  200,  200,  200,  403,  401),
    "POST approve-offer":       ( 403,  404,  200,  403,  404,  403,  403,  403,  403,  401),
    "POST reject-offer":        ( 403,  404,  200,  403,  404,  403,  403,  403,  403,  401),
    "POST accept-request":      ( 403,  404,  200,  200,  404,  403,  403,  403,  403,  401),
    "POST offer":               ( 403,  404,  200,  200,  404,  403,  403,  403,  403,  401),
    "POST contest":             ( 403,  404,  200,  200,  404,  403,  403,  403,  403,  401),
    "POST accept-offer":        ( 200,  404,  403,  403,  404,  403,  403,  403,  403,  401),
    "POST counter":             ( 200,  404,  403,  403,  404,  403,  403,  403,  403,  401),
    "POST escalate":            ( 200,  404,  200,  200,  404,  403,  403,  403,  403,  401),
    "POST withdraw":            ( 200,  404,  403,  403,  404,  403,  403,  403,  403,  401),
    "POST assign":              ( 403,  404,  403,  403,  404,  200,  200,  200,  403,  401),
    "POST request-info":        ( 403,  404,  403,  403,  404,  200,  403,  200,  403,  401),
    "POST provide-info":        ( 200,  404,  403,  403,  404,  403,  403,  403,  403,  401),
    "POST rule":                ( 403,  404,  403,  403,  404,  200,  403,  200,  403,  401),
    "POST approve-ruling":      ( 403,  404,  403,  403,  404,  403,  200,  200,  403,  401),
    "POST reject-ruling":       ( 403,  404,  403,  403,  404,  403,  200,  200,  403,  401),
    "POST fulfil":              ( 409,  404,  200,  200,  404,  200,  200,  200,  200,  401),
    "POST acknowledge-return":  ( 403,  404,  200,  200,  404,  403,  403,  403,  403,  401),
    "POST confirm-received":    ( 200,  404,  403,  403,  404,  403,  403,  403,  403,  401),
    "POST appeal":              ( 200,  404,  200,  200,  404,  403,  403,  403,  403,  401),
    "GET webhook endpoints":    ( 200,  200,  200,  200,  200,  200,  200,  200,  200,  401),
    "POST webhook endpoints":   ( 403,  403,  201,  403,  201,  403,  403,  403,  201,  401),
    "GET webhook endpoint":     ( 404,  404,  200,  404,  404,  404,  404,  404,  404,  401),
    "PATCH webhook endpoint":   ( 404,  404,  200,  404,  404,  404,  404,  404,  404,  401),
    "DELETE webhook endpoint":  ( 404,  404,  204,  404,  404,  404,  404,  404,  404,  401),
    "POST rotate-secret":       ( 404,  404,  200,  404,  404,  404,  404,  404,  404,  401),
    "GET webhook deliveries":   ( 404,  404,  200,  404,  404,  404,  404,  404,  404,  401),
    "POST redeliver":           ( 404,  404,  202,  404,  404,  404,  404,  404,  404,  401),
    "GET me/notifications":     ( 200,  200,  200,  200,  200,  200,  200,  200,  200,  401),
    "PATCH me/notifications":   ( 200,  200,  200,  200,  200,  200,  200,  200,  200,  401),
    "GET stats":                ( 403,  403,  403,  403,  403,  200,  200,  200,  403,  401),
    "GET shop policies":        ( 404,  404,  200,  200,  404,  200,  200,  200,  404,  401),
    "POST shop policy":         ( 404,  404,  201,  403,  404,  404,  404,  404,  404,  401),
    "GET shop api-keys":        ( 404,  404,  200,  403,  404,  404,  404,  404,  404,  401),
    "POST shop api-keys":       ( 404,  404,  201,  403,  404,  404,  404,  404,  404,  401),
    "POST shop api-key revoke": ( 404,  404,  200,  403,  404,  404,  404,  404,  404,  401),
}
# fmt: on

# Which of the cast's orders (and so which disputes) each role's lists show.
SEES_ORDER = {
    "buyer": {"order"},
    "other_buyer": {"other_order"},
    "owner": {"order"},
    "agent": {"order"},
    "other_member": {"other_order"},
    "mediator_agent": {"order", "other_order"},
    "mediator_senior": {"order", "other_order"},
    "mediator_lead": {"order", "other_order"},
    "platform": {"order", "other_order"},
}
SEES_DISPUTE = {role: "order" in seen for role, seen in SEES_ORDER.items()}

# Codes of the refusals (the statuses are in POLICY): by status, and where a 403 is
# about more than the role.
CODES = {401: "not_authenticated", 403: "forbidden", 404: "not_found"}
CODE_OF_CELL = {
    ("POST auth/token", "anonymous"): "invalid_credentials",
    ("POST auth/token", "platform"): "api_key_required",
    ("POST approve-ruling", "mediator_agent"): "four_eyes",  # the proposer
    ("POST reject-ruling", "mediator_agent"): "four_eyes",
    ("POST fulfil", "buyer"): "nothing_to_fulfil",
}


def expected(endpoint: str, role: str) -> int:
    return POLICY[endpoint][ROLES.index(role)]


# --- Contexts: a dispute in a state where the endpoint can succeed -----------------------------


@dataclass
class Ctx:
    sc: Scenario
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cast(self) -> Cast:
        return self.sc.cast

    def user(self, role: str) -> Any:
        if role == "anonymous":
            return None
        if role == "other_member":
            return self.cast.other_owner
        return self.cast[role]


def _thread() -> Ctx:
    """Under review by the agent mediator, with a public thread and an internal note."""
    sc = dispute_in("under_review", mediator="mediator_agent")
    conversation.post_message(dispute_id=sc.id, actor=sc["buyer"], body="It arrived crushed.")
    public = conversation.post_message(
        dispute_id=sc.id, actor=sc["mediator_lead"], body="We are looking into it."
    )
    conversation.post_message(
        dispute_id=sc.id, actor=sc["mediator_agent"], body=SECRET, internal=True
    )
    # An order of the buyer's with no dispute, to raise one on.
    fresh = sc.cast.new_order(total=5000, shipping=0)
    return Ctx(sc, {"message": public.pk, "fresh_order": fresh.pk})


def _evidence() -> Ctx:
    """Under review, with a photo of the buyer's and an internal file of a mediator's."""
    sc = dispute_in("under_review", mediator="mediator_agent")
    item = evidence.upload_evidence(
        dispute_id=sc.id, actor=sc["buyer"], uploaded_file=_png_upload(), kind="photo"
    )
    evidence.upload_evidence(
        dispute_id=sc.id,
        actor=sc["mediator_agent"],
        uploaded_file=SimpleUploadedFile("flags.txt", SECRET.encode()),
        internal=True,
    )
    return Ctx(sc, {"evidence": item.pk})


def _png_upload() -> SimpleUploadedFile:
    from tests.evidence.files import png

    return SimpleUploadedFile("photo.png", png(), content_type="image/png")


def _state(state: str, **options: Any) -> Callable[[], Ctx]:
    return lambda: Ctx(dispute_in(state, **options))


def _pending_offer() -> Ctx:
    sc = dispute_in("awaiting_seller", pending_offer=True)
    return Ctx(sc, {"offer": sc.latest_offer().pk})


def _closed() -> Ctx:
    return Ctx(dispute_in("closed", outcome="agreement"))


def _webhooks() -> Ctx:
    """The shop has a webhook endpoint with a delivery of each of the dispute's events."""
    from tests.webhooks.helpers import make_endpoint
    from webhooks.models import WebhookDelivery
    from workflows import relay

    sc = dispute_in("awaiting_seller")
    endpoint = make_endpoint(sc.cast.shop, "https://hooks.example.com/disputes")
    while relay.relay_pending().relayed:  # earlier contexts of the test may have left events
        pass
    delivery = WebhookDelivery.objects.filter(endpoint=endpoint).earliest("pk")
    return Ctx(sc, {"endpoint": endpoint.pk, "delivery": delivery.pk})


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # formatted with id, message, offer, evidence, endpoint, delivery
    context: Callable[[], Ctx]
    body: Callable[[Ctx, str], dict[str, Any]] = lambda ctx, role: {}
    multipart: bool = False


def _shop_key() -> Ctx:
    """A shop with one API key its owner made."""
    sc = dispute_in("awaiting_seller")
    api_key, _ = credentials.create_shop_key(
        actor=sc["owner"], shop_slug=sc.cast.shop.slug, data=credentials.KeyData(name="Sync")
    )
    return Ctx(sc, {"prefix": api_key.prefix})


def _token_body(ctx: Ctx, role: str) -> dict[str, Any]:
    if role == "anonymous":
        return {"username": "nobody-at-all", "password": PASSWORD}
    return {"username": ctx.user(role).username, "password": PASSWORD}


def _order_body(ctx: Ctx, role: str) -> dict[str, Any]:
    return {
        "external_id": f"SYNC-{role}",
        "buyer": ctx.cast.buyer.username,
        "shop": ctx.cast.shop.slug,
        "currency": "USD",
        "total": 4200,
        "shipping": 300,
        "placed_at": timezone.now().isoformat(),
        "items": [{"sku": "SKU-X", "title": "Paper crane", "quantity": 1, "unit_price": 4200}],
    }


def _raise_body(ctx: Ctx, role: str) -> dict[str, Any]:
    return {
        "order": ctx.extra["fresh_order"],
        "reason": "not_received",
        "requested_outcome": "full_refund",
        "description": "Never arrived.",
    }


def _fulfil_body(ctx: Ctx, role: str) -> dict[str, Any]:
    return {"kind": "refund", "amount": 25000, "reference": "re_authz"}


def _const(body: dict[str, Any]) -> Callable[[Ctx, str], dict[str, Any]]:
    return lambda ctx, role: body


D = "disputes/{id}/"
W = "webhook-endpoints/{endpoint}/"
ENDPOINTS: dict[str, Endpoint] = {
    "POST auth/token": Endpoint("POST", "auth/token/", _thread, _token_body),
    "GET orders": Endpoint("GET", "orders/", _thread),
    "POST orders": Endpoint("POST", "orders/", _thread, _order_body),
    "GET disputes": Endpoint("GET", "disputes/", _thread),
    "POST disputes": Endpoint("POST", "disputes/", _thread, _raise_body),
    "GET dispute": Endpoint("GET", D, _thread),
    "GET messages": Endpoint("GET", D + "messages/", _thread),
    "POST message": Endpoint("POST", D + "messages/", _thread, _const({"body": "Any news?"})),
    "POST internal note": Endpoint(
        "POST", D + "messages/", _thread, _const({"body": "Note to self", "internal": True})
    ),
    "POST report": Endpoint(
        "POST", D + "messages/{message}/report/", _thread, _const({"reason": "Threatening"})
    ),
    "GET timeline": Endpoint("GET", D + "timeline/", _thread),
    "GET audit": Endpoint("GET", D + "audit/", _thread),
    "GET feedback": Endpoint("GET", D + "feedback/", _thread),
    "POST feedback": Endpoint(
        "POST", D + "feedback/", _closed, _const({"rating": 4, "comment": "Fair."})
    ),
    "GET evidence": Endpoint("GET", D + "evidence/", _evidence),
    "POST evidence": Endpoint(
        "POST", D + "evidence/", _evidence, lambda ctx, role: {"file": _png_upload()}, True
    ),
    "GET evidence download": Endpoint("GET", D + "evidence/{evidence}/download/", _evidence),
    "POST evidence withdraw": Endpoint("POST", D + "evidence/{evidence}/withdraw/", _evidence),
    "GET case file": Endpoint("GET", D + "case-file/", _evidence),
    "POST approve-offer": Endpoint(
        "POST", D + "offers/{offer}/approve/", _pending_offer, _const({"note": "ok"})
    ),
    "POST reject-offer": Endpoint(
        "POST", D + "offers/{offer}/reject/", _pending_offer, _const({"note": "no"})
    ),
    "POST accept-request": Endpoint(
        "POST",
        D + "accept-request/",
        _state("awaiting_seller", requested_outcome="partial_refund", requested_amount=3000),
        _const({"note": "Of course"}),
    ),
    "POST offer": Endpoint(
        "POST",
        D + "offer/",
        _state("awaiting_seller"),
        _const({"kind": "partial_refund", "amount": 3000}),
    ),
    "POST contest": Endpoint(
        "POST", D + "contest/", _state("awaiting_seller"), _const({"statement": "It was fine."})
    ),
    "POST accept-offer": Endpoint("POST", D + "accept-offer/", _state("awaiting_buyer")),
    "POST counter": Endpoint(
        "POST",
        D + "counter/",
        _state("awaiting_buyer"),
        _const({"requested_outcome": "partial_refund", "requested_amount": 9000}),
    ),
    "POST escalate": Endpoint(
        "POST", D + "escalate/", _state("awaiting_buyer"), _const({"note": "Help"})
    ),
    "POST withdraw": Endpoint("POST", D + "withdraw/", _state("awaiting_seller")),
    "POST assign": Endpoint("POST", D + "assign/", _state("escalated")),
    "POST request-info": Endpoint(
        "POST",
        D + "request-info/",
        _state("under_review", mediator="mediator_agent"),
        _const({"party": "seller", "question": "Proof of postage?"}),
    ),
    "POST provide-info": Endpoint(
        "POST",
        D + "provide-info/",
        _state("awaiting_info", party="buyer"),
        _const({"answer": "Photo attached."}),
    ),
    "POST rule": Endpoint(
        "POST",
        D + "rule/",
        _state("under_review", mediator="mediator_agent"),
        _const({"kind": "partial_refund", "amount": 5000, "rationale": "Half damaged."}),
    ),
    "POST approve-ruling": Endpoint(
        "POST", D + "approve-ruling/", _state("pending_approval", proposer="mediator_agent")
    ),
    "POST reject-ruling": Endpoint(
        "POST", D + "reject-ruling/", _state("pending_approval", proposer="mediator_agent")
    ),
    "POST fulfil": Endpoint(
        "POST", D + "fulfil/", _state("awaiting_fulfilment", remedy="full_refund"), _fulfil_body
    ),
    "POST acknowledge-return": Endpoint(
        "POST",
        D + "acknowledge-return/",
        _state("awaiting_fulfilment", remedy="return_and_refund", stage="returned"),
    ),
    "POST confirm-received": Endpoint(
        "POST",
        D + "confirm-received/",
        _state("awaiting_fulfilment", remedy="replacement", stage="shipped"),
    ),
    "POST appeal": Endpoint(
        "POST",
        D + "appeal/",
        _state("closed", outcome="ruled_for_seller"),
        _const({"reason": "Please look again."}),
    ),
    "GET webhook endpoints": Endpoint("GET", "webhook-endpoints/", _webhooks),
    "POST webhook endpoints": Endpoint(
        "POST",
        "webhook-endpoints/",
        _webhooks,
        _const({"url": "https://hooks.example.com/new", "events": ["*"]}),
    ),
    "GET webhook endpoint": Endpoint("GET", W, _webhooks),
    "PATCH webhook endpoint": Endpoint("PATCH", W, _webhooks, _const({"active": False})),
    "DELETE webhook endpoint": Endpoint("DELETE", W, _webhooks),
    "POST rotate-secret": Endpoint("POST", W + "rotate-secret/", _webhooks),
    "GET webhook deliveries": Endpoint("GET", W + "deliveries/", _webhooks),
    "POST redeliver": Endpoint("POST", W + "deliveries/{delivery}/redeliver/", _webhooks),
    "GET me/notifications": Endpoint("GET", "me/notifications/", _state("awaiting_seller")),
    "PATCH me/notifications": Endpoint(
        "PATCH", "me/notifications/", _state("awaiting_seller"), _const({"reminders": False})
    ),
    "GET stats": Endpoint("GET", "stats/", _closed),
    "GET shop policies": Endpoint("GET", "shops/{shop}/policies/", _state("awaiting_seller")),
    "POST auth/logout": Endpoint("POST", "auth/logout/", _state("awaiting_seller")),
    "POST auth/logout-all": Endpoint("POST", "auth/logout-all/", _state("awaiting_seller")),
    "GET shop api-keys": Endpoint("GET", "shops/{shop}/api-keys/", _shop_key),
    "POST shop api-keys": Endpoint(
        "POST", "shops/{shop}/api-keys/", _state("awaiting_seller"), _const({"name": "Helpdesk"})
    ),
    "POST shop api-key revoke": Endpoint(
        "POST", "shops/{shop}/api-keys/{prefix}/revoke/", _shop_key
    ),
    "POST shop policy": Endpoint(
        "POST",
        "shops/{shop}/policies/",
        _state("awaiting_seller"),
        _const({"text": "Returns within 60 days, free of charge."}),
    ),
}


def call(endpoint: str, role: str, ctx: Ctx) -> Any:
    ep = ENDPOINTS[endpoint]
    path = "/api/v1/" + ep.path.format(
        id=ctx.sc.id,
        message=ctx.extra.get("message", 0),
        offer=ctx.extra.get("offer", 0),
        evidence=ctx.extra.get("evidence", 0),
        endpoint=ctx.extra.get("endpoint", 0),
        delivery=ctx.extra.get("delivery", 0),
        shop=ctx.cast.shop.slug,
        prefix=ctx.extra.get("prefix", "none"),
    )
    client = as_user(ctx.user(role))
    if ep.method == "GET":
        return client.get(path)
    if ep.method == "DELETE":
        return client.delete(path)
    if ep.method == "PATCH":
        return client.patch(path, ep.body(ctx, role), format="json")
    return client.post(path, ep.body(ctx, role), format="multipart" if ep.multipart else "json")


def _set_passwords(ctx: Ctx) -> None:
    for role in ROLES:
        user = ctx.user(role)
        if user is not None:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])


# A cheap hasher for the token endpoint's cells (PBKDF2 costs ~0.1 s per hash).
FAST_HASHER = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


def prepare(endpoint: str) -> Ctx:
    ctx = ENDPOINTS[endpoint].context()
    if endpoint == "POST auth/token":
        _set_passwords(ctx)
    return ctx


def is_success(status: int) -> bool:
    return 200 <= status < 300


# --- The cells ----------------------------------------------------------------------------------


def test_policy_table_covers_every_route() -> None:
    """Every route under /api/v1/ (api/urls.py and webhooks/urls.py, each method it
    answers) has a row, and every row a column per role."""
    from api import urls
    from webhooks import urls as webhook_urls

    assert all(len(row) == len(ROLES) for row in POLICY.values())
    routes = {str(p.pattern) for p in [*urls.urlpatterns, *webhook_urls.urlpatterns]}
    covered = {
        ENDPOINTS[e]
        .path.replace("{id}", "<int:dispute_id>")
        .replace("{message}", "<int:message_id>")
        .replace("{offer}", "<int:offer_id>")
        .replace("{evidence}", "<int:evidence_id>")
        .replace("{endpoint}", "<int:endpoint_id>")
        .replace("{delivery}", "<int:delivery_id>")
        .replace("{shop}", "<slug:slug>")
        .replace("{prefix}", "<str:prefix>")
        for e in POLICY
    }
    assert routes == covered
    assert set(POLICY) == set(ENDPOINTS)


@FAST_HASHER
@pytest.mark.parametrize(
    ("endpoint", "role"),
    [pytest.param(e, r, id=f"{e}-{r}") for e in POLICY for r in ROLES],
)
def test_cell(endpoint: str, role: str) -> None:
    ctx = prepare(endpoint)
    want = expected(endpoint, role)
    r = call(endpoint, role, ctx)
    body = r.json() if "json" in r.get("Content-Type", "") else {}
    if getattr(r, "streaming", False) and is_success(r.status_code):
        body = b"".join(r.streaming_content)
    assert r.status_code == want, body
    if not is_success(want):
        assert body["code"] == CODE_OF_CELL.get((endpoint, role), CODES.get(want)), body
    else:
        check_content(endpoint, role, ctx, body)


def check_content(endpoint: str, role: str, ctx: Ctx, body: Any) -> None:
    """What a successful answer may contain for this role."""
    mediator = role in MEDIATORS
    cast = ctx.cast
    if endpoint == "GET orders":
        ids = {o["id"] for o in body["results"]}
        for name in ("order", "other_order"):
            order = getattr(cast, name)
            assert (order.pk in ids) == (name in SEES_ORDER[role]), (role, name)
    elif endpoint == "GET disputes":
        ids = {d["id"] for d in body["results"]}
        assert (ctx.sc.id in ids) == SEES_DISPUTE[role]
    elif endpoint == "GET messages":
        bodies = [m["body"] for m in body["results"]]
        assert (SECRET in bodies) == mediator
        assert all(not m["internal"] for m in body["results"]) or mediator
        assert "We are looking into it." in bodies
    elif endpoint == "GET timeline":
        actions = [e["action"] for e in body["results"]]
        assert ("internal_note" in actions) == mediator
        assert SECRET not in str(body)  # a summary never quotes a note
    elif endpoint == "GET audit":
        assert body["verified"] is True and body["broken_at"] is None
        notes = [e for e in body["results"] if e["action"] == "internal_note"]
        assert len(notes) == 1
        assert (SECRET in str(body)) == mediator
        if not mediator:
            assert notes[0]["payload"] == {"redacted": True}
    elif endpoint == "GET evidence":
        assert [e["internal"] for e in body] == ([False, True] if mediator else [False])
    elif endpoint == "GET case file":
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            contents = b"".join(zf.read(name) for name in zf.namelist())
            manifest = json.loads(zf.read("manifest.json"))
        internal = [f["internal"] for f in manifest["files"] if "evidence" in f]
        assert internal == ([False, True] if mediator else [False])
        assert (SECRET.encode() in contents) == mediator  # the internal file's content
        assert manifest["audit_chain"]["verified"] is True
    elif endpoint == "GET dispute":
        assert body["id"] == ctx.sc.id
    elif endpoint == "GET webhook endpoints":
        # Only the shop's owners see its endpoints (and never the secret).
        ids = {e["id"] for e in body["results"]}
        assert (ctx.extra["endpoint"] in ids) == (role == "owner")
        assert all("secret" not in e for e in body["results"])
    elif endpoint in ("POST webhook endpoints", "POST rotate-secret"):
        assert body["secret"].startswith("whsec_")
    elif endpoint == "GET webhook deliveries":
        assert ctx.extra["delivery"] in {d["id"] for d in body["results"]}
    elif endpoint == "GET stats":
        assert body["totals"]["disputes"] >= 1
        assert body["totals"]["closed"] >= 1
    elif endpoint == "POST internal note":
        assert body["internal"] is True
        assert Message.objects.filter(dispute_id=ctx.sc.id, internal=True).count() == 2
    elif endpoint == "GET shop api-keys":
        assert [k["prefix"] for k in body] == [ctx.extra["prefix"]]
        assert all("key" not in k for k in body)
    elif endpoint == "POST shop api-keys":
        assert body["key"].startswith(body["prefix"] + ".") and body["role"] == "agent"
    elif endpoint == "POST shop api-key revoke":
        assert body["prefix"] == ctx.extra["prefix"] and body["revoked"] is True


def test_party_cannot_post_an_internal_note() -> None:
    ctx = prepare("POST internal note")
    for role in ("buyer", "owner", "agent"):
        r = call("POST internal note", role, ctx)
        assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert Message.objects.filter(dispute_id=ctx.sc.id, internal=True).count() == 1


def test_reporting_an_internal_note_is_not_found_for_parties() -> None:
    ctx = prepare("POST report")
    note = Message.objects.get(dispute_id=ctx.sc.id, internal=True)
    r = as_user(ctx.cast.buyer).post(
        f"/api/v1/disputes/{ctx.sc.id}/messages/{note.pk}/report/", {"reason": "?"}, format="json"
    )
    assert (r.status_code, r.json()["code"]) == (404, "not_found")


def test_invisible_dispute_is_404_under_every_path() -> None:
    """A member of another shop probes every path of a dispute, including ids that do not
    exist: the answers are the same, so existence does not leak."""
    ctx = prepare("GET dispute")
    outsider = ctx.cast.other_owner
    missing = Dispute.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    for endpoint, ep in ENDPOINTS.items():
        if "{id}" not in ep.path:
            continue
        for dispute_id in (ctx.sc.id, missing):
            path = "/api/v1/" + ep.path.format(id=dispute_id, message=1, offer=1, evidence=1)
            client = as_user(outsider)
            fmt = "multipart" if ep.multipart else "json"
            r = client.get(path) if ep.method == "GET" else client.post(path, {}, format=fmt)
            if ep.method == "POST" and r.status_code == 400:
                # The body is checked first; a valid one gets the same 404.
                r = client.post(path, ep.body(ctx, "buyer"), format=fmt)
            assert (r.status_code, r.json()["code"]) == (404, "not_found"), (endpoint, r.json())


def test_roles_come_from_data_not_from_the_request() -> None:
    """A deactivated mediator profile takes the role away; a deactivated user is not
    authenticated at all; a client-sent role field changes nothing."""
    ctx = prepare("GET dispute")
    path = f"/api/v1/disputes/{ctx.sc.id}/"
    mediator = ctx.cast.mediator_lead
    client = as_user(mediator)
    assert client.get(path).status_code == 200
    mediator.mediator_profile.active = False
    mediator.mediator_profile.save()
    client = as_user(mediator)
    assert (client.get(path).status_code, client.get(path).json()["code"]) == (404, "not_found")
    # A role sent by the client is no field of any body: refused, never read.
    r = client.post(path + "assign/", {"role": "mediator", "tier": "lead"}, format="json")
    assert (r.status_code, r.json()["code"]) == (400, "unknown_field")
    r = client.post(path + "assign/", {}, format="json")
    assert (r.status_code, r.json()["code"]) == (404, "not_found")

    buyer = ctx.cast.buyer
    buyer.is_active = False
    buyer.save(update_fields=["is_active"])
    r = as_user(buyer).get(path)
    assert (r.status_code, r.json()["code"]) == (401, "authentication_failed")


@FAST_HASHER
def test_no_unauthorized_success() -> None:
    """Walk the whole table (each cell in a savepoint over one context per endpoint) and
    count the successes the policy does not grant."""
    unauthorized = []
    mismatched = []
    for endpoint in POLICY:
        ctx = prepare(endpoint)
        for role in ROLES:
            with transaction.atomic():
                r = call(endpoint, role, ctx)
                transaction.set_rollback(True)
            want = expected(endpoint, role)
            if is_success(r.status_code) and not is_success(want):
                unauthorized.append((endpoint, role, r.status_code))
            if r.status_code != want:
                mismatched.append((endpoint, role, want, r.status_code))
    assert len(unauthorized) == 0, unauthorized
    assert mismatched == []


def test_the_platform_sees_what_it_pays_not_the_conversation() -> None:
    sc = dispute_in("awaiting_buyer")  # the owner offered, with a note to the buyer
    offer = sc.latest_offer()
    assert offer is not None
    Offer.objects.filter(pk=offer.pk).update(note="Between us: the courier lost it.")
    conversation.post_message(
        dispute_id=sc.id, actor=sc["buyer"], body="My address is 1 Private Lane."
    )
    platform = as_user(sc["platform"])
    r = platform.get(f"/api/v1/disputes/{sc.id}/messages/")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    body = platform.get(f"/api/v1/disputes/{sc.id}/").json()
    assert [(o["kind"], o["amount"], o["note"]) for o in body["offers"]] == [
        (offer.kind, offer.amount, "")
    ]
    assert body["state"] == "awaiting_buyer" and body["order"]["id"] == sc.dispute.order_id
    timeline = str(platform.get(f"/api/v1/disputes/{sc.id}/timeline/").json())
    assert "Private Lane" not in timeline and "courier" not in timeline
    # The parties read both.
    mine = as_user(sc["buyer"]).get(f"/api/v1/disputes/{sc.id}/").json()
    assert mine["offers"][0]["note"] == "Between us: the courier lost it."

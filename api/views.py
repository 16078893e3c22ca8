"""Thin views: parse, call a service, serialize. Rules live in the services."""

from __future__ import annotations

import ipaddress
from typing import Any, cast

from django.contrib.auth import authenticate, user_logged_in
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, BaseThrottle
from rest_framework.views import APIView

from api import serializers as s
from api.filters import DisputeFilter, OrderFilter
from api.idempotency import idempotent
from api.metrics import counted
from api.pagination import CURSOR_PARAMETERS, ChainPagination, CursorPage, ThreadPagination
from api.rest import IDEMPOTENCY_KEY, IF_MATCH, ApiSchema, valid
from api.uploads import EvidenceMultiPartParser, EvidenceUploadHandler, check_content_length
from mediation import audit
from mediation.actors import NOT_LOADED, is_integration, loaded_membership
from mediation.errors import Forbidden, NotAuthenticated, NotFound, VersionConflict
from mediation.models import ApiKey, Dispute, Evidence, Feedback
from mediation.selectors import (
    chain_of,
    dispute_detail_queryset,
    messages_for,
    orders_for,
    with_detail,
)
from mediation.services import ItemData, OrderData, check_may_sync_orders, upsert_order
from reports.timeline import timeline
from workflows import conversation, credentials, evidence, shop_policies, transitions, visibility
from workflows.actions import Action
from workflows.transitions import ACTIONS as REGISTRY
from workflows.transitions import OFFERED


def etag(dispute: Dispute) -> str:
    return f'"{dispute.pk}-{dispute.version}"'


def _none_match(header: str | None, tag: str) -> bool:
    """``If-None-Match`` (RFC 9110 §13.1.2): ``*`` or a list of tags, compared weakly (a
    proxy that compresses the body turns the tag into ``W/"..."``)."""
    if header is None:
        return False
    return header.strip() == "*" or any(
        t.strip().removeprefix("W/") == tag for t in header.split(",")
    )


def expected_version(request: Request, dispute_id: Any) -> int | None:
    """The version named by ``If-Match``, or None when the client did not send one."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    value = header.strip().removeprefix("W/").strip('"')
    prefix = f"{dispute_id}-"
    if not value.startswith(prefix) or not value[len(prefix) :].isdigit():
        raise VersionConflict("If-Match does not name a version of this dispute.")
    return int(value[len(prefix) :])


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


class TokenThrottle(AnonRateThrottle):
    scope = "anon"


def client_address(request: Request) -> str | None:
    """The caller's address as the request rates count it (``TRUSTED_PROXY_COUNT``)."""
    address = BaseThrottle().get_ident(request).strip()
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class TokenView(APIView):
    """Exchange a username and password for a new personal API token."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [TokenThrottle]

    @extend_schema(
        summary="Log in: a new personal token",
        request=s.LoginSerializer,
        responses={200: s.TokenSerializer},
        tags=["auth"],
        description=(
            "A new token on each login (stored as a digest: keep it, it is not shown again). "
            "After LOGIN_FAILURE_LIMIT failed logins for one account or from one address, "
            "logins are refused for LOGIN_LOCKOUT_MINUTES with 429 `too_many_attempts`. "
            "The platform's integration authenticates with an API key instead "
            "(403 `api_key_required`)."
        ),
    )
    def post(self, request: Request) -> Response:
        data = valid(s.LoginSerializer, request)
        # A locked-out account or address gets None here too; the lockout middleware then
        # answers 429 too_many_attempts (config.lockout) instead of the 401.
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            raise NotAuthenticated(
                "Unknown username or wrong password.", code="invalid_credentials"
            )
        if is_integration(user):
            raise Forbidden(
                "The platform's integration authenticates with an API key "
                "(Authorization: Bearer <key>), not a password.",
                code="api_key_required",
            )
        # Clears the lockout's count of failures and records the login time.
        user_logged_in.send(sender=type(user), request=request._request, user=user)
        token, key = credentials.issue_token(user)
        return Response({"token": key, "expires_at": token.expiry})


class LogoutView(APIView):
    @extend_schema(
        operation_id="logout",
        summary="Log out: revoke this token",
        request=None,
        responses={204: None},
        tags=["auth"],
        description="Revoke the personal token this request carries.",
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.auth, AuthToken):
            raise Forbidden(
                "Only a personal token logs out; an API key is revoked by the shop's owner.",
                code="not_a_token",
            )
        credentials.log_out(request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    @extend_schema(
        operation_id="logout_all",
        summary="Log out everywhere: revoke every token",
        request=None,
        responses={200: s.LogoutAllSerializer},
        tags=["auth"],
        description="Revoke every personal token of the caller (every device logged in).",
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, ApiKey):
            raise Forbidden(
                "An API key cannot log a person out: log in as that person.",
                code="personal_login_required",
            )
        revoked = credentials.log_out_everywhere(
            request.user, client_address=client_address(request)
        )
        return Response({"tokens_revoked": revoked})


def _key_data(api_key: ApiKey, members: dict[int, Any]) -> dict[str, Any]:
    member = members.get(api_key.user_id)
    return {
        "prefix": api_key.prefix,
        "name": api_key.name,
        "role": member.role if member else "",
        "offer_limit": member.offer_limit if member else 0,
        "offer_limit_currency": member.offer_limit_currency if member else "",
        "created_at": api_key.created,
        "created_by": api_key.created_by.get_username() if api_key.created_by else None,
        "last_used_at": api_key.last_used_at,
        "revoked": api_key.revoked,
        "revoked_at": api_key.revoked_at,
    }


class ShopApiKeyListView(APIView):
    @extend_schema(
        summary="List the shop's API keys",
        responses={200: s.ApiKeySerializer(many=True)},
        tags=["shops"],
        description="The shop's API keys, newest first (its owners only; never the keys).",
    )
    def get(self, request: Request, slug: str) -> Response:
        keys = list(credentials.shop_keys(actor=request.user, shop_slug=slug))
        members = credentials.key_membership(keys)
        return Response([_key_data(k, members) for k in keys])

    @extend_schema(
        summary="Create an API key for the shop",
        request=s.ApiKeyInputSerializer,
        responses={201: s.ApiKeyCreatedSerializer},
        tags=["shops"],
        description=(
            "An owner creates a named key for the shop's integration, acting as an agent "
            "(within `offer_limit`) or an owner. The key is in this answer only: it is "
            "stored as a digest. Not idempotent (a replay would have to store the key): a "
            "retry creates another key, and the unused one is revoked."
        ),
    )
    def post(self, request: Request, slug: str) -> Response:
        data = valid(s.ApiKeyInputSerializer, request)
        api_key, key = credentials.create_shop_key(
            actor=request.user,
            shop_slug=slug,
            data=credentials.KeyData(**data),
            client_address=client_address(request),
        )
        body = _key_data(api_key, credentials.key_membership([api_key]))
        return Response({**body, "key": key}, status=status.HTTP_201_CREATED)


class ShopApiKeyRevokeView(APIView):
    @extend_schema(
        summary="Revoke a shop API key",
        request=None,
        responses={200: s.ApiKeySerializer},
        tags=["shops"],
        description="Revoke one of the shop's keys for good; it is refused from then on.",
    )
    def post(self, request: Request, slug: str, prefix: str) -> Response:
        api_key = credentials.revoke_shop_key(
            actor=request.user,
            shop_slug=slug,
            prefix=prefix,
            client_address=client_address(request),
        )
        return Response(_key_data(api_key, credentials.key_membership([api_key])))


# --- Shops ------------------------------------------------------------------------------------


class ShopPolicyListView(APIView):
    @extend_schema(
        summary="List the shop's policy versions",
        responses={200: s.ShopPolicySerializer(many=True)},
        tags=["shops"],
        description="The shop's policy versions, newest first (its members and the mediators).",
    )
    def get(self, request: Request, slug: str) -> Response:
        policies = shop_policies.policies_for(request.user, slug)
        return Response(s.ShopPolicySerializer(policies, many=True).data)

    @extend_schema(
        summary="Publish a new policy version",
        request=s.ShopPolicyInputSerializer,
        responses={201: s.ShopPolicySerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["shops"],
        description=(
            "A shop owner publishes the next version of the policy. Published versions never "
            "change: disputes keep the version in force when their order was placed."
        ),
    )
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        data = valid(s.ShopPolicyInputSerializer, request)
        policy = shop_policies.publish_policy(
            actor=request.user,
            shop_slug=slug,
            text=data["text"],
            effective_from=data.get("effective_from"),
        )
        return Response(s.ShopPolicySerializer(policy).data, status=status.HTTP_201_CREATED)


# --- Orders -----------------------------------------------------------------------------------


class OrderPagination(CursorPage):
    ordering = "-id"


class OrderListView(generics.ListAPIView):
    serializer_class = s.OrderSerializer
    pagination_class = OrderPagination
    filterset_class = OrderFilter

    def get_queryset(self) -> Any:
        return orders_for(self.request.user).prefetch_related("items")

    @extend_schema(
        summary="List orders", responses={200: s.OrderSerializer(many=True)}, tags=["orders"]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create or update an order",
        request=s.OrderUpsertSerializer,
        responses={200: s.OrderSerializer, 201: s.OrderSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["orders"],
        description="Create or update an order by its external_id (platform integration only).",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        check_may_sync_orders(request.user)
        data = valid(s.OrderUpsertSerializer, request)
        items = tuple(ItemData(**item) for item in data.pop("items"))
        order, created = upsert_order(actor=request.user, data=OrderData(items=items, **data))
        order = orders_for(request.user).prefetch_related("items").get(pk=order.pk)
        return Response(
            s.OrderSerializer(order).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


# --- Disputes ---------------------------------------------------------------------------------


class DisputePagination(CursorPage):
    ordering = "-id"


def visible_dispute(request: Request, dispute_id: Any) -> Dispute:
    """The dispute as the caller may see it (404 otherwise), with its offers and rulings."""
    try:
        dispute = dispute_detail_queryset(request.user, by_id=True).get(pk=int(dispute_id))
    except (Dispute.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such dispute.") from None
    return dispute


def _dispute_response(request: Request, dispute: Dispute, code: int = 200) -> Response:
    # The row a use case just locked (as the caller) and saved is fresh: only its offers
    # and rulings are read again. Anything else is read as the caller may see it.
    fresh = loaded_membership(dispute, request.user) is not NOT_LOADED
    dispute = with_detail(dispute) if fresh else visible_dispute(request, dispute.pk)
    data = s.DisputeSerializer(dispute, context={"request": request}).data
    return Response(data, status=code, headers={"ETag": etag(dispute)})


class DisputeListView(generics.ListAPIView):
    serializer_class = s.DisputeSerializer
    pagination_class = DisputePagination
    filterset_class = DisputeFilter

    def get_queryset(self) -> Any:
        return dispute_detail_queryset(self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset) or []
        data = self.get_serializer(page, many=True).data
        return self.get_paginated_response(data)

    @extend_schema(
        summary="List disputes", responses={200: s.DisputeSerializer(many=True)}, tags=["disputes"]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Raise a dispute",
        request=s.DisputeCreateSerializer,
        responses={201: s.DisputeSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["disputes"],
        description="The buyer raises a dispute on one of their orders.",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = valid(s.DisputeCreateSerializer, request)
        result = transitions.raise_dispute(
            actor=request.user,
            order_id=data["order"],
            reason=data["reason"],
            requested_outcome=data["requested_outcome"],
            requested_amount=data["requested_amount"],
            description=data["description"],
            item_ids=data["items"],
        )
        response = _dispute_response(request, result.dispute, status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/disputes/{result.dispute.pk}/"
        return response


class DisputeDetailView(APIView):
    @extend_schema(
        summary="Get a dispute", responses={200: s.DisputeSerializer, 304: None}, tags=["disputes"]
    )
    def get(self, request: Request, dispute_id: int) -> Response:
        dispute = visible_dispute(request, dispute_id)
        tag = etag(dispute)
        if _none_match(request.headers.get("If-None-Match"), tag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
        context = {"request": request, "with_history": True}
        data = s.DisputeSerializer(dispute, context=context).data
        return Response(data, headers={"ETag": tag})


# POST /disputes/{id}/offer/ makes an offer and .../counter/ counters one: as operation ids
# (the generated client's function names), ``offer`` and ``counter`` would read as things.
ACTION_OPERATION_IDS = {"offer": "make_offer", "counter": "counter_offer"}


class ActionSchema(ApiSchema):
    """The OpenAPI operation of one action, read from its registry entry."""

    @property
    def lifecycle_action(self) -> Action:
        return cast(DisputeActionView, self.view).action_spec

    def get_operation_id(self) -> str:
        """The action's slug, as in its path (``accept_offer``, ``escalate``), but for the
        slugs that are nouns too."""
        slug = self.lifecycle_action.slug
        return ACTION_OPERATION_IDS.get(slug, slug.replace("-", "_"))

    def get_description(self) -> str:  # type: ignore[override]  # drf-spectacular's signature
        return self.lifecycle_action.description

    def get_summary(self) -> str:
        return self.lifecycle_action.summary

    def get_tags(self) -> list[str]:
        return ["dispute actions"]

    def get_request_serializer(self) -> Any:
        return s.INPUTS[self.lifecycle_action.slug]

    def get_response_serializers(self) -> Any:
        return {200: s.DisputeSerializer, 202: s.DisputeSerializer}

    def get_override_parameters(self) -> list[Any]:
        return [IF_MATCH, IDEMPOTENCY_KEY]


class DisputeActionView(APIView):
    """``POST /disputes/{id}/<slug>/``: one action of the registry (``workflows.actions``),
    given by ``as_view(lifecycle_action=...)``. The body is the action's input serializer
    (``serializers.INPUTS``), whose fields are its service's keyword arguments; 202 when the
    action waits for an approval."""

    lifecycle_action: Action | None = None
    schema = ActionSchema()

    @property
    def action_spec(self) -> Action:
        if self.lifecycle_action is None:  # pragma: no cover - urls always give one
            raise ImproperlyConfigured("DisputeActionView.as_view(lifecycle_action=...)")
        return self.lifecycle_action

    @idempotent
    def post(self, request: Request, dispute_id: int) -> Response:
        action = self.action_spec
        with counted(action.slug) as done:
            body = valid(s.INPUTS[action.slug], request)
            result = action.service(
                dispute_id=dispute_id,
                actor=request.user,
                expected_version=expected_version(request, dispute_id),
                **body,
            )
            done(result)
        code = status.HTTP_202_ACCEPTED if result.waiting_for_approval else status.HTTP_200_OK
        return _dispute_response(request, result.dispute, code)


# The actions routed as POST /disputes/{id}/<slug>/ (the registry's offered actions).
ACTIONS = OFFERED
# The owner's decisions on an agent's offer: POST /disputes/{id}/offers/{offer}/<verb>/.
OFFER_DECISIONS = {"approve": REGISTRY["approve-offer"], "reject": REGISTRY["reject-offer"]}


class OfferActionSchema(ActionSchema):
    def get_operation_id(self) -> str:
        return ApiSchema.get_operation_id(self)  # from the path: approve_offer, reject_offer


class OfferDecisionView(DisputeActionView):
    """``POST /disputes/{id}/offers/{offer}/approve/`` or ``.../reject/``: the shop owner
    decides on an agent's offer above the agent's limit (``as_view(lifecycle_action=...)``)."""

    schema = OfferActionSchema()

    @idempotent
    def post(self, request: Request, dispute_id: int, offer_id: int) -> Response:  # type: ignore[override]
        action = self.action_spec
        with counted(action.slug) as done:
            body = valid(s.INPUTS[action.slug], request)
            result = action.service(
                dispute_id=dispute_id,
                offer_id=offer_id,
                actor=request.user,
                expected_version=expected_version(request, dispute_id),
                **body,
            )
            done(result)
        return _dispute_response(request, result.dispute)


# --- Thread, timeline, audit, feedback ----------------------------------------------------------


class MessageListView(APIView):
    pagination_class = ThreadPagination

    @extend_schema(
        summary="List the thread's messages",
        responses={200: s.MessageSerializer(many=True)},
        tags=["thread"],
        description=(
            "The thread, oldest first, a page at a time: `results`, and `next` and `previous` "
            "links (null at either end); `page_size` 50 by default, at most 100."
        ),
    )
    def get(self, request: Request, dispute_id: int) -> Response:
        dispute = visible_dispute(request, dispute_id)
        # The platform's integration pays refunds; the conversation is the parties' own.
        visibility.party_or_mediator(dispute, request.user, what="The thread")
        messages = messages_for(dispute, include_internal=visibility.sees_internal(request.user))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(messages, request, view=self) or []
        return paginator.get_paginated_response(s.MessageSerializer(page, many=True).data)

    @extend_schema(
        summary="Post a message",
        request=s.MessageInputSerializer,
        responses={201: s.MessageSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["thread"],
    )
    @idempotent
    def post(self, request: Request, dispute_id: int) -> Response:
        body = valid(s.MessageInputSerializer, request)
        message = conversation.post_message(
            dispute_id=dispute_id, actor=request.user, body=body["body"], internal=body["internal"]
        )
        return Response(s.MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class MessageReportView(APIView):
    @extend_schema(
        summary="Report a message",
        request=s.ReportSerializer,
        responses={200: s.MessageSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["thread"],
        description="A party reports an abusive or threatening message to the mediators.",
    )
    @idempotent
    def post(self, request: Request, dispute_id: int, message_id: int) -> Response:
        body = valid(s.ReportSerializer, request)
        message = conversation.report_message(
            dispute_id=dispute_id, message_id=message_id, actor=request.user, reason=body["reason"]
        )
        return Response(s.MessageSerializer(message).data)


class TimelineView(APIView):
    pagination_class = ChainPagination

    @extend_schema(
        summary="The dispute's timeline",
        responses={200: s.TimelineEventSerializer(many=True)},
        tags=["audit"],
        description=(
            "The dispute's steps in words, in order, a page at a time (`results`, `next`, "
            "`previous`; `page_size` 50 by default, at most 100)."
        ),
    )
    def get(self, request: Request, dispute_id: int) -> Response:
        dispute = visible_dispute(request, dispute_id)
        viewer = visibility.viewer_of(dispute, request.user)
        paginator = self.pagination_class()
        entries = chain_of(dispute, include_internal=viewer.staff)
        page = paginator.paginate_queryset(entries, request, view=self) or []
        events = timeline(dispute, include_internal=viewer.staff, party=viewer.party, entries=page)
        return paginator.get_paginated_response(s.TimelineEventSerializer(events, many=True).data)


class AuditView(APIView):
    @extend_schema(
        summary="The dispute's audit entries",
        responses={200: s.AuditPageSerializer},
        parameters=CURSOR_PARAMETERS,
        tags=["audit"],
        description=(
            "The audit entries with their hashes, in order, a page at a time (`results`, "
            "`next`, `previous`; `page_size` 50 by default, at most 100). `verified` checks "
            "the page: every entry's hash, each link to the entry before it (the page's first "
            "entry to the last of the page before), and on the last page the head recorded on "
            "the dispute; following every page checks the whole chain."
        ),
    )
    def get(self, request: Request, dispute_id: int) -> Response:
        dispute = visible_dispute(request, dispute_id)
        viewer = visibility.party_or_mediator(dispute, request.user, what="The audit log")
        paginator = ChainPagination()
        entries = paginator.paginate_queryset(chain_of(dispute), request, view=self) or []
        first, last = not paginator.has_previous, not paginator.has_next
        result = audit.verify_page(dispute, entries, first=first, last=last)
        if not result.verified and last:
            # An action may have been recorded between reading the dispute and its entries:
            # read the head once more before calling the chain broken (as the case file).
            head = Dispute.objects.only("id", "audit_seq", "audit_head").get(pk=dispute.pk)
            result = audit.verify_page(head, entries, first=first, last=last)
        data = s.AuditEntrySerializer(entries, many=True).data
        for row, entry in zip(data, entries, strict=True):
            row["payload"] = visibility.audit_payload(entry, staff=viewer.staff)
        return Response(
            {
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": data,
                "verified": result.verified,
                "broken_at": result.broken_at,
                "problem": result.problem,
            }
        )


class FeedbackView(APIView):
    @extend_schema(
        summary="List the feedback",
        responses={200: s.FeedbackSerializer(many=True)},
        tags=["feedback"],
    )
    def get(self, request: Request, dispute_id: int) -> Response:
        dispute = visible_dispute(request, dispute_id)
        items = Feedback.objects.filter(dispute=dispute).select_related("author")
        return Response(s.FeedbackSerializer(items, many=True).data)

    @extend_schema(
        summary="Rate how the dispute was handled",
        request=s.FeedbackInputSerializer,
        responses={201: s.FeedbackSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["feedback"],
        description="Each party rates how the closed dispute was handled, once.",
    )
    @idempotent
    def post(self, request: Request, dispute_id: int) -> Response:
        body = valid(s.FeedbackInputSerializer, request)
        feedback = conversation.leave_feedback(
            dispute_id=dispute_id,
            actor=request.user,
            rating=body["rating"],
            comment=body["comment"],
            reason=body["reason"],
        )
        return Response(s.FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)


# --- Evidence ------------------------------------------------------------------------------------


def _evidence_viewer(request: Request, dispute: Dispute) -> tuple[bool, str | None]:
    """(mediator?, party) for the caller; anyone else may not read the evidence."""
    viewer = visibility.party_or_mediator(dispute, request.user, what="Evidence")
    return viewer.staff, viewer.party


def _visible_item(request: Request, dispute_id: Any, evidence_id: Any) -> Evidence:
    dispute = visible_dispute(request, dispute_id)
    staff, party = _evidence_viewer(request, dispute)
    try:
        return evidence.visible_evidence(dispute, staff=staff, party=party).get(pk=int(evidence_id))
    except (Evidence.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such evidence on this dispute.") from None


class EvidenceListView(APIView):
    parser_classes = [EvidenceMultiPartParser]

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before anything parses the body: stream files to disk, hashing and size-checking
        # each chunk (the default handlers would keep small files in memory, unchecked).
        if request.method == "POST":
            request.upload_handlers = [EvidenceUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        summary="List the evidence",
        responses={200: s.EvidenceSerializer(many=True)},
        tags=["evidence"],
    )
    def get(self, request: Request, dispute_id: int) -> Response:
        dispute = visible_dispute(request, dispute_id)
        staff, party = _evidence_viewer(request, dispute)
        items = evidence.visible_evidence(dispute, staff=staff, party=party)
        return Response(s.EvidenceSerializer(items, many=True).data)

    @extend_schema(
        summary="Upload evidence",
        request={"multipart/form-data": s.EvidenceUploadSerializer},
        responses={
            201: s.EvidenceSerializer,
        },
        tags=["evidence"],
        description=(
            "A party (while the dispute is open) or a mediator uploads a file. Typed by content: "
            "JPEG, PNG, GIF, WebP, HEIC, PDF or UTF-8 text; a file carrying an archive anywhere "
            "in it, or an image whose header cannot be read, is refused too (415 "
            "unsupported_file_type). At most EVIDENCE_MAX_FILE_MB a file (413 file_too_large); "
            "images at most EVIDENCE_MAX_IMAGE_PIXELS pixels and EVIDENCE_MAX_IMAGE_SIDE a side "
            "by their header (422 image_too_large, with width, height, max_pixels, max_side); "
            "EVIDENCE_MAX_FILES files and EVIDENCE_MAX_TOTAL_MB per party per dispute (422 "
            "evidence_quota_exceeded)."
        ),
    )
    def post(self, request: Request, dispute_id: int) -> Response:
        visible_dispute(request, dispute_id)  # outsiders get 404 before the body is read
        check_content_length(request.META)
        self.stored: str | None = None
        try:
            return self._upload(request, dispute_id)
        except BaseException:
            # The upload was stored but its transaction did not commit (for example the
            # Idempotency-Key record could not be written): nothing may stay behind.
            if self.stored is not None:
                default_storage.delete(self.stored)
            raise

    @idempotent
    def _upload(self, request: Request, dispute_id: int) -> Response:
        fields = valid(s.EvidenceFieldsSerializer, request, also=("file",))
        item = evidence.upload_evidence(
            dispute_id=dispute_id,
            actor=request.user,
            uploaded_file=request.FILES.get("file"),
            description=fields.get("description", ""),
            kind=fields["kind"],
            internal=fields["internal"],
        )
        self.stored = item.file.name
        return Response(s.EvidenceSerializer(item).data, status=status.HTTP_201_CREATED)


# The types an evidence file is stored with (the upload types it by its content).
EVIDENCE_TYPES = tuple(sorted(evidence.ALLOWED))


class EvidenceDownloadView(APIView):
    @extend_schema(
        operation_id="download_evidence",
        summary="Download an evidence file",
        responses={(200, *EVIDENCE_TYPES): OpenApiTypes.BINARY},
        tags=["evidence"],
        description="The file as an attachment, with its stored content type and `nosniff`.",
    )
    def get(self, request: Request, dispute_id: int, evidence_id: int) -> FileResponse:
        item = _visible_item(request, dispute_id, evidence_id)
        try:
            handle = item.file.open("rb")
        except FileNotFoundError:
            raise NotFound("The file is missing from storage.") from None
        response = FileResponse(
            handle, as_attachment=True, filename=item.file_name, content_type=item.content_type
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-store"
        return response


class EvidenceWithdrawView(APIView):
    @extend_schema(
        summary="Withdraw evidence",
        request=None,
        responses={200: s.EvidenceSerializer},
        tags=["evidence"],
        description="The uploader withdraws their item; mediators still see it, marked withdrawn.",
    )
    def post(self, request: Request, dispute_id: int, evidence_id: int) -> Response:
        item = evidence.withdraw_evidence(
            dispute_id=dispute_id, evidence_id=evidence_id, actor=request.user
        )
        return Response(s.EvidenceSerializer(item).data)


__all__ = ["ACTIONS", "DisputeActionView"]

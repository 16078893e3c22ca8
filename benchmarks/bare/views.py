"""Three endpoints doing what a bare DRF service would do for the product's three
workloads, and nothing more: token auth, a serializer, the writes in one transaction.

* ``POST /bare/disputes/<id>/offer/``: one UPDATE of the dispute row (``version`` + 1) and
  one INSERT (a row in the thread, standing for the audit entry), in one transaction.
* ``POST /bare/disputes/<id>/messages/``: one INSERT.
* ``GET /bare/disputes/<id>/``: one SELECT of the row, through a ModelSerializer.

No roles, guards, state machine, audit chain, outbox, idempotency or throttles: the
difference with the product's endpoints is the product's own work.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from knox.auth import TokenAuthentication
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from benchmarks.bare.models import Dispute, Message


class DisputeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dispute
        fields = ["id", "state", "version", "requested_outcome", "requested_amount", "updated_at"]


class OfferSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=30)
    amount = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class MessageSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20_000)


class BareView(APIView):
    """knox's token auth (the product's), authenticated users only, no throttles (whatever
    the settings it runs under say)."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes: list[Any] = []


def _message(dispute_id: int, user: Any, role: str, body: str) -> Message:
    return Message.objects.create(
        dispute_id=dispute_id,
        author_id=user.pk,
        author_role=role,
        body=body,
        created_at=timezone.now(),
    )


class OfferView(BareView):
    def post(self, request: Request, dispute_id: int) -> Response:
        body = OfferSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            updated = Dispute.objects.filter(pk=dispute_id).update(
                version=F("version") + 1, updated_at=timezone.now()
            )
            if not updated:
                raise NotFound("No such dispute.")
            row = _message(
                dispute_id, request.user, "seller", f"offer {body.validated_data['kind']}"
            )
        return Response({"dispute": dispute_id, "entry": row.pk})


class MessageView(BareView):
    def post(self, request: Request, dispute_id: int) -> Response:
        body = MessageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = _message(dispute_id, request.user, "buyer", body.validated_data["body"])
        return Response(
            {"id": row.pk, "body": row.body, "created_at": row.created_at},
            status=status.HTTP_201_CREATED,
        )


class DetailView(BareView):
    def get(self, request: Request, dispute_id: int) -> Response:
        try:
            dispute = Dispute.objects.get(pk=dispute_id)
        except Dispute.DoesNotExist:
            raise NotFound("No such dispute.") from None
        return Response(DisputeSerializer(dispute).data)

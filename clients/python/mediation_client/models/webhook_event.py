from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_event_type import WebhookEventType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.dispute import Dispute
    from ..models.refund_due import RefundDue


T = TypeVar("T", bound="WebhookEvent")


@_attrs_define
class WebhookEvent:
    """
    Attributes:
        id (UUID): The event's id: the same on every retry and redelivery, so dedupe on it.
        type_ (WebhookEventType): * `dispute.appealed` - dispute.appealed
            * `dispute.assigned` - dispute.assigned
            * `dispute.closed` - dispute.closed
            * `dispute.contested` - dispute.contested
            * `dispute.countered` - dispute.countered
            * `dispute.deadline_passed` - dispute.deadline_passed
            * `dispute.escalated` - dispute.escalated
            * `dispute.escalation_requested` - dispute.escalation_requested
            * `dispute.evidence_added` - dispute.evidence_added
            * `dispute.evidence_withdrawn` - dispute.evidence_withdrawn
            * `dispute.feedback_given` - dispute.feedback_given
            * `dispute.feedback_requested` - dispute.feedback_requested
            * `dispute.fulfilment_recorded` - dispute.fulfilment_recorded
            * `dispute.info_provided` - dispute.info_provided
            * `dispute.info_requested` - dispute.info_requested
            * `dispute.message_posted` - dispute.message_posted
            * `dispute.message_reported` - dispute.message_reported
            * `dispute.offer_accepted` - dispute.offer_accepted
            * `dispute.offer_made` - dispute.offer_made
            * `dispute.offer_pending_approval` - dispute.offer_pending_approval
            * `dispute.offer_rejected` - dispute.offer_rejected
            * `dispute.overdue` - dispute.overdue
            * `dispute.raised` - dispute.raised
            * `dispute.receipt_confirmed` - dispute.receipt_confirmed
            * `dispute.refund_due` - dispute.refund_due
            * `dispute.reminder` - dispute.reminder
            * `dispute.request_accepted` - dispute.request_accepted
            * `dispute.return_acknowledged` - dispute.return_acknowledged
            * `dispute.ruled` - dispute.ruled
            * `dispute.ruling_proposed` - dispute.ruling_proposed
            * `dispute.ruling_rejected` - dispute.ruling_rejected
            * `dispute.withdrawn` - dispute.withdrawn
        created_at (datetime.datetime): When the step happened
        data (Dispute): An output of model rows, every field read-only, whose schema still says what the
            model column allows: a blank choice (``"outcome": ""`` while open) and a null (``assigned_to``
            before anyone holds the case). DRF drops both from read-only fields.
        refund (RefundDue | Unset):
    """

    id: UUID
    type_: WebhookEventType
    created_at: datetime.datetime
    data: Dispute
    refund: RefundDue | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        type_ = self.type_.value

        created_at = self.created_at.isoformat()

        data = self.data.to_dict()

        refund: dict[str, Any] | Unset = UNSET
        if not isinstance(self.refund, Unset):
            refund = self.refund.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "type": type_,
                "created_at": created_at,
                "data": data,
            }
        )
        if refund is not UNSET:
            field_dict["refund"] = refund

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.dispute import Dispute  # noqa: PLC0415
        from ..models.refund_due import RefundDue  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        type_ = WebhookEventType(d.pop("type"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        data = Dispute.from_dict(d.pop("data"))

        _refund = d.pop("refund", UNSET)
        refund: RefundDue | Unset
        if isinstance(_refund, Unset):
            refund = UNSET
        else:
            refund = RefundDue.from_dict(_refund)

        webhook_event = cls(
            id=id,
            type_=type_,
            created_at=created_at,
            data=data,
            refund=refund,
        )

        webhook_event.additional_properties = d
        return webhook_event

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties

"""Contains all the data models used in inputs/outputs"""

from .accept_offer_request import AcceptOfferRequest
from .acknowledge_return_request import AcknowledgeReturnRequest
from .agreement import Agreement
from .allowed_actions_enum import AllowedActionsEnum
from .api_key import ApiKey
from .api_key_created import ApiKeyCreated
from .api_key_input_request import ApiKeyInputRequest
from .appeal_request import AppealRequest
from .assign_request import AssignRequest
from .audit_entry import AuditEntry
from .audit_page import AuditPage
from .blank_enum import BlankEnum
from .contest_request import ContestRequest
from .counter_request import CounterRequest
from .currency_enum import CurrencyEnum
from .dispute import Dispute
from .dispute_create_request import DisputeCreateRequest
from .escalate_request import EscalateRequest
from .escalation_reason_enum import EscalationReasonEnum
from .events_enum import EventsEnum
from .evidence import Evidence
from .evidence_kind_enum import EvidenceKindEnum
from .evidence_upload_request import EvidenceUploadRequest
from .feedback import Feedback
from .feedback_breakdown import FeedbackBreakdown
from .feedback_input_request import FeedbackInputRequest
from .feedback_reason_enum import FeedbackReasonEnum
from .feedback_score import FeedbackScore
from .fulfil_request import FulfilRequest
from .fulfilment_kind_enum import FulfilmentKindEnum
from .funder_enum import FunderEnum
from .list_deliveries_status import ListDeliveriesStatus
from .list_disputes_reason_item import ListDisputesReasonItem
from .list_disputes_state_item import ListDisputesStateItem
from .login_request import LoginRequest
from .logout_all import LogoutAll
from .mediator_rating import MediatorRating
from .message import Message
from .message_input_request import MessageInputRequest
from .note_request import NoteRequest
from .notification_preference import NotificationPreference
from .offer import Offer
from .offer_input_request import OfferInputRequest
from .offer_status_enum import OfferStatusEnum
from .order import Order
from .order_item import OrderItem
from .order_item_input_request import OrderItemInputRequest
from .order_summary import OrderSummary
from .order_upsert_request import OrderUpsertRequest
from .outcome_count import OutcomeCount
from .outcome_enum import OutcomeEnum
from .outcome_rating import OutcomeRating
from .paginated_dispute_list import PaginatedDisputeList
from .paginated_message_list import PaginatedMessageList
from .paginated_order_list import PaginatedOrderList
from .paginated_timeline_event_list import PaginatedTimelineEventList
from .paginated_webhook_delivery_list import PaginatedWebhookDeliveryList
from .paginated_webhook_endpoint_list import PaginatedWebhookEndpointList
from .party_enum import PartyEnum
from .party_escalation_reason_enum import PartyEscalationReasonEnum
from .party_history import PartyHistory
from .party_history_thresholds import PartyHistoryThresholds
from .party_history_thresholds_additional_property import PartyHistoryThresholdsAdditionalProperty
from .party_rates import PartyRates
from .party_remedy_enum import PartyRemedyEnum
from .patched_notification_preference_request import PatchedNotificationPreferenceRequest
from .patched_webhook_endpoint_update_request import PatchedWebhookEndpointUpdateRequest
from .policy_ref import PolicyRef
from .problem import Problem
from .problem_errors import ProblemErrors
from .provide_info_request import ProvideInfoRequest
from .reason_count import ReasonCount
from .reason_enum import ReasonEnum
from .reason_rating import ReasonRating
from .refund import Refund
from .refund_due import RefundDue
from .refund_due_currency import RefundDueCurrency
from .refund_due_funded_by import RefundDueFundedBy
from .refund_due_kind import RefundDueKind
from .remedy_enum import RemedyEnum
from .report_request import ReportRequest
from .request_info_request import RequestInfoRequest
from .resolution import Resolution
from .return_result_enum import ReturnResultEnum
from .rotate_secret_request import RotateSecretRequest
from .rule_request import RuleRequest
from .ruling import Ruling
from .ruling_status_enum import RulingStatusEnum
from .shop_policy import ShopPolicy
from .shop_policy_input_request import ShopPolicyInputRequest
from .shop_rate import ShopRate
from .shop_rating import ShopRating
from .shop_ref import ShopRef
from .shop_role_enum import ShopRoleEnum
from .sla import Sla
from .state_count import StateCount
from .state_enum import StateEnum
from .stats import Stats
from .tier_enum import TierEnum
from .timeline_event import TimelineEvent
from .token import Token
from .totals import Totals
from .visibility_enum import VisibilityEnum
from .webhook_attempt import WebhookAttempt
from .webhook_delivery import WebhookDelivery
from .webhook_delivery_status_enum import WebhookDeliveryStatusEnum
from .webhook_endpoint import WebhookEndpoint
from .webhook_endpoint_create_request import WebhookEndpointCreateRequest
from .webhook_endpoint_with_secret import WebhookEndpointWithSecret
from .webhook_event import WebhookEvent
from .webhook_event_type import WebhookEventType
from .week_count import WeekCount
from .window import Window
from .without_platform import WithoutPlatform

__all__ = (
    "AcceptOfferRequest",
    "AcknowledgeReturnRequest",
    "Agreement",
    "AllowedActionsEnum",
    "ApiKey",
    "ApiKeyCreated",
    "ApiKeyInputRequest",
    "AppealRequest",
    "AssignRequest",
    "AuditEntry",
    "AuditPage",
    "BlankEnum",
    "ContestRequest",
    "CounterRequest",
    "CurrencyEnum",
    "Dispute",
    "DisputeCreateRequest",
    "EscalateRequest",
    "EscalationReasonEnum",
    "EventsEnum",
    "Evidence",
    "EvidenceKindEnum",
    "EvidenceUploadRequest",
    "Feedback",
    "FeedbackBreakdown",
    "FeedbackInputRequest",
    "FeedbackReasonEnum",
    "FeedbackScore",
    "FulfilmentKindEnum",
    "FulfilRequest",
    "FunderEnum",
    "ListDeliveriesStatus",
    "ListDisputesReasonItem",
    "ListDisputesStateItem",
    "LoginRequest",
    "LogoutAll",
    "MediatorRating",
    "Message",
    "MessageInputRequest",
    "NoteRequest",
    "NotificationPreference",
    "Offer",
    "OfferInputRequest",
    "OfferStatusEnum",
    "Order",
    "OrderItem",
    "OrderItemInputRequest",
    "OrderSummary",
    "OrderUpsertRequest",
    "OutcomeCount",
    "OutcomeEnum",
    "OutcomeRating",
    "PaginatedDisputeList",
    "PaginatedMessageList",
    "PaginatedOrderList",
    "PaginatedTimelineEventList",
    "PaginatedWebhookDeliveryList",
    "PaginatedWebhookEndpointList",
    "PartyEnum",
    "PartyEscalationReasonEnum",
    "PartyHistory",
    "PartyHistoryThresholds",
    "PartyHistoryThresholdsAdditionalProperty",
    "PartyRates",
    "PartyRemedyEnum",
    "PatchedNotificationPreferenceRequest",
    "PatchedWebhookEndpointUpdateRequest",
    "PolicyRef",
    "Problem",
    "ProblemErrors",
    "ProvideInfoRequest",
    "ReasonCount",
    "ReasonEnum",
    "ReasonRating",
    "Refund",
    "RefundDue",
    "RefundDueCurrency",
    "RefundDueFundedBy",
    "RefundDueKind",
    "RemedyEnum",
    "ReportRequest",
    "RequestInfoRequest",
    "Resolution",
    "ReturnResultEnum",
    "RotateSecretRequest",
    "RuleRequest",
    "Ruling",
    "RulingStatusEnum",
    "ShopPolicy",
    "ShopPolicyInputRequest",
    "ShopRate",
    "ShopRating",
    "ShopRef",
    "ShopRoleEnum",
    "Sla",
    "StateCount",
    "StateEnum",
    "Stats",
    "TierEnum",
    "TimelineEvent",
    "Token",
    "Totals",
    "VisibilityEnum",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookDeliveryStatusEnum",
    "WebhookEndpoint",
    "WebhookEndpointCreateRequest",
    "WebhookEndpointWithSecret",
    "WebhookEvent",
    "WebhookEventType",
    "WeekCount",
    "Window",
    "WithoutPlatform",
)

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.allowed_actions_enum import AllowedActionsEnum
from ..models.blank_enum import BlankEnum
from ..models.escalation_reason_enum import EscalationReasonEnum
from ..models.outcome_enum import OutcomeEnum
from ..models.party_enum import PartyEnum
from ..models.reason_enum import ReasonEnum
from ..models.remedy_enum import RemedyEnum
from ..models.state_enum import StateEnum
from ..models.tier_enum import TierEnum

if TYPE_CHECKING:
    from ..models.agreement import Agreement
    from ..models.offer import Offer
    from ..models.order_summary import OrderSummary
    from ..models.party_history import PartyHistory
    from ..models.policy_ref import PolicyRef
    from ..models.ruling import Ruling
    from ..models.shop_ref import ShopRef


T = TypeVar("T", bound="Dispute")


@_attrs_define
class Dispute:
    """An output of model rows, every field read-only, whose schema still says what the
    model column allows: a blank choice (``"outcome": ""`` while open) and a null (``assigned_to``
    before anyone holds the case). DRF drops both from read-only fields.

        Attributes:
            id (int):
            order (OrderSummary): An output of model rows, every field read-only, whose schema still says what the
                model column allows: a blank choice (``"outcome": ""`` while open) and a null (``assigned_to``
                before anyone holds the case). DRF drops both from read-only fields.
            shop (ShopRef):
            buyer (str): The user's username
            reason (ReasonEnum): * `not_received` - Not received
                * `not_as_described` - Not as described
                * `damaged_or_defective` - Damaged or defective
                * `wrong_item` - Wrong item
                * `missing_parts` - Missing parts
                * `return_not_refunded` - Return not refunded
                * `cancellation_not_honoured` - Cancellation not honoured
                * `other` - Other
            requested_outcome (RemedyEnum): * `full_refund` - Full refund
                * `partial_refund` - Partial refund
                * `replacement` - Replacement
                * `return_and_refund` - Return and refund
                * `store_credit` - Store credit
                * `goodwill` - Goodwill gesture
                * `no_action` - No action
            requested_amount (int):
            currency (str):
            description (str):
            state (StateEnum): * `awaiting_seller` - Awaiting seller
                * `awaiting_buyer` - Awaiting buyer
                * `escalated` - Escalated
                * `under_review` - Under review
                * `awaiting_info` - Awaiting information
                * `pending_approval` - Ruling pending approval
                * `awaiting_fulfilment` - Awaiting fulfilment
                * `closed` - Closed Default: StateEnum.AWAITING_SELLER.
            outcome (BlankEnum | OutcomeEnum):
            respond_by (datetime.datetime | None):
            overdue (bool):
            escalation_reason (BlankEnum | EscalationReasonEnum):
            conduct_reported_at (datetime.datetime | None):
            assigned_to (None | str): The user's username
            required_tier (BlankEnum | TierEnum):
            info_requested_from (BlankEnum | PartyEnum):
            counter_rounds (int):
            appealed (bool):
            agreement (Agreement | None):
            policy_version (None | PolicyRef):
            version (int):
            created_at (datetime.datetime):
            updated_at (datetime.datetime):
            closed_at (datetime.datetime | None):
            allowed_actions (list[AllowedActionsEnum]):
            offers (list[Offer]):
            rulings (list[Ruling]):
            party_history (None | PartyHistory):
    """

    id: int
    order: OrderSummary
    shop: ShopRef
    buyer: str
    reason: ReasonEnum
    requested_outcome: RemedyEnum
    requested_amount: int
    currency: str
    description: str
    outcome: BlankEnum | OutcomeEnum
    respond_by: datetime.datetime | None
    overdue: bool
    escalation_reason: BlankEnum | EscalationReasonEnum
    conduct_reported_at: datetime.datetime | None
    assigned_to: None | str
    required_tier: BlankEnum | TierEnum
    info_requested_from: BlankEnum | PartyEnum
    counter_rounds: int
    appealed: bool
    agreement: Agreement | None
    policy_version: None | PolicyRef
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    closed_at: datetime.datetime | None
    allowed_actions: list[AllowedActionsEnum]
    offers: list[Offer]
    rulings: list[Ruling]
    party_history: None | PartyHistory
    state: StateEnum = StateEnum.AWAITING_SELLER
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.agreement import Agreement  # noqa: PLC0415
        from ..models.party_history import PartyHistory  # noqa: PLC0415
        from ..models.policy_ref import PolicyRef  # noqa: PLC0415

        id = self.id

        order = self.order.to_dict()

        shop = self.shop.to_dict()

        buyer = self.buyer

        reason = self.reason.value

        requested_outcome = self.requested_outcome.value

        requested_amount = self.requested_amount

        currency = self.currency

        description = self.description

        state = self.state.value

        outcome: str
        if isinstance(self.outcome, OutcomeEnum):
            outcome = self.outcome.value
        else:
            outcome = self.outcome.value

        respond_by: None | str
        if isinstance(self.respond_by, datetime.datetime):
            respond_by = self.respond_by.isoformat()
        else:
            respond_by = self.respond_by

        overdue = self.overdue

        escalation_reason: str
        if isinstance(self.escalation_reason, EscalationReasonEnum):
            escalation_reason = self.escalation_reason.value
        else:
            escalation_reason = self.escalation_reason.value

        conduct_reported_at: None | str
        if isinstance(self.conduct_reported_at, datetime.datetime):
            conduct_reported_at = self.conduct_reported_at.isoformat()
        else:
            conduct_reported_at = self.conduct_reported_at

        assigned_to: None | str
        assigned_to = self.assigned_to

        required_tier: str
        if isinstance(self.required_tier, TierEnum):
            required_tier = self.required_tier.value
        else:
            required_tier = self.required_tier.value

        info_requested_from: str
        if isinstance(self.info_requested_from, PartyEnum):
            info_requested_from = self.info_requested_from.value
        else:
            info_requested_from = self.info_requested_from.value

        counter_rounds = self.counter_rounds

        appealed = self.appealed

        agreement: dict[str, Any] | None
        if isinstance(self.agreement, Agreement):
            agreement = self.agreement.to_dict()
        else:
            agreement = self.agreement

        policy_version: dict[str, Any] | None
        if isinstance(self.policy_version, PolicyRef):
            policy_version = self.policy_version.to_dict()
        else:
            policy_version = self.policy_version

        version = self.version

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        closed_at: None | str
        if isinstance(self.closed_at, datetime.datetime):
            closed_at = self.closed_at.isoformat()
        else:
            closed_at = self.closed_at

        allowed_actions = []
        for allowed_actions_item_data in self.allowed_actions:
            allowed_actions_item = allowed_actions_item_data.value
            allowed_actions.append(allowed_actions_item)

        offers = []
        for offers_item_data in self.offers:
            offers_item = offers_item_data.to_dict()
            offers.append(offers_item)

        rulings = []
        for rulings_item_data in self.rulings:
            rulings_item = rulings_item_data.to_dict()
            rulings.append(rulings_item)

        party_history: dict[str, Any] | None
        if isinstance(self.party_history, PartyHistory):
            party_history = self.party_history.to_dict()
        else:
            party_history = self.party_history

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "order": order,
                "shop": shop,
                "buyer": buyer,
                "reason": reason,
                "requested_outcome": requested_outcome,
                "requested_amount": requested_amount,
                "currency": currency,
                "description": description,
                "state": state,
                "outcome": outcome,
                "respond_by": respond_by,
                "overdue": overdue,
                "escalation_reason": escalation_reason,
                "conduct_reported_at": conduct_reported_at,
                "assigned_to": assigned_to,
                "required_tier": required_tier,
                "info_requested_from": info_requested_from,
                "counter_rounds": counter_rounds,
                "appealed": appealed,
                "agreement": agreement,
                "policy_version": policy_version,
                "version": version,
                "created_at": created_at,
                "updated_at": updated_at,
                "closed_at": closed_at,
                "allowed_actions": allowed_actions,
                "offers": offers,
                "rulings": rulings,
                "party_history": party_history,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.agreement import Agreement  # noqa: PLC0415
        from ..models.offer import Offer  # noqa: PLC0415
        from ..models.order_summary import OrderSummary  # noqa: PLC0415
        from ..models.party_history import PartyHistory  # noqa: PLC0415
        from ..models.policy_ref import PolicyRef  # noqa: PLC0415
        from ..models.ruling import Ruling  # noqa: PLC0415
        from ..models.shop_ref import ShopRef  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        order = OrderSummary.from_dict(d.pop("order"))

        shop = ShopRef.from_dict(d.pop("shop"))

        buyer = d.pop("buyer")

        reason = ReasonEnum(d.pop("reason"))

        requested_outcome = RemedyEnum(d.pop("requested_outcome"))

        requested_amount = d.pop("requested_amount")

        currency = d.pop("currency")

        description = d.pop("description")

        state = StateEnum(d.pop("state"))

        def _parse_outcome(data: object) -> BlankEnum | OutcomeEnum:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                outcome_type_0 = OutcomeEnum(data)

                return outcome_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, str):
                raise TypeError()
            outcome_type_1 = BlankEnum(data)

            return outcome_type_1

        outcome = _parse_outcome(d.pop("outcome"))

        def _parse_respond_by(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                respond_by_type_0 = datetime.datetime.fromisoformat(data)

                return respond_by_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        respond_by = _parse_respond_by(d.pop("respond_by"))

        overdue = d.pop("overdue")

        def _parse_escalation_reason(data: object) -> BlankEnum | EscalationReasonEnum:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                escalation_reason_type_0 = EscalationReasonEnum(data)

                return escalation_reason_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, str):
                raise TypeError()
            escalation_reason_type_1 = BlankEnum(data)

            return escalation_reason_type_1

        escalation_reason = _parse_escalation_reason(d.pop("escalation_reason"))

        def _parse_conduct_reported_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                conduct_reported_at_type_0 = datetime.datetime.fromisoformat(data)

                return conduct_reported_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        conduct_reported_at = _parse_conduct_reported_at(d.pop("conduct_reported_at"))

        def _parse_assigned_to(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        assigned_to = _parse_assigned_to(d.pop("assigned_to"))

        def _parse_required_tier(data: object) -> BlankEnum | TierEnum:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                required_tier_type_0 = TierEnum(data)

                return required_tier_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, str):
                raise TypeError()
            required_tier_type_1 = BlankEnum(data)

            return required_tier_type_1

        required_tier = _parse_required_tier(d.pop("required_tier"))

        def _parse_info_requested_from(data: object) -> BlankEnum | PartyEnum:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                info_requested_from_type_0 = PartyEnum(data)

                return info_requested_from_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, str):
                raise TypeError()
            info_requested_from_type_1 = BlankEnum(data)

            return info_requested_from_type_1

        info_requested_from = _parse_info_requested_from(d.pop("info_requested_from"))

        counter_rounds = d.pop("counter_rounds")

        appealed = d.pop("appealed")

        def _parse_agreement(data: object) -> Agreement | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                agreement_type_0 = Agreement.from_dict(data)

                return agreement_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Agreement | None, data)

        agreement = _parse_agreement(d.pop("agreement"))

        def _parse_policy_version(data: object) -> None | PolicyRef:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                policy_version_type_0 = PolicyRef.from_dict(data)

                return policy_version_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PolicyRef, data)

        policy_version = _parse_policy_version(d.pop("policy_version"))

        version = d.pop("version")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_closed_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                closed_at_type_0 = datetime.datetime.fromisoformat(data)

                return closed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        closed_at = _parse_closed_at(d.pop("closed_at"))

        allowed_actions = []
        _allowed_actions = d.pop("allowed_actions")
        for allowed_actions_item_data in _allowed_actions:
            allowed_actions_item = AllowedActionsEnum(allowed_actions_item_data)

            allowed_actions.append(allowed_actions_item)

        offers = []
        _offers = d.pop("offers")
        for offers_item_data in _offers:
            offers_item = Offer.from_dict(offers_item_data)

            offers.append(offers_item)

        rulings = []
        _rulings = d.pop("rulings")
        for rulings_item_data in _rulings:
            rulings_item = Ruling.from_dict(rulings_item_data)

            rulings.append(rulings_item)

        def _parse_party_history(data: object) -> None | PartyHistory:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                party_history_type_0 = PartyHistory.from_dict(data)

                return party_history_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PartyHistory, data)

        party_history = _parse_party_history(d.pop("party_history"))

        dispute = cls(
            id=id,
            order=order,
            shop=shop,
            buyer=buyer,
            reason=reason,
            requested_outcome=requested_outcome,
            requested_amount=requested_amount,
            currency=currency,
            description=description,
            state=state,
            outcome=outcome,
            respond_by=respond_by,
            overdue=overdue,
            escalation_reason=escalation_reason,
            conduct_reported_at=conduct_reported_at,
            assigned_to=assigned_to,
            required_tier=required_tier,
            info_requested_from=info_requested_from,
            counter_rounds=counter_rounds,
            appealed=appealed,
            agreement=agreement,
            policy_version=policy_version,
            version=version,
            created_at=created_at,
            updated_at=updated_at,
            closed_at=closed_at,
            allowed_actions=allowed_actions,
            offers=offers,
            rulings=rulings,
            party_history=party_history,
        )

        dispute.additional_properties = d
        return dispute

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

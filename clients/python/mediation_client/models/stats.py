from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.feedback_breakdown import FeedbackBreakdown
    from ..models.feedback_score import FeedbackScore
    from ..models.outcome_count import OutcomeCount
    from ..models.reason_count import ReasonCount
    from ..models.refund import Refund
    from ..models.resolution import Resolution
    from ..models.shop_rate import ShopRate
    from ..models.sla import Sla
    from ..models.state_count import StateCount
    from ..models.totals import Totals
    from ..models.week_count import WeekCount
    from ..models.window import Window
    from ..models.without_platform import WithoutPlatform


T = TypeVar("T", bound="Stats")


@_attrs_define
class Stats:
    """
    Attributes:
        window (Window):
        generated_at (datetime.datetime):
        totals (Totals):
        opened_per_week (list[WeekCount]):
        by_reason (list[ReasonCount]):
        by_state (list[StateCount]):
        outcomes (list[OutcomeCount]):
        escalation_reasons (list[ReasonCount]):
        resolution (Resolution):
        sla (Sla):
        without_platform (WithoutPlatform):
        refunds (list[Refund]):
        shops (list[ShopRate]):
        feedback (list[FeedbackScore]):
        feedback_breakdown (FeedbackBreakdown):
    """

    window: Window
    generated_at: datetime.datetime
    totals: Totals
    opened_per_week: list[WeekCount]
    by_reason: list[ReasonCount]
    by_state: list[StateCount]
    outcomes: list[OutcomeCount]
    escalation_reasons: list[ReasonCount]
    resolution: Resolution
    sla: Sla
    without_platform: WithoutPlatform
    refunds: list[Refund]
    shops: list[ShopRate]
    feedback: list[FeedbackScore]
    feedback_breakdown: FeedbackBreakdown
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        window = self.window.to_dict()

        generated_at = self.generated_at.isoformat()

        totals = self.totals.to_dict()

        opened_per_week = []
        for opened_per_week_item_data in self.opened_per_week:
            opened_per_week_item = opened_per_week_item_data.to_dict()
            opened_per_week.append(opened_per_week_item)

        by_reason = []
        for by_reason_item_data in self.by_reason:
            by_reason_item = by_reason_item_data.to_dict()
            by_reason.append(by_reason_item)

        by_state = []
        for by_state_item_data in self.by_state:
            by_state_item = by_state_item_data.to_dict()
            by_state.append(by_state_item)

        outcomes = []
        for outcomes_item_data in self.outcomes:
            outcomes_item = outcomes_item_data.to_dict()
            outcomes.append(outcomes_item)

        escalation_reasons = []
        for escalation_reasons_item_data in self.escalation_reasons:
            escalation_reasons_item = escalation_reasons_item_data.to_dict()
            escalation_reasons.append(escalation_reasons_item)

        resolution = self.resolution.to_dict()

        sla = self.sla.to_dict()

        without_platform = self.without_platform.to_dict()

        refunds = []
        for refunds_item_data in self.refunds:
            refunds_item = refunds_item_data.to_dict()
            refunds.append(refunds_item)

        shops = []
        for shops_item_data in self.shops:
            shops_item = shops_item_data.to_dict()
            shops.append(shops_item)

        feedback = []
        for feedback_item_data in self.feedback:
            feedback_item = feedback_item_data.to_dict()
            feedback.append(feedback_item)

        feedback_breakdown = self.feedback_breakdown.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "window": window,
                "generated_at": generated_at,
                "totals": totals,
                "opened_per_week": opened_per_week,
                "by_reason": by_reason,
                "by_state": by_state,
                "outcomes": outcomes,
                "escalation_reasons": escalation_reasons,
                "resolution": resolution,
                "sla": sla,
                "without_platform": without_platform,
                "refunds": refunds,
                "shops": shops,
                "feedback": feedback,
                "feedback_breakdown": feedback_breakdown,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.feedback_breakdown import FeedbackBreakdown  # noqa: PLC0415
        from ..models.feedback_score import FeedbackScore  # noqa: PLC0415
        from ..models.outcome_count import OutcomeCount  # noqa: PLC0415
        from ..models.reason_count import ReasonCount  # noqa: PLC0415
        from ..models.refund import Refund  # noqa: PLC0415
        from ..models.resolution import Resolution  # noqa: PLC0415
        from ..models.shop_rate import ShopRate  # noqa: PLC0415
        from ..models.sla import Sla  # noqa: PLC0415
        from ..models.state_count import StateCount  # noqa: PLC0415
        from ..models.totals import Totals  # noqa: PLC0415
        from ..models.week_count import WeekCount  # noqa: PLC0415
        from ..models.window import Window  # noqa: PLC0415
        from ..models.without_platform import WithoutPlatform  # noqa: PLC0415

        d = dict(src_dict)
        window = Window.from_dict(d.pop("window"))

        generated_at = datetime.datetime.fromisoformat(d.pop("generated_at"))

        totals = Totals.from_dict(d.pop("totals"))

        opened_per_week = []
        _opened_per_week = d.pop("opened_per_week")
        for opened_per_week_item_data in _opened_per_week:
            opened_per_week_item = WeekCount.from_dict(opened_per_week_item_data)

            opened_per_week.append(opened_per_week_item)

        by_reason = []
        _by_reason = d.pop("by_reason")
        for by_reason_item_data in _by_reason:
            by_reason_item = ReasonCount.from_dict(by_reason_item_data)

            by_reason.append(by_reason_item)

        by_state = []
        _by_state = d.pop("by_state")
        for by_state_item_data in _by_state:
            by_state_item = StateCount.from_dict(by_state_item_data)

            by_state.append(by_state_item)

        outcomes = []
        _outcomes = d.pop("outcomes")
        for outcomes_item_data in _outcomes:
            outcomes_item = OutcomeCount.from_dict(outcomes_item_data)

            outcomes.append(outcomes_item)

        escalation_reasons = []
        _escalation_reasons = d.pop("escalation_reasons")
        for escalation_reasons_item_data in _escalation_reasons:
            escalation_reasons_item = ReasonCount.from_dict(escalation_reasons_item_data)

            escalation_reasons.append(escalation_reasons_item)

        resolution = Resolution.from_dict(d.pop("resolution"))

        sla = Sla.from_dict(d.pop("sla"))

        without_platform = WithoutPlatform.from_dict(d.pop("without_platform"))

        refunds = []
        _refunds = d.pop("refunds")
        for refunds_item_data in _refunds:
            refunds_item = Refund.from_dict(refunds_item_data)

            refunds.append(refunds_item)

        shops = []
        _shops = d.pop("shops")
        for shops_item_data in _shops:
            shops_item = ShopRate.from_dict(shops_item_data)

            shops.append(shops_item)

        feedback = []
        _feedback = d.pop("feedback")
        for feedback_item_data in _feedback:
            feedback_item = FeedbackScore.from_dict(feedback_item_data)

            feedback.append(feedback_item)

        feedback_breakdown = FeedbackBreakdown.from_dict(d.pop("feedback_breakdown"))

        stats = cls(
            window=window,
            generated_at=generated_at,
            totals=totals,
            opened_per_week=opened_per_week,
            by_reason=by_reason,
            by_state=by_state,
            outcomes=outcomes,
            escalation_reasons=escalation_reasons,
            resolution=resolution,
            sla=sla,
            without_platform=without_platform,
            refunds=refunds,
            shops=shops,
            feedback=feedback,
            feedback_breakdown=feedback_breakdown,
        )

        stats.additional_properties = d
        return stats

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

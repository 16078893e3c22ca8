from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.state_count import StateCount
    from ..models.week_count import WeekCount


T = TypeVar("T", bound="Sla")


@_attrs_define
class Sla:
    """
    Attributes:
        overdue_now (int): escalated, under_review or pending_approval past respond_by right now.
        overdue_now_by_state (list[StateCount]):
        disputes_breached (int): Disputes flagged at least once.
        breaches_flagged (int): sla_breached audit entries.
        breaches_per_week (list[WeekCount]):
    """

    overdue_now: int
    overdue_now_by_state: list[StateCount]
    disputes_breached: int
    breaches_flagged: int
    breaches_per_week: list[WeekCount]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        overdue_now = self.overdue_now

        overdue_now_by_state = []
        for overdue_now_by_state_item_data in self.overdue_now_by_state:
            overdue_now_by_state_item = overdue_now_by_state_item_data.to_dict()
            overdue_now_by_state.append(overdue_now_by_state_item)

        disputes_breached = self.disputes_breached

        breaches_flagged = self.breaches_flagged

        breaches_per_week = []
        for breaches_per_week_item_data in self.breaches_per_week:
            breaches_per_week_item = breaches_per_week_item_data.to_dict()
            breaches_per_week.append(breaches_per_week_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "overdue_now": overdue_now,
                "overdue_now_by_state": overdue_now_by_state,
                "disputes_breached": disputes_breached,
                "breaches_flagged": breaches_flagged,
                "breaches_per_week": breaches_per_week,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.state_count import StateCount  # noqa: PLC0415
        from ..models.week_count import WeekCount  # noqa: PLC0415

        d = dict(src_dict)
        overdue_now = d.pop("overdue_now")

        overdue_now_by_state = []
        _overdue_now_by_state = d.pop("overdue_now_by_state")
        for overdue_now_by_state_item_data in _overdue_now_by_state:
            overdue_now_by_state_item = StateCount.from_dict(overdue_now_by_state_item_data)

            overdue_now_by_state.append(overdue_now_by_state_item)

        disputes_breached = d.pop("disputes_breached")

        breaches_flagged = d.pop("breaches_flagged")

        breaches_per_week = []
        _breaches_per_week = d.pop("breaches_per_week")
        for breaches_per_week_item_data in _breaches_per_week:
            breaches_per_week_item = WeekCount.from_dict(breaches_per_week_item_data)

            breaches_per_week.append(breaches_per_week_item)

        sla = cls(
            overdue_now=overdue_now,
            overdue_now_by_state=overdue_now_by_state,
            disputes_breached=disputes_breached,
            breaches_flagged=breaches_flagged,
            breaches_per_week=breaches_per_week,
        )

        sla.additional_properties = d
        return sla

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

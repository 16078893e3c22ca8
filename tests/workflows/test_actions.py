"""The action registry is the one declaration of each action: what the API, the console,
the events, the timeline, the emails and the diagram read agrees with it."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.template.loader import get_template
from django.urls import reverse

from api import serializers as api_serializers
from api import views as api_views
from console import case as console_case
from mediation.models import Dispute
from reports.diagram import fsm_transitions
from workflows import actions, steps, transitions

ENTRIES = list(transitions.ACTIONS.values())


@pytest.mark.parametrize("action", ENTRIES, ids=lambda a: a.slug)
def test_each_action_runs_the_transition_named_like_it(action: actions.Action) -> None:
    assert hasattr(action.transition, "_django_fsm"), f"{action.slug}: not an fsm transition"
    assert getattr(Dispute, action.transition_name) is action.transition
    assert action.transition_name == action.slug.replace("-", "_")
    assert action.transition_name in {t.name for t in fsm_transitions()}


@pytest.mark.parametrize("action", ENTRIES, ids=lambda a: a.slug)
def test_each_action_records_declared_steps(action: actions.Action) -> None:
    assert action.records
    for record in action.records:
        assert record in steps.STEPS, f"{action.slug} records {record!r}, not in steps.STEPS"


@pytest.mark.parametrize("action", ENTRIES, ids=lambda a: a.slug)
def test_each_action_has_an_input_whose_fields_its_service_takes(action: actions.Action) -> None:
    serializer = api_serializers.INPUTS[action.slug]()
    parameters = inspect.signature(action.service).parameters
    for name, field in serializer.fields.items():
        argument = field.source if field.source not in ("", "*") else name
        assert argument in parameters, f"{action.slug}: {argument!r} is no argument of its service"
    for required in ("dispute_id", "actor", "expected_version"):
        assert required in parameters


def test_the_registry_is_in_the_order_of_the_lifecycle() -> None:
    assert list(transitions.CHECKS) == [
        "accept-request",
        "offer",
        "approve-offer",
        "reject-offer",
        "contest",
        "accept-offer",
        "counter",
        "escalate",
        "withdraw",
        "assign",
        "request-info",
        "provide-info",
        "rule",
        "approve-ruling",
        "reject-ruling",
        "fulfil",
        "acknowledge-return",
        "confirm-received",
        "appeal",
    ]


def test_an_action_or_a_step_cannot_be_declared_twice() -> None:
    existing = transitions.ACTIONS["contest"]
    with pytest.raises(ValueError, match="declared twice"):
        actions.action(
            "contest",
            transition=existing.transition,
            guard=existing.guard,
            steps={},
            summary="",
            description="",
        )(existing.service)
    with pytest.raises(ValueError, match="declared twice"):
        actions.action(
            "contest-again",
            transition=existing.transition,
            guard=existing.guard,
            steps={"contest": steps.STEPS["contest"]},
            summary="",
            description="",
        )(existing.service)


def test_offered_actions_are_routed_guarded_and_listed() -> None:
    assert list(api_views.ACTIONS) == list(transitions.OFFERED)
    assert list(transitions.CHECKS) == list(transitions.ACTIONS), "every action is guarded"
    for slug in transitions.OFFERED:
        assert reverse(f"api:dispute-{slug}", kwargs={"dispute_id": 1}).endswith(f"/{slug}/")
        assert transitions.OFFERED[slug].guard is not None
    # The owner's decisions act on one offer: a route of their own, listed all the same.
    for verb in ("approve", "reject"):
        action = transitions.ACTIONS[f"{verb}-offer"]
        assert not action.offered and api_views.OFFER_DECISIONS[verb] is action
        url = reverse(f"api:offer-{verb}", kwargs={"dispute_id": 1, "offer_id": 2})
        assert url.endswith(f"/disputes/1/offers/2/{verb}/")


def test_the_consoles_buttons_are_the_registrys() -> None:
    labelled = {slug for slug, a in transitions.ACTIONS.items() if a.console}
    assert set(console_case.FORMS) == labelled
    for slug in labelled:
        assert console_case.ACTIONS[slug].label == transitions.ACTIONS[slug].console
        assert console_case.ACTIONS[slug].needs == slug


def test_one_event_one_email_and_every_email_has_its_templates() -> None:
    by_event: dict[str, set[str | None]] = {}
    for step in [*steps.STEPS.values(), *steps.STATE_STEPS.values()]:
        by_event.setdefault(step.event, set()).add(step.notification)
    for event, kinds in by_event.items():
        assert len(kinds) == 1, f"{event} is sent as {kinds}"
    for kind in set(transitions.NOTIFICATION_KINDS.values()):
        get_template(f"notifications/{kind}.txt")
        get_template(f"notifications/{kind}.html")


def test_events_name_every_step_and_nothing_else() -> None:
    assert set(transitions.EVENT_TYPES) == {
        *(s.event for s in steps.STEPS.values()),
        *(s.event for s in steps.STATE_STEPS.values()),
        "dispute.ruling_proposed",
        steps.REFUND_DUE_EVENT,  # the second event of a step that leaves a refund due
    }
    assert steps.event_name("something_new") == "dispute.something_new"


def test_the_registry_is_complete_in_any_process_once_django_is_set_up() -> None:
    # A command that reads nothing but the steps (as a worker's relay might) sees them all.
    code = (
        "from workflows import actions, steps; print(len(actions.registered()), len(steps.STEPS))"
    )
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.split() == [str(len(transitions.ACTIONS)), str(len(steps.STEPS))]

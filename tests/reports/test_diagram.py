"""The state machine diagram is generated from the transition table, and the committed
image (docs/state-machine.svg, shown by the README and the console) is up to date."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from django.core.management import call_command

from mediation.models import TRANSITION_STATES, State
from reports.diagram import DEADLINE_TRANSITIONS, fsm_transitions, render_svg

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "state-machine.svg"


def test_committed_diagram_is_up_to_date() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render_svg(), (
        "docs/state-machine.svg is stale: run "
        "`python manage.py state_diagram --out docs/state-machine.svg`"
    )


def test_command_writes_the_same_image(tmp_path: Path) -> None:
    out = tmp_path / "sm.svg"
    call_command("state_diagram", out=str(out))
    assert out.read_text(encoding="utf-8") == render_svg()


def test_every_transition_and_state_is_drawn() -> None:
    svg = render_svg()
    root = ET.fromstring(svg)  # well-formed
    ns = "{http://www.w3.org/2000/svg}"
    drawn: set[tuple[str, str, str]] = set()
    for g in root.iter(f"{ns}g"):
        if "transition" in g.get("class", "").split() and g.get("data-names"):
            for name in g.get("data-names", "").split():
                drawn.add((g.get("data-source", ""), g.get("data-target", ""), name))
    for t in fsm_transitions():
        assert t.name in svg
        if t.source != t.target:  # self-loops are noted in the state's box
            assert (t.source, t.target, t.name) in drawn, t
        else:
            assert f"↻ {t.name}" in svg or f", {t.name}" in svg
    for state in State.values:
        assert f'id="state-{state}"' in svg


def test_deadline_transitions_follow_the_table_and_the_sweeper() -> None:
    declared = {(t.source, t.name, t.target) for t in fsm_transitions()}
    for transition in DEADLINE_TRANSITIONS:
        assert transition in declared, transition
    assert {source for source, _, _ in DEADLINE_TRANSITIONS} == set(TRANSITION_STATES)


def test_readme_shows_the_diagram() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "![Dispute states](docs/state-machine.svg)" in readme

"""The dispute state machine as an SVG image, drawn from the transition table itself.

The edges are the django-fsm transitions declared on :class:`mediation.models.Dispute`
(``@fsm.transition`` methods, one edge per source and possible target, the targets of a
``RETURN_VALUE`` included), plus the deadline transitions the system applies
(:data:`DEADLINE_TRANSITIONS`, checked against the fsm table and the sweeper by the tests).
Nothing is drawn by hand: change a transition and ``python manage.py state_diagram``
redraws the picture (a test fails while the committed ``docs/state-machine.svg`` is stale).

Layout, in pure Python (no Graphviz): states in columns by the longest path from the
initial state, along the order of :class:`~mediation.models.State` (an edge against that
order is a "back" edge); edges between neighbouring columns are straight when their label
fits between them; the others run in horizontal lanes above or below the states, each lane
holding edges whose spans do not overlap, so no two labels collide. The output is deterministic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from typing import Any

from mediation.models import SLA_STATES, Dispute, State

S = State

# What the sweeper does when the deadline of a state passes (DESIGN §4, "on deadline"), as
# (source, fsm method, target): ``workflows.transitions.apply_deadline``'s branches.
DEADLINE_TRANSITIONS: tuple[tuple[str, str, str], ...] = (
    (S.AWAITING_SELLER, "escalate", S.ESCALATED),
    (S.AWAITING_BUYER, "lapse", S.CLOSED),
    (S.AWAITING_INFO, "resume_review", S.UNDER_REVIEW),
    (S.AWAITING_FULFILMENT, "escalate", S.ESCALATED),
    (S.AWAITING_FULFILMENT, "complete", S.CLOSED),
)
INITIAL = S.AWAITING_SELLER

NODE_W, NODE_H = 156, 50
STEP_X = 226  # column pitch
ROW_GAP = 96  # between the centres of two states of one column
LANE_GAP = 26
MARGIN = 24
FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"
INK, MUTED, DEADLINE = "#1f2937", "#6b7280", "#b45309"


@dataclass(frozen=True)
class FsmEdge:
    source: str
    target: str
    name: str
    doc: str = ""


def fsm_transitions() -> list[FsmEdge]:
    """Every (source, target, method) the state field declares, sorted."""
    state_field: Any = Dispute._meta.get_field("state")
    edges = set()
    for t in state_field.get_all_transitions(Dispute):
        targets = getattr(t.target, "allowed_states", None) or [t.target]
        doc = " ".join((t.method.__doc__ or "").split())
        for target in targets:
            edges.add(FsmEdge(str(t.source), str(target), t.name, doc))
    return sorted(edges, key=lambda e: (e.source, e.target, e.name))


@dataclass
class Edge:
    source: str
    target: str
    names: list[str]
    deadline: bool = False
    docs: list[str] = field(default_factory=list)
    side: str = ""  # "", "above" or "below" (lanes)
    lane: int = 0

    @property
    def label(self) -> str:
        return ("on deadline: " if self.deadline else "") + ", ".join(self.names)


def _edges() -> tuple[list[Edge], dict[str, list[str]]]:
    grouped: dict[tuple[str, str], Edge] = {}
    loops: dict[str, list[str]] = defaultdict(list)
    for t in fsm_transitions():
        if t.source == t.target:
            loops[t.source].append(t.name)
            continue
        edge = grouped.setdefault((t.source, t.target), Edge(t.source, t.target, []))
        if t.name not in edge.names:
            edge.names.append(t.name)
            if t.doc:
                edge.docs.append(f"{t.name}: {t.doc}")
    edges = list(grouped.values())
    for source, name, target in DEADLINE_TRANSITIONS:
        edges.append(Edge(source, target, [name], deadline=True))
    return edges, dict(loops)


def _columns(edges: Iterable[Edge]) -> dict[str, int]:
    """Longest path from the initial state over the forward edges (State order)."""
    order = {s: i for i, s in enumerate(State.values)}
    col = {s: 0 for s in State.values}
    for _ in State.values:  # relax: the forward graph is acyclic by construction
        for e in edges:
            if order[e.target] > order[e.source]:
                col[e.target] = max(col[e.target], col[e.source] + 1)
    return col


def _text_width(text: str, size: float) -> float:
    return len(text) * size * 0.56


def render_svg() -> str:
    edges, loops = _edges()
    col = _columns(edges)
    order = {s: i for i, s in enumerate(State.values)}
    by_col: dict[int, list[str]] = defaultdict(list)
    for s in State.values:
        by_col[col[s]].append(s)
    max_rows = max(len(v) for v in by_col.values())

    # Where each state sits (centre), rows of a column centred on the middle line.
    pos: dict[str, tuple[float, float]] = {}
    row_of: dict[str, tuple[int, int]] = {}  # (row, rows in column)
    for c, states in by_col.items():
        for r, s in enumerate(states):
            pos[s] = (c * STEP_X, (r - (len(states) - 1) / 2) * ROW_GAP)
            row_of[s] = (r, len(states))

    def forced_side(s: str) -> str:
        r, n = row_of[s]
        if n > 1 and r == 0:
            return "above"
        if n > 1 and r == n - 1:
            return "below"
        return ""

    straight: list[Edge] = []
    for e in edges:
        forward = order[e.target] > order[e.source]
        fits = _text_width(e.label, 11) <= STEP_X - NODE_W - 12
        if forward and col[e.target] - col[e.source] == 1 and fits:
            straight.append(e)
            continue
        e.side = forced_side(e.source) or forced_side(e.target) or ("above" if forward else "below")

    # Lanes: the smallest one free over the edge's horizontal extent (labels included).
    def extent(e: Edge) -> tuple[float, float]:
        x1, x2 = sorted((pos[e.source][0], pos[e.target][0]))
        mid, half = (x1 + x2) / 2, _text_width(e.label, 11) / 2 + 6
        return min(x1 - NODE_W / 2, mid - half), max(x2 + NODE_W / 2, mid + half)

    for side in ("above", "below"):
        taken: list[list[tuple[float, float]]] = []
        lane_edges = [e for e in edges if e.side == side]
        lane_edges.sort(key=lambda e: (abs(col[e.target] - col[e.source]), e.source, e.target))
        for e in lane_edges:
            lo, hi = extent(e)
            for i, spans in enumerate(taken):
                if all(hi <= a or lo >= b for a, b in spans):
                    spans.append((lo, hi))
                    e.lane = i
                    break
            else:
                taken.append([(lo, hi)])
                e.lane = len(taken) - 1
    lanes_above = 1 + max((e.lane for e in edges if e.side == "above"), default=-1)
    lanes_below = 1 + max((e.lane for e in edges if e.side == "below"), default=-1)

    # Ports: where lane edges leave and enter a state's top or bottom, in order of the far
    # end's position so that vertical segments do not cross at the box.
    ends: dict[tuple[str, str], list[tuple[float, int, Edge, str]]] = defaultdict(list)
    for e in edges:
        if e.side:
            ends[(e.source, e.side)].append((pos[e.target][0], e.lane, e, "source"))
            ends[(e.target, e.side)].append((pos[e.source][0], e.lane, e, "target"))
    port: dict[tuple[int, str], float] = {}
    for (s, _side), items in ends.items():
        x0 = pos[s][0]
        left = sorted((i for i in items if i[0] < x0), key=lambda i: (i[0], -i[1]))
        right = sorted((i for i in items if i[0] >= x0), key=lambda i: (-i[1], i[0]))
        ordered = left + right
        for k, (_, _, e, end) in enumerate(ordered):
            port[(id(e), end)] = x0 - NODE_W / 2 + NODE_W * (k + 1) / (len(ordered) + 1)

    top = -(max_rows - 1) / 2 * ROW_GAP - NODE_H / 2
    bottom = -top
    lane_y = {
        "above": lambda lane: top - 28 - lane * LANE_GAP,
        "below": lambda lane: bottom + 28 + lane * LANE_GAP,
    }
    # Canvas: room for the start marker, the lanes and the legend.
    min_x = -NODE_W / 2 - 70 - MARGIN
    max_x = max(c for c in col.values()) * STEP_X + NODE_W / 2 + MARGIN
    min_y = lane_y["above"](lanes_above - 1) - 20 - MARGIN if lanes_above else top - MARGIN
    legend_y = (lane_y["below"](lanes_below - 1) if lanes_below else bottom) + 40
    max_y = legend_y + 34 + MARGIN
    width, height = max_x - min_x, max_y - min_y

    out: list[str] = []
    w = out.append
    w(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{min_x:g} {min_y:g} {width:g} '
        f'{height:g}" width="{width:g}" height="{height:g}" role="img" '
        f'aria-labelledby="sm-title" font-family="{FONT}">'
    )
    w('<title id="sm-title">Dispute state machine, generated from the transition table</title>')
    w("<defs>")
    for name, colour in (("arrow", INK), ("arrow-deadline", DEADLINE)):
        w(
            f'<marker id="{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
            f'fill="{colour}"/></marker>'
        )
    w("</defs>")
    w(f'<rect x="{min_x:g}" y="{min_y:g}" width="{width:g}" height="{height:g}" fill="#fff"/>')

    def label(x: float, y: float, text: str, colour: str, anchor: str = "middle") -> None:
        w(
            f'<text x="{x:g}" y="{y:g}" font-size="11" text-anchor="{anchor}" fill="{colour}" '
            f'stroke="#fff" stroke-width="4" paint-order="stroke">{escape(text)}</text>'
        )

    def edge_open(e: Edge) -> None:
        kind = "deadline" if e.deadline else "action"
        w(
            f'<g class="transition {kind}" data-source="{e.source}" data-target="{e.target}" '
            f'data-names="{" ".join(e.names)}">'
        )
        title = e.label + (" — " + "; ".join(e.docs) if e.docs else "")
        w(f"<title>{escape(f'{e.source} → {e.target}: {title}')}</title>")

    def stroke(e: Edge) -> str:
        if e.deadline:
            return f'stroke="{DEADLINE}" stroke-dasharray="5 3" marker-end="url(#arrow-deadline)"'
        return f'stroke="{INK}" marker-end="url(#arrow)"'

    # Straight edges between neighbouring columns (parallel ones side by side).
    pairs: dict[frozenset[str], list[Edge]] = defaultdict(list)
    for e in straight:
        pairs[frozenset((e.source, e.target))].append(e)
    for group in pairs.values():
        for k, e in enumerate(sorted(group, key=lambda e: (e.deadline, e.source))):
            offset = (k - (len(group) - 1) / 2) * 14
            (sx, sy), (tx, ty) = pos[e.source], pos[e.target]
            x1, y1 = sx + NODE_W / 2, sy + offset
            x2, y2 = tx - NODE_W / 2, ty + offset
            edge_open(e)
            w(
                f'<path d="M{x1:g},{y1:g} L{x2:g},{y2:g}" fill="none" stroke-width="1.4" '
                f"{stroke(e)}/>"
            )
            ly = (y1 + y2) / 2 + (-6 if offset <= 0 else 14)
            label((x1 + x2) / 2, ly, e.label, DEADLINE if e.deadline else INK)
            w("</g>")

    # Lane edges.
    for e in sorted((e for e in edges if e.side), key=lambda e: (e.side, e.lane, e.source)):
        sign = -1 if e.side == "above" else 1
        y = lane_y[e.side](e.lane)
        x1, x2 = port[(id(e), "source")], port[(id(e), "target")]
        y1 = pos[e.source][1] + sign * NODE_H / 2
        y2 = pos[e.target][1] + sign * NODE_H / 2
        edge_open(e)
        w(
            f'<path d="M{x1:g},{y1:g} L{x1:g},{y:g} L{x2:g},{y:g} L{x2:g},{y2:g}" fill="none" '
            f'stroke-width="1.4" stroke-linejoin="round" {stroke(e)}/>'
        )
        label((x1 + x2) / 2, y - 4, e.label, DEADLINE if e.deadline else INK)
        w("</g>")

    # The start: ``raise`` creates the dispute in the initial state.
    ix, iy = pos[INITIAL]
    w('<g class="transition initial"><title>raise: the buyer opens a dispute</title>')
    w(f'<circle cx="{ix - NODE_W / 2 - 58:g}" cy="{iy:g}" r="7" fill="{INK}"/>')
    w(
        f'<path d="M{ix - NODE_W / 2 - 51:g},{iy:g} L{ix - NODE_W / 2:g},{iy:g}" '
        f'stroke="{INK}" stroke-width="1.4" marker-end="url(#arrow)"/>'
    )
    label(ix - NODE_W / 2 - 28, iy - 6, "raise", INK)
    w("</g>")

    # States.
    for s in State.values:
        x, y = pos[s]
        final = s == S.CLOSED
        w(f'<g class="state" id="state-{s}" data-state="{s}">')
        w(f"<title>{escape(f'{s}: {State(s).label}')}</title>")
        w(
            f'<rect x="{x - NODE_W / 2:g}" y="{y - NODE_H / 2:g}" width="{NODE_W}" '
            f'height="{NODE_H}" rx="10" fill="{"#eef2ff" if not final else "#f3f4f6"}" '
            f'stroke="{INK}" stroke-width="{2.4 if final else 1.4}"/>'
        )
        notes = []
        if s in loops:
            notes.append(("↻ " + ", ".join(sorted(loops[s])), MUTED))
        if s in SLA_STATES:
            notes.append(("SLA breach: flagged", DEADLINE))
        first = y - (len(notes) * 7) + 4
        w(
            f'<text x="{x:g}" y="{first:g}" font-size="13" font-weight="600" '
            f'text-anchor="middle" fill="{INK}">{s}</text>'
        )
        for k, (note, colour) in enumerate(notes):
            w(
                f'<text x="{x:g}" y="{first + 15 * (k + 1):g}" font-size="10" '
                f'text-anchor="middle" fill="{colour}">{escape(note)}</text>'
            )
        w("</g>")

    # Legend.
    lx = min_x + MARGIN
    w('<g class="legend" font-size="11">')
    w(
        f'<path d="M{lx:g},{legend_y:g} h36" stroke="{INK}" stroke-width="1.4" '
        f'marker-end="url(#arrow)"/>'
    )
    w(
        f'<text x="{lx + 44:g}" y="{legend_y + 4:g}" fill="{INK}">transition method of '
        f"Dispute.state (django-fsm), called by a person's action</text>"
    )
    ly2 = legend_y + 18
    w(
        f'<path d="M{lx:g},{ly2:g} h36" stroke="{DEADLINE}" stroke-width="1.4" '
        f'stroke-dasharray="5 3" marker-end="url(#arrow-deadline)"/>'
    )
    w(
        f'<text x="{lx + 44:g}" y="{ly2 + 4:g}" fill="{DEADLINE}">applied by the system when the '
        f"state's deadline passes (the sweeper)</text>"
    )
    w(
        f'<text x="{lx + 560:g}" y="{legend_y + 4:g}" fill="{MUTED}">↻ stays in the state '
        f"(e.g. reassign)</text>"
    )
    w("</g>")
    w("</svg>")
    return "\n".join(out) + "\n"

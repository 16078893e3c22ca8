"""Verifying every audit chain at once (DESIGN §8): ``manage.py verify_audit``.

One pass reads two streams in primary-key order, each through one cursor (a server-side,
named one on PostgreSQL): the heads of the disputes ``(id, audit_seq, audit_head)``, and
all audit entries ordered by ``(dispute_id, seq)`` as plain tuples (``ENTRY_FIELDS``). They
are merged like the two sides of a merge join, and each chain is checked with
:func:`mediation.audit.verify_rows`, so the number of queries does not grow with the number
of disputes. A chain that looks broken is checked once more with
:func:`mediation.audit.verify` under the dispute's row lock, the lock every append takes,
so an action recorded while the scan runs is not reported as tampering.

:func:`verify_everything` splits the disputes into disjoint id ranges and scans them in
worker processes, one stream pair each; the results come back in id order.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from itertools import groupby, pairwise
from json import JSONDecoder, loads
from operator import itemgetter
from typing import Any

from django.db import connection, connections, transaction
from django.db.models import Count, Max, Min, QuerySet, Sum
from psycopg.types.datetime import TimestamptzLoader
from psycopg.types.string import TextLoader

from mediation.audit import ENTRY_FIELDS, EntryRow, Verification, find_break, verify
from mediation.audit_anchor import Anchors, load_anchors
from mediation.models import AuditEntry, Dispute

# Rows fetched from the database at a time, by each of the two cursors.
CHUNK_SIZE = 2000
# Below this many entries (by the estimate) one process is quicker than starting workers.
PARALLEL_FROM = 50_000
# Each worker process takes this many id ranges on average, so an uneven range (ids are
# not always dense) does not leave the other workers idle at the end.
RANGES_PER_JOB = 4

HeadRow = tuple[int, int, str]
PAYLOAD = ENTRY_FIELDS.index("payload")
# Called with the number of disputes and of entries verified since its last call.
Progress = Callable[[int, int], None]


# No checkpoint: the chains are checked on their own (unit tests of the scan, and a
# deployment before its first anchoring run).
NO_ANCHORS = Anchors()


def locked_verify(dispute_id: int, anchors: Anchors = NO_ANCHORS) -> Verification | None:
    """Verify one chain while appends to it are blocked (against its anchored head in
    ``anchors``); None if the dispute is gone.

    The transaction is rolled back, not committed: it writes nothing, and inside the
    scan's own transaction the rollback to the savepoint is what releases the row lock
    at once on PostgreSQL, rather than holding it until the whole scan ends.
    """
    with transaction.atomic():
        dispute = (
            Dispute.objects.select_for_update()
            .only("id", "audit_seq", "audit_head")
            .filter(pk=dispute_id)
            .first()
        )
        if dispute is None:
            result = None
        else:
            result = verify(
                dispute,
                anchored=anchors.of(dispute_id),
                unkeyed_upto=anchors.unkeyed_upto(dispute_id),
            )
        transaction.set_rollback(True)
    return result


def merge_chains(
    heads: Iterable[HeadRow], rows: Iterable[EntryRow], anchors: Anchors = NO_ANCHORS
) -> Iterator[Verification]:
    """A verification per dispute of ``heads`` (in id order), each over the entries of
    ``rows`` (ordered by dispute and ``seq``) that belong to it, against its head in
    ``anchors``.

    Entries whose dispute is not among the heads are checked again under the lock (the
    dispute may have been created after its head was read) and, if their dispute does not
    exist, reported as a broken chain of that dispute id; so is an anchored dispute that
    no longer exists.
    """
    for dispute_id, entries, broken in _merge(heads, rows, anchors):
        yield broken or Verification(dispute_id, True, entries)


def _merge(
    heads: Iterable[HeadRow],
    rows: Iterable[EntryRow],
    anchors: Anchors = NO_ANCHORS,
    start: int | None = None,
    stop: int | None = None,
) -> Iterator[tuple[int, int, Verification | None]]:
    """:func:`merge_chains` as ``(dispute id, entries, None or the broken chain)``, for the
    disputes with ``start <= id < stop`` (the anchored ones among them are expected)."""
    chains = groupby(rows, key=itemgetter(0))
    pending = next(chains, None)
    anchored = iter(_anchored_ids(anchors, start, stop))
    expected = next(anchored, None)

    def before(limit: int | None) -> Iterator[tuple[int, int, Verification | None]]:
        """The entries without a dispute and the anchored disputes that are gone, below
        ``limit`` (all when None), in id order."""
        nonlocal pending, expected
        while True:
            orphan_id = pending[0] if pending is not None else None
            if orphan_id is not None and (limit is None or orphan_id < limit):
                if expected is not None and expected <= orphan_id:
                    if expected < orphan_id:
                        yield expected, 0, _gone(anchors, expected)
                    expected = next(anchored, None)
                    continue
                assert pending is not None
                orphan = _orphan(orphan_id, list(pending[1]), anchors)
                pending = next(chains, None)
                if orphan is not None:
                    yield orphan.dispute_id, orphan.entries, orphan if not orphan.verified else None
            elif expected is not None and (limit is None or expected < limit):
                yield expected, 0, _gone(anchors, expected)
                expected = next(anchored, None)
            else:
                return

    for dispute_id, audit_seq, audit_head in heads:
        yield from before(dispute_id)
        if expected == dispute_id:
            expected = next(anchored, None)
        if pending is not None and pending[0] == dispute_id:
            chain = list(pending[1])
            pending = next(chains, None)
        else:
            chain = []
        broken = find_break(
            dispute_id,
            audit_seq,
            audit_head,
            chain,
            anchored=anchors.of(dispute_id),
            unkeyed_upto=anchors.unkeyed_upto(dispute_id),
        )
        if broken is None:
            yield dispute_id, len(chain), None
            continue
        # Confirm under the row lock: an append may have landed between the reads.
        confirmed = locked_verify(dispute_id, anchors)
        if confirmed is None:  # deleted meanwhile; nothing left to verify
            continue
        yield dispute_id, confirmed.entries, None if confirmed.verified else confirmed
    yield from before(None)


def _anchored_ids(anchors: Anchors, start: int | None, stop: int | None) -> list[int]:
    if not anchors.heads:
        return []
    return sorted(
        pk for pk in anchors.heads if (start is None or pk >= start) and (stop is None or pk < stop)
    )


def _gone(anchors: Anchors, dispute_id: int) -> Verification:
    anchor = anchors.heads[dispute_id]
    return Verification(
        dispute_id,
        False,
        0,
        1,
        f"its dispute does not exist, but checkpoint {anchor.checkpoint} anchored it "
        f"at entry {anchor.seq}",
    )


def _orphan(
    dispute_id: int, chain: list[EntryRow], anchors: Anchors = NO_ANCHORS
) -> Verification | None:
    confirmed = locked_verify(dispute_id, anchors)
    if confirmed is not None:
        return confirmed
    # The foreign key (PROTECT) keeps this from happening, unless it was bypassed.
    return Verification(dispute_id, False, len(chain), chain[0][1], "its dispute does not exist")


def verify_all(
    chunk_size: int = CHUNK_SIZE,
    *,
    start: int | None = None,
    stop: int | None = None,
    anchors: Anchors = NO_ANCHORS,
) -> Iterator[Verification]:
    """A verification per dispute with ``start <= id < stop`` (all when None), in id order,
    read through two cursors fetching ``chunk_size`` rows at a time, against the heads in
    ``anchors``."""
    for dispute_id, entries, broken in _scan(chunk_size, start, stop, anchors):
        yield broken or Verification(dispute_id, True, entries)


def _scan(
    chunk_size: int, start: int | None, stop: int | None, anchors: Anchors = NO_ANCHORS
) -> Iterator[tuple[int, int, Verification | None]]:
    heads = Dispute.objects.order_by("pk")
    entries = AuditEntry.objects.order_by("dispute_id", "seq")
    if start is not None:
        heads, entries = heads.filter(pk__gte=start), entries.filter(dispute_id__gte=start)
    if stop is not None:
        heads, entries = heads.filter(pk__lt=stop), entries.filter(dispute_id__lt=stop)
    # PostgreSQL streams a named cursor only inside a transaction: outside one Django
    # declares it WITH HOLD, which runs the whole query to the end before the first fetch.
    # (On SQLite, with its immediate transactions, one would take the write lock instead.)
    scan = transaction.atomic() if connection.vendor == "postgresql" else nullcontext()
    with scan:
        yield from _merge(
            stream_rows(heads.values_list("pk", "audit_seq", "audit_head"), chunk_size),
            stream_rows(entries.values_list(*ENTRY_FIELDS), chunk_size, json_at=PAYLOAD),
            anchors,
            start,
            stop,
        )


def stream_rows(rows: QuerySet[Any, Any], chunk_size: int, json_at: int = -1) -> Iterator[Any]:
    """The tuples of a ``values_list`` query through one cursor, as the ORM gives them.

    On PostgreSQL the query runs in a named cursor of its own whose values are those the
    ORM would give, at less cost: ``timestamptz`` through psycopg's own loader (an aware
    datetime in the session's time zone, UTC; Django's is a Python wrapper around it), and
    the ``jsonb`` column at ``json_at`` as text, then ``json.loads``, as the JSON field's
    ``from_db_value`` does it.
    """
    if connection.vendor != "postgresql":
        yield from rows.iterator(chunk_size=chunk_size)
        return
    sql, params = rows.query.get_compiler(using=rows.db).as_sql()
    with connection.chunked_cursor() as cursor:
        adapters = cursor.cursor.adapters
        adapters.register_loader("timestamptz", TimestamptzLoader)
        adapters.register_loader("jsonb", TextLoader)
        cursor.execute(sql, params)
        after = json_at + 1
        while chunk := cursor.fetchmany(chunk_size):
            if json_at < 0:
                yield from chunk
            else:
                for row in chunk:
                    yield (*row[:json_at], _load_json(row[json_at]), *row[after:])


_scan_json: Callable[[str, int], tuple[Any, int]] = JSONDecoder().scan_once  # type: ignore[attr-defined]


def _load_json(text: str) -> Any:
    """``json.loads(text)`` for the text of a ``jsonb`` value (no whitespace around it),
    without the Python layers around the C scanner."""
    try:
        value, end = _scan_json(text, 0)
    except StopIteration:
        return loads(text)  # raises the error json.loads would
    return value if end == len(text) else loads(text)


@dataclass
class Summary:
    """What :func:`verify_everything` found: counts, the broken chains in id order, and the
    time it took."""

    disputes: int = 0
    entries: int = 0
    broken: list[Verification] = field(default_factory=list)
    seconds: float = 0.0
    jobs: int = 1
    # The checkpoints read from the anchor storage, and what is wrong with them.
    checkpoints: int = 0
    anchored: int = 0
    anchor_problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> int:
        return self.disputes - len(self.broken)

    def anchored_by(self, anchors: Anchors) -> None:
        self.checkpoints = anchors.checkpoints
        self.anchored = len(anchors.heads)
        self.anchor_problems = list(anchors.problems)

    @property
    def entries_per_second(self) -> float:
        return self.entries / self.seconds if self.seconds > 0 else 0.0

    def add(self, result: Verification) -> None:
        self.disputes += 1
        self.entries += result.entries
        if not result.verified:
            self.broken.append(result)


@dataclass(frozen=True)
class Estimate:
    """The size of the audit log, from the dispute rows (their heads count the entries)."""

    disputes: int
    entries: int
    first_id: int | None
    last_id: int | None


def estimate() -> Estimate:
    totals = Dispute.objects.aggregate(
        disputes=Count("pk"), entries=Sum("audit_seq"), first=Min("pk"), last=Max("pk")
    )
    return Estimate(totals["disputes"], totals["entries"] or 0, totals["first"], totals["last"])


def id_ranges(size: Estimate, parts: int) -> list[tuple[int | None, int | None]]:
    """``parts`` disjoint ``[start, stop)`` ranges of dispute ids covering every id: the
    first is open below and the last above, so no entry escapes the scan."""
    if size.first_id is None or size.last_id is None or parts <= 1:
        return [(None, None)]
    first, span = size.first_id, size.last_id - size.first_id + 1
    parts = min(parts, span)
    bounds: list[int | None] = [first + span * i // parts for i in range(parts + 1)]
    bounds[0] = bounds[-1] = None
    return list(pairwise(bounds))


def cpu_count() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1  # pragma: no cover - not Linux


def can_use_processes() -> bool:
    """Worker processes read through connections of their own: they see only what has been
    committed, so not from inside a transaction, nor an in-memory SQLite database."""
    if connection.in_atomic_block:
        return False
    return connection.vendor != "sqlite" or not connection.is_in_memory_db()  # type: ignore[attr-defined]


def verify_everything(
    *,
    jobs: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress | None = None,
    size: Estimate | None = None,
    anchors: Anchors | None = None,
) -> Summary:
    """Verify every chain and return a :class:`Summary` (counts, broken chains, seconds).

    The checkpoints are read from the anchor storage first (``anchors``, when not given),
    and every chain is checked against its anchored head as well.

    ``jobs`` worker processes (default: one per CPU, and one for a small log) each scan
    disjoint id ranges; with ``jobs=1``, or where workers would not see this connection's
    data (:func:`can_use_processes`), the ranges are scanned here one after another.
    ``progress`` is called now and then with the disputes and entries verified since the
    last call.
    """
    begin = time.perf_counter()
    anchors = load_anchors() if anchors is None else anchors
    size = size or estimate()
    if jobs is None:
        jobs = cpu_count() if size.entries >= PARALLEL_FROM else 1
    jobs = max(jobs, 1)
    ranges = id_ranges(size, jobs * RANGES_PER_JOB if jobs > 1 else 1)
    summary = Summary(jobs=jobs)
    summary.anchored_by(anchors)
    if jobs > 1 and len(ranges) > 1 and can_use_processes():
        _verify_in_workers(summary, ranges, jobs, chunk_size, progress, anchors)
    else:
        summary.jobs = 1
        for start, stop in ranges:
            _verify_range(summary, start, stop, chunk_size, progress, anchors)
    summary.seconds = time.perf_counter() - begin
    return summary


# Report progress after this many disputes.
_PROGRESS_EVERY = 1000


def _verify_range(
    summary: Summary,
    start: int | None,
    stop: int | None,
    chunk_size: int,
    progress: Progress | None,
    anchors: Anchors = NO_ANCHORS,
) -> None:
    disputes = entries = 0
    for _, count, broken in _scan(chunk_size, start, stop, anchors):
        disputes += 1
        entries += count
        if broken is not None:
            summary.broken.append(broken)
        if disputes == _PROGRESS_EVERY:
            summary.disputes += disputes
            summary.entries += entries
            if progress is not None:
                progress(disputes, entries)
            disputes = entries = 0
    summary.disputes += disputes
    summary.entries += entries
    if progress is not None and disputes:
        progress(disputes, entries)


# --- worker processes ----------------------------------------------------------------------

# The counters a worker adds its progress to (set in each worker when the pool starts).
_counters: tuple[Any, Any] | None = None
# The anchored heads, set before the workers are forked (so they are not pickled to each).
_worker_anchors: Anchors = NO_ANCHORS


def _init_worker(disputes: Any, entries: Any) -> None:
    global _counters
    _counters = (disputes, entries)


def _add_progress(disputes: int, entries: int) -> None:
    assert _counters is not None
    for counter, value in zip(_counters, (disputes, entries), strict=True):
        with counter.get_lock():
            counter.value += value


def _worker(task: tuple[int | None, int | None, int]) -> Summary:
    start, stop, chunk_size = task
    summary = Summary()
    try:
        _verify_range(summary, start, stop, chunk_size, _add_progress, _worker_anchors)
    finally:
        connections.close_all()
    return summary


def _verify_in_workers(
    summary: Summary,
    ranges: list[tuple[int | None, int | None]],
    jobs: int,
    chunk_size: int,
    progress: Progress | None,
    anchors: Anchors = NO_ANCHORS,
) -> None:
    global _worker_anchors
    _worker_anchors = anchors
    # Forked workers start with this process's settings (and its test database, in the
    # tests); the connections are closed first so that none is shared with a child.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    disputes, entries = context.Value("q", 0), context.Value("q", 0)
    reported = [0, 0]

    def report() -> None:
        if progress is not None:
            now = [disputes.value, entries.value]
            if now != reported:
                progress(now[0] - reported[0], now[1] - reported[1])
                reported[:] = now

    tasks = [(start, stop, chunk_size) for start, stop in ranges]
    with context.Pool(jobs, initializer=_init_worker, initargs=(disputes, entries)) as pool:
        done = pool.map_async(_worker, tasks, chunksize=1)
        while not done.ready():
            done.wait(0.2)
            report()
        parts = done.get()  # in range order, so the broken chains come in id order
    _worker_anchors = NO_ANCHORS
    report()
    for part in parts:
        summary.disputes += part.disputes
        summary.entries += part.entries
        summary.broken.extend(part.broken)

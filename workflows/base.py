"""The frame every dispute use case runs in.

``locked_dispute`` opens the transaction, locks the dispute row (scoped to what the actor
may see, so an invisible dispute is "not found" in every entry point), resolves the
actor's roles and checks the optimistic version. The use case then checks its guards,
runs the django-fsm transition, records the audit entry, and ``finish`` saves the row,
all before the transaction commits.

The deadline sweeper runs the same use cases for many disputes in one transaction: inside
``batch(rows)`` (rows it locked together with ``SELECT ... FOR UPDATE SKIP LOCKED``)
``locked_dispute`` takes the locked row instead of querying it again, and the writes of
every dispute of the batch are flushed together at the end (see :class:`Batch`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateTimeField,
    Exists,
    Field,
    ForeignKey,
    IntegerField,
    Model,
    OuterRef,
    QuerySet,
    TextField,
    UUIDField,
    Value,
    When,
)
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

from mediation import audit, rollups
from mediation.actors import SYSTEM, Actor, Roles, SystemActor, roles_for
from mediation.errors import Conflict, NotFound, VersionConflict
from mediation.models import AuditEntry, Dispute, Offer, OfferStatus, OutboxEvent, State, Visibility
from mediation.selectors import disputes_for
from workflows import events, policy, relay

# Offers still on the table, which a transition away from the negotiation supersedes.
OPEN_OFFER_STATUSES = (OfferStatus.OPEN, OfferStatus.PENDING_APPROVAL)


@dataclass
class Context:
    dispute: Dispute
    actor: Actor
    roles: Roles
    now: datetime
    from_state: str = ""
    changed: bool = False
    audit_entries: list[Any] = field(default_factory=list)
    # Inside a batch: the batch, and the offers to supersede at its flush (status, when).
    batch: Batch | None = None
    superseded_offers: tuple[str, datetime] | None = None

    def record(
        self, action: str, payload: dict[str, Any] | None = None, *, internal: bool = False
    ) -> None:
        self.audit_entries.append(
            audit.record(
                self.dispute,
                actor=self.actor,
                roles=self.roles,
                action=action,
                from_state=self.from_state,
                payload=payload,
                visibility=Visibility.MEDIATORS if internal else Visibility.ALL,
                save=self.batch is None,
            )
        )

    @classmethod
    def begin(cls, dispute: Dispute, actor: Actor, *, batch: Batch | None = None) -> Context:
        """The context of a use case about to run on the locked ``dispute``."""
        return cls(
            dispute=dispute,
            actor=actor,
            roles=roles_for(actor, dispute),
            now=timezone.now(),
            from_state=dispute.state,
            batch=batch,
        )


@dataclass
class Result:
    """What a use case did; ``waiting_for_approval`` makes the API answer 202."""

    dispute: Dispute
    waiting_for_approval: bool = False
    created: Any = None


def lock(dispute_id: int, actor: Actor) -> Dispute:
    # The caller's membership is joined in the lock query: what they may do is decided on
    # what the database holds now.
    qs = disputes_for(actor, by_id=True).select_for_update(of=("self",))
    if isinstance(actor, SystemActor):
        # The system's use cases (deadlines, reminders, SLA flags) read no related row: a
        # lighter lock query keeps the deadline sweeper fast.
        qs = qs.select_related(None)
    try:
        dispute = qs.get(pk=int(dispute_id))
    except (Dispute.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such dispute.") from None
    return dispute


def _check_version(dispute: Dispute, expected_version: int | None) -> None:
    if expected_version is not None and dispute.version != expected_version:
        raise VersionConflict(
            f"The dispute is at version {dispute.version}, not {expected_version}: "
            "read it again and retry.",
            current_version=dispute.version,
        )


@contextmanager
def locked_dispute(
    dispute_id: int, actor: Actor, *, expected_version: int | None = None
) -> Iterator[Context]:
    current = _batch.get()
    row = current.row(dispute_id, actor) if current is not None else None
    if current is not None and row is not None:
        with current.use(row, actor, expected_version=expected_version) as ctx:
            yield ctx
        return
    with transaction.atomic():
        dispute = lock(dispute_id, actor)
        locked = dict(dispute.__dict__)
        _check_version(dispute, expected_version)
        ctx = Context.begin(dispute, actor)
        if not ctx.roles.can_see:
            raise NotFound("No such dispute.")
        yield ctx
        if ctx.changed:
            dispute.version += 1
        saved = ctx.changed or bool(ctx.audit_entries)
        if saved:
            try:
                # Only the columns the use case changed (and updated_at, auto_now).
                dispute.save(update_fields=changed_fields(dispute, locked))
            except IntegrityError:
                # The only constraint a dispute row can break on save: an appeal reopening
                # a dispute while a new one was raised on the same order.
                raise Conflict(
                    "Another dispute is open on this order.", code="dispute_already_open"
                ) from None
        # The events of the change, in its transaction: nothing is sent for a rollback.
        events.emit(ctx.audit_entries)
        if saved:
            # Last before the commit: the rollup rows are held locked the shortest time.
            # (A row that moved no count writes nothing.)
            rollups.disputes_changed([(locked, dispute.__dict__)])


def changed_fields(dispute: Dispute, locked: dict[str, Any]) -> list[str]:
    """The names of the dispute's columns that differ from the row as it was locked
    (``locked``: its ``__dict__`` then), and ``updated_at``, which every save sets."""
    return [
        f.name
        for f in Dispute._meta.concrete_fields
        if not f.primary_key
        and (f.name == "updated_at" or dispute.__dict__.get(f.attname) != locked.get(f.attname))
    ]


# --- Batches: the same use cases for many locked disputes, written together ----------------

_batch: ContextVar[Batch | None] = ContextVar("dispute_batch", default=None)


def lockable_for_system() -> QuerySet[Dispute]:
    """Dispute rows as :func:`lock` reads them for the system actor, plus whether the
    dispute has offers to supersede (``has_open_offers``), for locking a batch at once."""
    return (
        disputes_for(SYSTEM)
        .select_related(None)
        .annotate(
            has_open_offers=Exists(
                Offer.objects.filter(dispute_id=OuterRef("pk"), status__in=OPEN_OFFER_STATUSES)
            )
        )
        .select_for_update(skip_locked=True, of=("self",))
    )


def supersede_later(dispute: Dispute, *, status: str, now: datetime) -> bool:
    """Inside a batch, note that ``dispute``'s open offers get ``status`` at the flush
    (True); outside one, False: the caller updates them now."""
    current = _batch.get()
    ctx = current.current if current is not None else None
    if ctx is None or ctx.dispute is not dispute:
        return False
    if ctx.superseded_offers is None:
        ctx.superseded_offers = (status, now)
    return True


class Batch:
    """The system's use cases over disputes locked together, in the caller's transaction.

    For each dispute the use case runs as always (roles, guards, the fsm transition, the
    audit entry with its hash chained to the row's head, the version bump), on the row
    the batch locked. What it writes is kept: the batch's dispute rows go out in one
    UPDATE, its audit entries and outbox rows in one INSERT each, superseded offers in one
    UPDATE per status, and the relay is kicked once. A use case that raises leaves
    nothing: its dispute is put back as it was before the call and its writes dropped.
    Hence only use cases that write through their context (the dispute row, ``record``,
    superseded offers) belong in a batch: the sweeper's, which no human action joins.
    """

    def __init__(self, rows: Iterable[Dispute]) -> None:
        self.rows: dict[int, Dispute] = {d.pk: d for d in rows}
        # The rows as locked, to write only the columns the use cases changed.
        self.locked: dict[int, dict[str, Any]] = {
            pk: dict(d.__dict__) for pk, d in self.rows.items()
        }
        self.dirty: dict[int, Dispute] = {}
        self.entries: list[AuditEntry] = []
        self.offers: dict[int, tuple[str, datetime]] = {}
        self.current: Context | None = None
        # policy.duration per (state, reason), read once per batch (a cache hit each time
        # otherwise, a round trip to Redis in production).
        self.durations: dict[tuple[str, str], Any] = {}

    def row(self, dispute_id: int, actor: Actor) -> Dispute | None:
        if not isinstance(actor, SystemActor):
            return None
        try:
            return self.rows.get(int(dispute_id))
        except (TypeError, ValueError):
            return None

    @contextmanager
    def use(
        self, dispute: Dispute, actor: Actor, *, expected_version: int | None = None
    ) -> Iterator[Context]:
        before = dict(dispute.__dict__)
        ctx = Context.begin(dispute, actor, batch=self)
        self.current = ctx
        try:
            _check_version(dispute, expected_version)
            yield ctx
        except BaseException:
            # Undo what the use case did to the row before it refused or failed.
            dispute.__dict__.clear()
            dispute.__dict__.update(before)
            raise
        finally:
            self.current = None
        if ctx.changed:
            dispute.version += 1
        if ctx.changed or ctx.audit_entries:
            self.dirty[dispute.pk] = dispute
        self.entries.extend(ctx.audit_entries)
        if ctx.superseded_offers is not None:
            self.offers.setdefault(dispute.pk, ctx.superseded_offers)

    def flush(self) -> None:
        """Write what the batch's use cases did (the caller's transaction commits it)."""
        self._supersede_offers()
        self._update_disputes()
        rollups.disputes_changed((self.locked[pk], d.__dict__) for pk, d in self.dirty.items())
        if self.entries:
            insert_many(AuditEntry, self.entries)
            # The events of every entry (events.emit's rows) in one INSERT, and one relay
            # kick after commit for the batch.
            insert_many(OutboxEvent, events.outbox_rows(self.entries))
            relay.relay_soon()

    def _supersede_offers(self) -> None:
        by_status: dict[str, dict[int, datetime]] = {}
        for pk, (status, at) in self.offers.items():
            by_status.setdefault(status, {})[pk] = at
        for status, decided in by_status.items():
            Offer.objects.filter(
                dispute_id__in=list(decided), status__in=OPEN_OFFER_STATUSES
            ).update(
                status=status,
                decided_at=Case(
                    *[When(dispute_id=pk, then=Value(at)) for pk, at in decided.items()],
                    output_field=DateTimeField(),
                ),
            )

    def _update_disputes(self) -> None:
        if not self.dirty:
            return
        now = timezone.now()
        rows = list(self.dirty.values())
        changed = {name for d in rows for name in changed_fields(d, self.locked[d.pk])}
        fields = [f for f in Dispute._meta.concrete_fields if f.name in changed]
        for d in rows:
            d.updated_at = now  # auto_now, as save() would
        if connection.vendor != "postgresql":
            Dispute.objects.bulk_update(rows, [f.name for f in fields])
            return
        # UPDATE ... FROM (VALUES ...): one statement for the batch's rows.
        qn = connection.ops.quote_name
        pk = Dispute._meta.pk
        assert pk is not None
        columns = [qn(str(pk.column))] + [qn(str(f.column)) for f in fields]
        types = [pk.rel_db_type(connection)] + [f.db_type(connection) for f in fields]
        row_sql = "(" + ", ".join(f"%s::{t}" for t in types) + ")"
        params: list[Any] = []
        for d in rows:
            params.append(d.pk)
            params.extend(_values(d, fields))
        sets = ", ".join(f"{c} = v.{c}" for c in columns[1:])
        table = qn(Dispute._meta.db_table)
        sql = (
            f"UPDATE {table} SET {sets} FROM (VALUES {', '.join([row_sql] * len(rows))}) "
            f"AS v({', '.join(columns)}) WHERE {table}.{columns[0]} = v.{columns[0]}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


# Field types whose Python values the driver takes as they are (no get_db_prep_save).
_PLAIN = (CharField, TextField, IntegerField, BooleanField, DateTimeField, UUIDField, ForeignKey)


def _converter(f: Field[Any, Any]) -> Any:
    return None if isinstance(f, _PLAIN) else f.get_db_prep_save


def _values(obj: Model, fields: list[Field[Any, Any]]) -> list[Any]:
    values = [obj.__dict__[f.attname] for f in fields]
    for i, f in enumerate(fields):
        convert = _converter(f)
        if convert is not None:
            values[i] = convert(values[i], connection)
    return values


def insert_many(model: type[Model], objs: list[Any]) -> None:
    """``bulk_create`` for a batch on PostgreSQL, in one statement with as few parameters
    as it takes: ``INSERT ... SELECT`` from ``VALUES`` rows that carry only the columns
    whose values differ between ``objs``, the others (a batch's actor, action, states ...)
    bound once. Sets the primary keys the database gave. Like ``bulk_create`` it sends no
    signal; unlike it, it calls no ``pre_save`` (``auto_now``): the objects carry every
    value (audit entries and outbox rows do)."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs)
        return
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    generated = isinstance(pk, AutoFieldMixin)
    fields = [f for f in meta.concrete_fields if not (generated and f.primary_key)]
    for obj in objs:
        for f in fields:
            if f.attname not in obj.__dict__ or (f.primary_key and obj.pk is None):
                setattr(obj, f.attname, f.get_default())
    first = objs[0].__dict__
    same = [
        f
        for f in fields
        if not f.primary_key and all(o.__dict__[f.attname] == first[f.attname] for o in objs)
    ]
    varying = [f for f in fields if f not in same]
    if not varying:  # a single row: VALUES needs a column
        varying.append(same.pop(0))
    qn = connection.ops.quote_name

    def cast(f: Field[Any, Any]) -> str:
        return f"%s::{f.db_type(connection)}"

    row_sql = "(" + ", ".join(cast(f) for f in varying) + ")"
    columns = ", ".join(qn(str(f.column)) for f in varying + same)
    selected = ", ".join([f"v.{qn(str(f.column))}" for f in varying] + [cast(f) for f in same])
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({columns}) SELECT {selected} "
        f"FROM (VALUES {', '.join([row_sql] * len(objs))}) "
        f"AS v({', '.join(qn(str(f.column)) for f in varying)})"
    )
    if generated:
        sql += f" RETURNING {qn(str(pk.column))}"
    # In the order of the placeholders: the shared values (SELECT list), then the rows.
    params = _values(objs[0], same)
    params += [value for obj in objs for value in _values(obj, varying)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if generated:
            for obj, (key,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = key
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


@contextmanager
def batch(rows: Iterable[Dispute]) -> Iterator[Batch]:
    """Run use cases on ``rows`` (locked by the caller, e.g. with :func:`lockable_for_system`,
    in the transaction that is open) and flush their writes when the block ends normally."""
    current = Batch(rows)
    token = _batch.set(current)
    try:
        yield current
    finally:
        _batch.reset(token)
    current.flush()


def deadline_for(
    state: str,
    now: datetime,
    *,
    reason: str = "",
    override: datetime | None = None,
    memo: dict[tuple[str, str], Any] | None = None,
) -> datetime | None:
    """``respond_by`` on entering ``state`` (DESIGN §4 deadline column): from the deadline
    policy table (cached, no query per transition), per reason, defaulting to settings.
    ``memo`` keeps the durations already read (a batch's)."""
    if state == State.CLOSED:
        return None
    if override is not None:
        return override
    if memo is None:
        delta = policy.duration(state, reason)
    elif (state, reason) in memo:
        delta = memo[state, reason]
    else:
        delta = memo[state, reason] = policy.duration(state, reason)
    return now + delta if delta else None


def enter(ctx: Context, *, respond_by: datetime | None = None) -> None:
    """Bookkeeping after a transition method moved the state."""
    dispute = ctx.dispute
    dispute.respond_by = deadline_for(
        dispute.state,
        ctx.now,
        reason=dispute.reason,
        override=respond_by,
        memo=ctx.batch.durations if ctx.batch is not None else None,
    )
    if dispute.state == State.CLOSED:
        dispute.closed_at = ctx.now
        # The parties are asked to rate the handling a while after, once per dispute.
        after = settings.MEDIATION_FEEDBACK_REMINDER_AFTER
        if after and dispute.feedback_reminded_at is None:
            dispute.feedback_due_at = ctx.now + after
    elif dispute.feedback_due_at is not None:
        dispute.feedback_due_at = None  # reopened (an appeal) before the reminder went out
    ctx.changed = True

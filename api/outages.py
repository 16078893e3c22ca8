"""Dependencies that stop answering: what counts as the database being unavailable, and a log
of each outage that says it once, not once per request.

During an outage every request meets it: a line (or a traceback) per request would bury
the one line that matters. :class:`Outage` logs when it starts, then at most once a minute
while it lasts (with how many operations were answered without the dependency), and once when
it ends. The API's error handler and the console's middleware use :data:`DATABASE`; the
fail-open cache (config/cache.py) keeps one per cache location.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.db.backends.signals import connection_created
from django.db.utils import InterfaceError, OperationalError
from django.dispatch import receiver

logger = logging.getLogger(__name__)

# Seconds between two log lines about the same outage.
LOG_EVERY_SECONDS = 60.0


class Outage:
    """One dependency's outage in this process, shared by its threads.

    ``consequence`` says what the service does meanwhile (the first line's end); ``pause``:
    after a failure, :meth:`paused` is true for that many seconds, so that a dependency that
    hangs instead of refusing is not waited for on every operation.
    """

    def __init__(
        self,
        what: str,
        consequence: str,
        *,
        level: int = logging.WARNING,
        unit: str = "operations",
        pause: float = 0.0,
        log: logging.Logger = logger,
    ) -> None:
        self.what = what
        self.consequence = consequence
        self.level = level
        self.unit = unit
        self.pause = pause
        self.log = log
        self.lock = threading.Lock()
        self.since: float | None = None
        self.count = 0
        self.retry_at = 0.0
        self.logged_at = 0.0

    def paused(self) -> bool:
        """Still within the pause after a failure (the operation is answered without it)."""
        if self.retry_at > time.monotonic():
            with self.lock:
                self.count += 1
            return True
        return False

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        with self.lock:
            self.retry_at = now + self.pause
            self.count += 1
            starting = self.since is None
            if starting:
                self.since = now
            elif now - self.logged_at < LOG_EVERY_SECONDS:
                return
            self.logged_at = now
            count, lasted = self.count, now - (self.since or now)
        if starting:
            self.log.log(
                self.level, "%s is unavailable (%s): %s.", self.what, reason(exc), self.consequence
            )
        else:
            self.log.log(
                self.level,
                "%s is still unavailable after %.0f s (%s): %d %s answered without it so far.",
                self.what,
                lasted,
                reason(exc),
                count,
                self.unit,
            )

    def answered(self) -> None:
        """It answered: ends the outage, if there was one (cheap when there was none)."""
        if self.since is None:
            return
        with self.lock:
            if self.since is None:
                return
            lasted, count = time.monotonic() - self.since, self.count
            self.since, self.count, self.retry_at, self.logged_at = None, 0, 0.0, 0.0
        self.log.warning(
            "%s answers again after %.0f s; %d %s were answered without it.",
            self.what,
            lasted,
            count,
            self.unit,
        )


def reason(exc: BaseException) -> str:
    """The error's type and first line (drivers add hints on the lines after)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# PostgreSQL SQLSTATEs of a server that is not there for us: class 08 (connection exception),
# shutting down or starting up (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot
# connect now) and no connection slot left (53300). A deadlock, a serialization failure, a
# lock or statement time-out are OperationalErrors too, but of a database that answers.
_PG_UNAVAILABLE = ("57P01", "57P02", "57P03", "53300")
# SQLite's primary result codes for a file that is locked past the busy timeout, cannot be
# opened, or cannot be read or written: SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_CANTOPEN.
_SQLITE_UNAVAILABLE = {5, 6, 10, 14}


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached (or used at all) right now, as
    opposed to a query it refused: Django's InterfaceError (a connection already closed), or
    an OperationalError whose driver error is a connection failure. psycopg's errors without
    a SQLSTATE are the client's own (connection refused, server closed the connection)."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause: Any = exc.__cause__
    if hasattr(cause, "sqlite_errorcode"):
        return (cause.sqlite_errorcode & 0xFF) in _SQLITE_UNAVAILABLE
    if hasattr(cause, "sqlstate"):
        state = cause.sqlstate
        return state is None or state.startswith("08") or state in _PG_UNAVAILABLE
    return False


DATABASE = Outage(
    "The database",
    "answering 503 database_unavailable with Retry-After until it answers again",
    level=logging.ERROR,
    unit="requests",
)


@receiver(connection_created, dispatch_uid="database-outage-ended")
def _connected(**kwargs: object) -> None:
    """A new connection was made: the database answers (again)."""
    DATABASE.answered()

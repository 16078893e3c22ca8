"""The Celery broker on local files (the embedded default, ``make run``): kombu's
filesystem transport, with each message written whole before a worker can see it.

kombu's ``filesystem`` transport (5.7) creates a message's file under its final name and
then writes the body; a worker listing the folder in between moves the file away, reads
it empty and stops with ``Unrecoverable error: JSONDecodeError`` (kombu issue #1551 is the
same symptom). Here the body goes to a hidden file in the same folder first and is renamed
into place, which on one filesystem is atomic: the worker finds either nothing or the
whole message. A hidden name (``.<uuid>.part``) is never taken for a queue's message,
whose name ends in ``.<queue>.msg``.

:func:`install` (called by config.celery, before any connection) makes it what
``filesystem://`` means in every process of the service; Redis in deployment is unaffected.
"""

from __future__ import annotations

import os
import uuid
from contextlib import suppress
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    # kombu's two base classes name the second argument differently (message, payload).
    def _put(self, queue: Any, message: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Put ``message`` on ``queue``: written to a hidden file, then renamed to the name
        kombu's reader looks for (milliseconds first, so messages are taken in order)."""
        folder = self.data_folder_out
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        partial = os.path.join(folder, f".{uuid.uuid4()}.part")
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(message)))
            os.replace(partial, os.path.join(folder, name))
        except OSError as exc:
            with suppress(OSError):
                os.unlink(partial)
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


def install() -> None:
    """``filesystem://`` (kombu's alias) names :class:`Transport` from now on."""
    TRANSPORT_ALIASES["filesystem"] = f"{__name__}:Transport"

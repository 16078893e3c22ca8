"""Real dependencies to take away in the middle of a test.

Ports come from 8500-8599, picked at random among the free ones, so that parallel workers
(pytest-xdist) and other local servers do not collide.
"""

from __future__ import annotations

import random
import socket

PORTS = range(8500, 8600)


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now."""
    for port in random.sample(PORTS, len(PORTS)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8500-8599")

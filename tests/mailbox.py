"""What the workers do after a change commits, in the test's own process: the outbox relay
hands every pending event to its consumers, then the sender sends the emails they wrote
(``django.core.mail.outbox`` collects them under the test settings)."""

from __future__ import annotations

from notifications import sender
from workflows import relay


def relay_all() -> None:
    """Relay every pending event and send every email that is due."""
    while relay.relay_pending().relayed:
        pass
    send_all()


def send_all() -> sender.SendReport:
    """Send every email that is due now (those scheduled for a retry stay); the total."""
    total = sender.SendReport()
    while True:
        report = sender.send_due()
        if not (report.sent or report.retrying or report.failed):
            return total
        total.sent += report.sent
        total.retrying += report.retrying
        total.failed += report.failed

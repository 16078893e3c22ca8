from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.seed import PASSWORD, reset, seed


class Command(BaseCommand):
    help = (
        "Create the demo users, shops, orders and disputes (idempotent). With --reset, erase "
        "everything the service stored first and seed anew: the initial demo state."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help=(
                "Erase every dispute, message, audit entry and checkpoint, outbox event, "
                "notification, webhook, order, user, token and uploaded file, then seed the "
                "demo data again (same ids as a first seed). Asks first unless --noinput."
            ),
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask before --reset erases the data.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["reset"]:
            counts = seed()
            self._ready(counts)
            return
        if options["interactive"]:
            answer = input(
                "This erases every dispute, order, user and token in the database (users "
                "you created too), the uploaded evidence and the signed audit checkpoints, "
                "and seeds the demo data anew.\nType 'yes' to go on: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Reset cancelled: nothing was changed.")
        done = reset()
        self.stdout.write(
            f"Erased {done.tables} tables, {done.files} uploaded files and "
            f"{done.checkpoints} audit checkpoints."
        )
        self._ready(done.counts)

    def _ready(self, counts: dict[str, int]) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {counts['users']} users (password {PASSWORD}), "
                f"{counts['orders']} orders, {counts['disputes']} disputes."
            )
        )

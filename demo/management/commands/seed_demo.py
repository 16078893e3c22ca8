from django.core.management.base import BaseCommand

from demo.seed import PASSWORD, seed


class Command(BaseCommand):
    help = "Create the demo users, shops, orders and disputes (idempotent)."

    def handle(self, *args, **options):
        counts = seed()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {counts['users']} users (password {PASSWORD}), "
                f"{counts['orders']} orders, {counts['disputes']} disputes."
            )
        )

"""``python manage.py create_api_key --integration Storefront``: an API key for the
platform's integration (the marketplace's backend), printed once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from mediation.actors import SYSTEM
from mediation.errors import DomainError
from mediation.models import IntegrationAccount
from workflows.credentials import create_platform_key


class Command(BaseCommand):
    help = (
        "Create an API key for the platform's integration account and print it (once: only "
        "its digest is stored). The integration sends it as 'Authorization: Bearer <key>'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--integration", required=True, help="The account's name.")
        parser.add_argument("--name", default="", help="What the key is for (default: api).")
        parser.add_argument(
            "--create",
            action="store_true",
            help="Create the integration account (and its user) when there is none by that name.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["integration"].strip()
        with transaction.atomic():
            account = IntegrationAccount.objects.filter(name=name).select_related("user").first()
            if account is None:
                if not options["create"]:
                    raise CommandError(
                        f"No integration account named {name!r} (add --create to make one)."
                    )
                username = f"integration-{name.lower().replace(' ', '-')}"[:150]
                user = get_user_model()(username=username, first_name=name[:150])
                user.set_unusable_password()
                user.save()
                account = IntegrationAccount.objects.create(user=user, name=name)
            try:
                api_key, key = create_platform_key(
                    account=account, name=options["name"] or "api", actor=SYSTEM
                )
            except DomainError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"API key {api_key.prefix} for {account.name}: {key}\n"
            "Keep it now: it is not shown again. Send it as 'Authorization: Bearer <key>'."
        )

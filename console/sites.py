"""The admin site as the mediator console: open to mediators and superusers only.

Django's admin lets in ``is_staff`` users; the console lets in the people DESIGN §2 names:
users with an active mediator profile, and superusers (who manage the reference data).
A staff flag alone opens nothing. Installed in place of ``django.contrib.admin`` through
``console.apps.ConsoleAdminConfig``, so ``admin.site`` and ``@admin.register``
work unchanged.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from console.queue import my_work
from mediation.actors import mediator_profile


def may_use_console(user: Any) -> bool:
    """Active users with an active mediator profile, and active superusers."""
    if not getattr(user, "is_active", False) or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser) or mediator_profile(user) is not None


class ConsoleLoginForm(AdminAuthenticationForm):
    """The console's login. A buyer, a seller or an integration that signs in with their
    own, right password is told what the console is, not that the password is wrong
    (they know it is right, and would try again or reset it); a wrong password reads as
    Django's, whoever the account is."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "not_a_mediator": (
            "This console is for the marketplace's mediators. Buyers and sellers follow "
            "their disputes on the marketplace's site, or through the API."
        ),
    }

    def confirm_login_allowed(self, user: Any) -> None:
        AuthenticationForm.confirm_login_allowed(self, user)
        if not may_use_console(user):
            raise ValidationError(self.error_messages["not_a_mediator"], code="not_a_mediator")


class ConsoleSite(admin.AdminSite):
    site_header = "Dispute mediation console"
    site_title = "Mediation console"
    index_title = "My work"
    # The home page: the mediator's own work (console.queue.my_work), the insights (the
    # dashboard, the state machine), then the reference data.
    index_template = "admin/console_index.html"
    login_form = ConsoleLoginForm
    # No "View site": the storefront is the marketplace's, not the console's.
    site_url = None

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        return super().index(request, {"my_work": my_work(request.user), **(extra_context or {})})

    def has_permission(self, request: HttpRequest) -> bool:
        return may_use_console(request.user)

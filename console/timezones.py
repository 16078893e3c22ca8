"""Each mediator's time zone in the console (issue: "time is unambiguous").

Times are stored in UTC. In the console they are shown, and typed times are read, in the
mediator's chosen zone (``MediatorProfile.time_zone``), or the marketplace's
(``settings.TIME_ZONE``) when they chose none; every time shown carries the zone's name
(config/formats: ``2026-12-04 19:16 CET``). :class:`ConsoleTimeZoneMiddleware` activates the
zone for the console's pages only: the API sends ISO 8601 with offsets and is left alone.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone

from mediation.actors import mediator_profile


@lru_cache(maxsize=1)
def zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def zone_of(user: Any) -> str:
    """The mediator's zone, or the marketplace's."""
    profile = mediator_profile(user)
    chosen = profile.time_zone if profile is not None else ""
    return chosen if chosen in zoneinfo.available_timezones() else settings.TIME_ZONE


def _console_prefix() -> str | None:
    """The console's path, in the request's URLconf (a URLconf without the console, such as
    the benchmarks' bare server, has none)."""
    try:
        return reverse("admin:index")
    except NoReverseMatch:
        return None


class ConsoleTimeZoneMiddleware:
    """For requests under the console's prefix by a signed-in user: their zone, for the
    response's rendering and for the forms it reads."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        prefix = _console_prefix()
        if prefix is None or not request.path.startswith(prefix):
            return self.get_response(request)
        try:
            user = getattr(request, "user", None)
            zone = zone_of(user) if getattr(user, "is_authenticated", False) else None
        except DatabaseError:
            # The session or the user could not be read: the view meets the same error and
            # answers it (503 database_unavailable), which a middleware's error would not.
            zone = None
        if zone is None:
            return self.get_response(request)
        timezone.activate(zoneinfo.ZoneInfo(zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Time zone",
        help_text="The console shows every time in this zone, and reads the times you type in it.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        default = f"The marketplace's ({settings.TIME_ZONE})"
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", default), *((name, name) for name in zone_names())]
        field.required = False


def shown(value: datetime) -> str:
    """A time as the console shows it: in the active zone, with the zone's name."""
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def zone_label() -> str:
    """The active zone as a mediator reads it: ``Europe/Berlin (CET)``."""
    now = timezone.localtime()
    return f"{timezone.get_current_timezone_name()} ({now.strftime('%Z')})"


def preferences_view(request: HttpRequest) -> HttpResponse:
    """``/admin/preferences/``: the mediator's own settings (their time zone)."""
    from django.contrib import admin

    profile = mediator_profile(request.user)
    if profile is None:
        raise PermissionDenied("Only mediators keep settings here.")
    if request.method == "POST":
        form = TimeZoneForm(request.POST)
        if form.is_valid():
            profile.time_zone = form.cleaned_data["time_zone"]
            profile.save(update_fields=["time_zone"])
            timezone.activate(zoneinfo.ZoneInfo(zone_of(request.user)))
            messages.success(request, f"Times are now shown in {zone_label()}.")
            return HttpResponseRedirect(reverse("console-preferences"))
    else:
        form = TimeZoneForm(initial={"time_zone": profile.time_zone})
    context = {
        **admin.site.each_context(request),
        "title": "My settings",
        "form": form,
        "zone": zone_label(),
        "marketplace_zone": settings.TIME_ZONE,
    }
    return TemplateResponse(request, "admin/console/preferences.html", context)

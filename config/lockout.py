"""The answer to a login refused by the lockout (django-axes' ``AXES_LOCKOUT_CALLABLE``):
problem+json on the API, a page in the console; 429 with ``Retry-After`` on both."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse

from api.errors import PROBLEM, problem

STATUS = 429


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    minutes = max(1, round(seconds / 60))
    detail = (
        "Too many failed logins for this account or from this address. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )
    headers = {"Retry-After": str(seconds)} if seconds else {}
    if request.path.startswith("/api/"):
        body = problem(
            STATUS,
            "too_many_attempts",
            "Too many failed logins",
            detail,
            request.get_full_path(),
            retry_after=seconds,
        )
        return JsonResponse(body, status=STATUS, content_type=PROBLEM, headers=headers)
    response = TemplateResponse(
        request,
        "admin/lockout.html",
        {
            **admin.site.each_context(request),
            "title": "Too many failed logins",
            "detail": detail,
            "minutes": minutes,
        },
        status=STATUS,
        headers=headers,
    )
    return response.render()

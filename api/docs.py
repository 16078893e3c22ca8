"""The API docs served from the service's own files only (no CDN, so they work offline and
under a Content-Security-Policy of 'self').

drf-spectacular's sidecar ships Swagger UI and Redoc as static files. Redoc's bundle still
asks one thing of a CDN: the Redocly logo of its footer ("API docs by Redocly",
``https://cdn.redoc.ly/redoc/logo-mini.svg``), which no option turns off. The Redoc page
loads the bundle from :func:`redoc_bundle` instead, the sidecar's file with that address
pointing at a static file of ours.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.templatetags.static import static
from django.urls import reverse
from drf_spectacular.views import SpectacularRedocView

REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
LOCAL_LOGO = "api/docs-logo.svg"
SOURCE_MAP = "\n//# sourceMappingURL=redoc.standalone.js.map"


@cache
def _bundle() -> tuple[bytes, str]:
    """The bundle with its logo and source map at the service's own addresses, and its ETag."""
    path = finders.find(REDOC_BUNDLE)
    if not path or not isinstance(path, str):
        raise RuntimeError(
            f"{REDOC_BUNDLE} is not among the static files (drf-spectacular-sidecar)"
        )
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if REDOCLY_LOGO not in text:
        # A new Redoc that moved the logo: the docs test names what it loads now.
        raise RuntimeError(f"{REDOC_BUNDLE} no longer names {REDOCLY_LOGO}")
    text = text.replace(REDOCLY_LOGO, static(LOCAL_LOGO))
    text = text.replace(SOURCE_MAP, f"\n//# sourceMappingURL={static(REDOC_BUNDLE)}.map")
    body = text.encode("utf-8")
    return body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def redoc_bundle(request: HttpRequest) -> HttpResponse:
    body, etag = _bundle()
    if request.headers.get("If-None-Match") == etag:
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    # Changes only with the installed sidecar: a day in the browser, then revalidated.
    response["Cache-Control"] = "public, max-age=86400"
    return response


class RedocView(SpectacularRedocView):
    """Redoc with the bundle of :func:`redoc_bundle`."""

    template_name = "api/redoc.html"

    @staticmethod
    def _redoc_standalone() -> Any:
        return reverse("redoc-bundle")

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic.base import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.docs import RedocView, redoc_bundle
from api.health import ready
from api.views import health
from config.metrics import metrics_view

handler400 = "api.errors.bad_request_view"
handler403 = "api.errors.permission_denied_view"
handler404 = "api.errors.not_found_view"
handler500 = "api.errors.server_error_view"

urlpatterns = [
    path("healthz", health, name="healthz"),
    path("readyz", ready, name="readyz"),
    # For Prometheus, behind METRICS_TOKEN (config/metrics.py).
    path("metrics", metrics_view, name="metrics"),
    # Browsers ask every site for /favicon.ico; the console's icon is a static file.
    path(
        "favicon.ico",
        RedirectView.as_view(url=f"{settings.STATIC_URL}mediation/favicon.svg", permanent=True),
    ),
    # Console pages of our own, before the admin's catch-all.
    path("admin/", include("console.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    # The parties' email links while no storefront is configured (demo/pages.py).
    path("", include("demo.urls")),
    path("api/v1/", include("webhooks.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's start-up script as a file of its own (?script), not inline: the
    # Content-Security-Policy allows scripts from the service only.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    # Redoc's bundle with its footer logo served here, not from Redocly's CDN (api/docs.py).
    path("api/redoc/redoc.standalone.js", redoc_bundle, name="redoc-bundle"),
]

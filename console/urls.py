"""The console's pages of its own, routed before the admin's catch-all (config/urls.py)."""

from django.contrib import admin
from django.urls import path

from console import dashboard, timezones

urlpatterns = [
    path(
        "dashboard/",
        admin.site.admin_view(dashboard.dashboard_view),
        name="console-dashboard",
    ),
    path(
        "state-machine/",
        admin.site.admin_view(dashboard.state_machine_view),
        name="console-state-machine",
    ),
    path(
        "preferences/",
        admin.site.admin_view(timezones.preferences_view),
        name="console-preferences",
    ),
]

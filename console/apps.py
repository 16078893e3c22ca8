"""The mediator console: Django's admin site, open to mediators and superusers only.

Two app configs: ``ConsoleConfig`` is the console's own app (its model admins, case view,
dashboard, templates and static files); ``ConsoleAdminConfig`` installs Django's admin
with the console's site (:class:`console.sites.ConsoleSite`) as ``admin.site``, so
``@admin.register`` works unchanged. INSTALLED_APPS imports this module before the models
load, so it imports neither.
"""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class ConsoleAdminConfig(AdminConfig):
    default_site = "console.sites.ConsoleSite"


class ConsoleConfig(AppConfig):
    default = True
    name = "console"
    verbose_name = "Mediator console"

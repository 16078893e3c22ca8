"""Django's admin, installed with the mediator console's site (``console_site.ConsoleSite``).

Kept apart from the site itself: INSTALLED_APPS imports this module before the models load.
"""

from django.contrib.admin.apps import AdminConfig


class ConsoleAdminConfig(AdminConfig):
    default_site = "mediation.console_site.ConsoleSite"

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data, the console tour and its screenshots, and ``manage.py serve`` (the
    embedded default's web, worker and beat in one command): it uses every layer below."""

    name = "demo"
    verbose_name = "Demo"

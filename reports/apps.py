from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """What the lifecycle's records say, read and never written: the timeline, the case
    file for a payment processor, the dashboard's statistics and the state diagram. The
    API and the console present them (``api.views``, ``api.case_file``, ``api.stats``,
    ``console.case``, ``console.dashboard``)."""

    name = "reports"
    verbose_name = "Reports"

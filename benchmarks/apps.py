from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """The ``make bench-*`` measurements, as management commands (``bench_sweep``,
    ``bench_stats``, ``bench_upload``); nothing of the product imports them."""

    name = "benchmarks"
    verbose_name = "Benchmarks"

from django.apps import AppConfig


class BareConfig(AppConfig):
    """The bare baseline's models (unmanaged views of the product's tables)."""

    name = "benchmarks.bare"
    label = "bare"
    verbose_name = "Bare DRF baseline"

"""The bare DRF baseline of ``make bench-api``: the same database, tables and token auth as
the product, none of its work (see :mod:`benchmarks.bare.views`). Run on its own settings,
``benchmarks.bare.settings``; nothing of the product imports it."""

"""Sweeps: grids of configurations run on Dask's ``distributed``, resumable, merged into a table.

- :mod:`reports.sweep.spec`: a sweep (a task ``"module:function"``, a base ``Config`` and the
  axes to vary) from a TOML/JSON file or a named preset, expanded into points;
- :mod:`reports.sweep.engine`: one results file per (configuration, seed) under a content key,
  the batching of the seeds of one configuration into one task, the executor (in-process, an
  embedded ``LocalCluster`` or a scheduler address) and the progress line;
- :mod:`reports.sweep.table`: the merged table (JSON, CSV) and its figures.
"""

"""Sweeps: grids of configurations run on Dask's ``distributed``, resumable, merged into a table.

- :mod:`reports.sweep.spec`: a sweep (a task ``"module:function"``, a base ``Config`` and the
  axes to vary) from a TOML/JSON file or a named preset, expanded into points;
- :mod:`reports.sweep.engine`: one results file per (configuration, seed) under a content key,
  the batching of the seeds of one configuration into one task, the executor (in-process, or
  Dask through :mod:`reports.cluster`, the report's path too: an embedded ``LocalCluster`` or a
  scheduler address); its progress is printed by :class:`numerics.progress.Console`;
- :mod:`reports.sweep.table`: the merged table (JSON, CSV) and its figures.
"""

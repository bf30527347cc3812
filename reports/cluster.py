"""The one Dask path of reports and sweeps: a client, and tasks handed out in order.

:func:`connect` gives a ``distributed.Client``: of a running scheduler (``--scheduler
ADDRESS``), or of an embedded ``LocalCluster`` of single-threaded worker processes (default: one
per core).  :func:`completed` submits calls to its workers in order, one per worker thread at a
time (Dask would otherwise queue them on workers at once, and a long one could wait behind
another while a worker idles), and yields each as it completes.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from theory.errors import ConfigError


@contextlib.contextmanager
def connect(scheduler: str | None = None, workers: int | None = None
            ) -> Iterator[tuple[Any, str]]:
    """A client of the running ``scheduler``, or else of an embedded LocalCluster of ``workers``
    single-threaded worker processes (default: one per core), and where it runs in words."""
    import distributed  # third party, heavy: only for a run on Dask

    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise ConfigError("scheduler", scheduler, f"cannot connect ({exc})") from None
        with client:
            count = len(client.scheduler_info().get("workers", {}))
            yield client, f"the scheduler {scheduler} ({count} workers)"
        return
    count = workers or len(os.sched_getaffinity(0))
    import dask

    # Dask puts MALLOC_TRIM_THRESHOLD_=65536 in its workers' environment, which turns off glibc's
    # dynamic mmap threshold: every large temporary is then a fresh mmap, and the convolutional
    # network of S13 trained 2.5x slower (9.9 -> 23.9 ms forward, 12.2 -> 38.6 ms backward per
    # batch of 64, measured); the workers get this process's allocator settings instead
    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}), \
            distributed.LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                                     # a free port: None still binds the scheduler's HTTP
                                     # server to 8787 and warns when another cluster holds it
                                     dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        client.wait_for_workers(count)
        yield client, f"a local cluster of {count} workers"


def completed(client: Any, function: Callable[..., Any], calls: Sequence[tuple[Any, ...]],
              name: str) -> Iterator[tuple[int, Any]]:
    """``function(*call)`` for each of ``calls`` on ``client``'s workers, submitted in order, at
    most one per worker thread at a time (keys ``NAME-RUN-i``); yields ``(i, future)`` as each
    completes (finished, or failed: the caller asks the future); the rest are cancelled when the
    caller stops."""
    from distributed import as_completed

    run, queue, futures = uuid.uuid4().hex[:8], list(enumerate(calls)), {}
    running = as_completed(loop=client.loop)

    def top_up() -> None:  # running.count(): the tasks submitted and not yet taken out
        while queue and running.count() < max(1, sum(client.nthreads().values())):
            i, call = queue.pop(0)
            future = client.submit(function, *call, key=f"{name}-{run}-{i}", pure=False)
            futures[future] = i
            running.add(future)

    top_up()
    try:
        for future in running:
            yield futures[future], future
            future.release()
            top_up()
    finally:
        client.cancel(list(futures))

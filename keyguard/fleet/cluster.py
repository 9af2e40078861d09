"""Where the tasks run: an embedded Dask cluster (the default), an existing one
(`--scheduler tcp://HOST:8786`), or this process, one repository after the other
(`--scheduler sync`, for debugging).

The embedded cluster listens on the loopback interface only (scheduler, workers, nannies and
the scheduler's HTTP endpoint, on free ports): nothing on the network can reach it, submit work
to it or read what it computes. Each worker is a
process with one thread (an audit is CPU-bound Python). A worker that dies mid-task (killed,
out of memory) is restarted by its nanny and the scheduler hands its task to another; a
repository whose audit kills ALLOWED_FAILURES workers is reported as failed. Dask is imported
only here, when the fleet command runs.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

from keyguard.errors import UsageError
from keyguard.fleet.repolist import Source
from keyguard.fleet.task import FAILED, INTERRUPTED, RepoResult, TaskSpec, audit_repository

if TYPE_CHECKING:
    from distributed import Client

LOOPBACK = "127.0.0.1"
SYNC = "sync"
LOCAL = "local"
ALLOWED_FAILURES = 3  # worker deaths while running one task before it is given up
CONNECT_TIMEOUT = "20s"


class Executor(Protocol):
    @property
    def slots(self) -> int:
        """How many tasks run at once (for the progress bar)."""

    def results(self, specs: Iterable[TaskSpec]) -> Iterator[RepoResult]:
        """Each task's result as it finishes, in no particular order."""


class _Sync:
    slots = 1

    def results(self, specs: Iterable[TaskSpec]) -> Iterator[RepoResult]:
        for spec in specs:
            result = audit_repository(spec)
            if result.reason == INTERRUPTED:
                raise KeyboardInterrupt
            yield result


class _Dask:
    def __init__(self, client: Client) -> None:
        self.client = client

    @property
    def slots(self) -> int:
        threads: dict[str, int] = self.client.nthreads()
        return max(sum(threads.values()), 1)

    def results(self, specs: Iterable[TaskSpec]) -> Iterator[RepoResult]:
        from distributed import as_completed

        # pure=False: every run audits anew (a shared scheduler would otherwise hand back
        # another run's result for the same arguments).
        futures = {
            self.client.submit(audit_repository, spec, pure=False, key=_key(spec)): spec
            for spec in specs
        }
        try:
            for future in as_completed(futures):
                try:
                    yield future.result()
                except Exception as exc:
                    yield _lost(futures[future], exc)
                finally:
                    future.release()
        finally:
            # Interrupted: what has not started never will; what runs finishes on its worker
            # (a task cannot be stopped mid-way) and its result is dropped.
            self.client.cancel(list(futures))


def _key(spec: TaskSpec) -> str:
    import uuid

    return f"keyguard-audit-{Source(spec.url).mirror_name}-{uuid.uuid4().hex[:8]}"


def _lost(spec: TaskSpec, exc: BaseException) -> RepoResult:
    """A task that returned nothing: its workers kept dying, or it was cancelled."""
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        reason = f"its worker died {ALLOWED_FAILURES} times while auditing it (out of memory?)"
    else:
        reason = f"the task was lost ({type(exc).__name__})"
    return RepoResult(Source(spec.url).name, FAILED, reason)


def check_scheduler(scheduler: str) -> None:
    """A usage error before anything is listed or cloned."""
    if scheduler not in (LOCAL, SYNC) and not scheduler.startswith(("tcp://", "tls://")):
        raise UsageError(
            f"--scheduler {scheduler!r}: use {LOCAL!r} (an embedded cluster), {SYNC!r} "
            "(this process) or a scheduler's address such as tcp://HOST:8786"
        )


@contextlib.contextmanager
def connect(scheduler: str, workers: int) -> Iterator[Executor]:
    """An executor for `--scheduler` (LOCAL, SYNC or a scheduler's address)."""
    if scheduler == SYNC:
        yield _Sync()
        return
    import dask
    from distributed import Client, LocalCluster

    if scheduler == LOCAL:
        with (
            dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}),
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host=LOOPBACK,
                # The scheduler serves HTTP (health, metrics) even without a dashboard, by
                # default on port 8787: here on loopback and a free port, as everything else.
                dashboard_address=f"{LOOPBACK}:0",
                worker_dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield _Dask(client)
        return
    check_scheduler(scheduler)
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except OSError as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        yield _Dask(client)

"""The fleet's progress bar: repositories done, failed and running, and bytes scanned; on a
terminal (stderr) only, nothing at all on a pipe."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from keyguard.console import make_console
from keyguard.fleet.task import FAILED, RepoResult

Advance = Callable[[RepoResult, int], None]  # a finished result, and the tasks running now


@contextlib.contextmanager
def fleet_bar(enabled: bool, total: int) -> Iterator[Advance]:
    if not enabled:
        yield lambda result, running: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("auditing repositories"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[state]}"),
        TimeElapsedColumn(),
        console=make_console(stderr=True),
        transient=True,
    )
    counts = {"done": 0, "failed": 0, "bytes": 0}

    with bar:
        task = bar.add_task("fleet", total=total, state=_state(counts, min(total, 1)))

        def advance(result: RepoResult, running: int) -> None:
            counts["failed" if result.status == FAILED else "done"] += 1
            counts["bytes"] += int(result.scan.get("bytes", 0))
            bar.update(task, advance=1, state=_state(counts, running))

        yield advance


def _state(counts: dict[str, int], running: int) -> str:
    from rich.filesize import decimal

    return (
        f"{counts['done']} done, {counts['failed']} failed, {running} running, "
        f"{decimal(counts['bytes'])} scanned"
    )

"""Process signals at the CLI edge: SIGTERM stops a run the way Ctrl-C does.

Python turns SIGINT into KeyboardInterrupt, which the scan driver catches to keep what finished:
a partial report marked incomplete (exit 3) and a cache of the blobs already scanned. SIGTERM
(`kill`, a CI runner's timeout, systemd stopping a job) would otherwise end the process at once,
with no report and nothing said; sent the same way, it gets the same careful stop.
"""

from __future__ import annotations

import os
import signal
from types import FrameType


def stop_on_sigterm() -> None:
    """Make SIGTERM raise KeyboardInterrupt in this process (call once, from `cli.main`)."""
    owner = os.getpid()

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != owner:
            # A forked scan worker inherits this handler, and `Pool.terminate()` stops workers
            # with SIGTERM: one that raised instead of dying would keep the pool from joining.
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise KeyboardInterrupt

    # Only over the default action: SIGTERM ignored by whoever started us (it survives exec) or
    # a handler of a program that embeds `main()` stays as it is.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, interrupt)

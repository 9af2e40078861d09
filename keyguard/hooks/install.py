"""`keyguard install-hook`: a plain git hook that runs keyguard with the Python it came from.

The hook goes where git looks (`git rev-parse --git-path hooks`, which honours core.hooksPath).
A hook keyguard did not write is never replaced without `--force` (and then kept beside it). If
the Python or keyguard disappears later, the hook fails (`exec` of a missing program), so a
broken install blocks instead of passing silently.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from keyguard import __version__
from keyguard.errors import UsageError
from keyguard.sources import git

MARKER = "# keyguard-hook"
COMMANDS = {
    "pre-commit": "staged",
    "pre-push": 'pre-push "$@"',
    "pre-receive": "pre-receive",
}


def hook_script(kind: str, python: str) -> str:
    return (
        "#!/bin/sh\n"
        f"{MARKER}: installed by `keyguard install-hook {kind}` (keyguard {__version__}).\n"
        "# Runs keyguard with the Python it was installed with; if that is gone, the hook fails.\n"
        # -P: not the current directory first on sys.path. Hooks run in the repository (a bare
        # one's git dir holds keyguard/ for its logs and cache), whose keyguard/ would be
        # imported instead of the installed keyguard: a pusher could even plant one.
        f"exec {shlex.quote(python)} -P -m keyguard {COMMANDS[kind]}\n"
    )


def install(kind: str, repo: Path, force: bool, python: str | None = None) -> Path:
    if kind not in COMMANDS:
        raise UsageError(f"unknown hook {kind!r} (one of {', '.join(COMMANDS)})")
    if not git.is_repository(repo):
        raise UsageError(f"{repo}: not a git repository")
    target = git.git_path(repo, "hooks") / kind
    if target.exists() or target.is_symlink():
        ours = _is_ours(target)
        if not ours and not force:
            raise UsageError(
                f"{target}: a {kind} hook that keyguard did not install is already there; "
                "use --force to replace it (it is kept as "
                f"{target.name}.keyguard-backup)"
            )
        if not ours:
            target.replace(target.with_name(f"{kind}.keyguard-backup"))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{kind}.keyguard-tmp")
    tmp.write_text(hook_script(kind, python or sys.executable), encoding="utf-8")
    os.chmod(tmp, 0o755)
    tmp.replace(target)
    return target


def _is_ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace")[:400]
    except OSError:
        return False

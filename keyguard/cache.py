"""A private per-user cache for derived data (parsed built-in rules, compiled keyword databases).

Everything here can be rebuilt; anything that fails to load is ignored and rebuilt, never trusted.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any


def cache_dir() -> Path | None:
    if os.environ.get("KEYGUARD_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "keyguard"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = folder.stat()
    except OSError:
        return None
    # Only a folder this user owns and nobody else can write: cached pickles are loaded back.
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        return None
    return folder


def load_json(name: str) -> Any | None:
    """Data-only entries (never code, even from a tampered cache)."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        return json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def store_json(name: str, value: Any) -> None:
    folder = cache_dir()
    if folder is None:
        return
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(value, handle)
        os.replace(tmp, folder / name)
    except (OSError, TypeError, ValueError):
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def load(name: str) -> Any | None:
    folder = cache_dir()
    if folder is None:
        return None
    try:
        with open(folder / name, "rb") as handle:
            return pickle.load(handle)
    except Exception:  # a missing, truncated or stale entry is rebuilt
        return None


def store(name: str, value: Any) -> None:
    folder = cache_dir()
    if folder is None:
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / name)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)

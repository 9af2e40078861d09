"""A private per-user cache for derived data (parsed built-in rules, compiled keyword databases).

Everything here is data, never code (no pickle: a tampered entry must not run anything), and
everything can be rebuilt: an entry that fails to load or to validate is ignored and rebuilt, and
an entry that cannot be written (a full disk, a file size limit) only costs the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

# Raw entries start with this line and the SHA-256 of the payload, so a truncated or corrupt
# entry (a crash mid-write on a filesystem without atomic rename, a disk error) is never handed
# to a parser such as hyperscan's deserialiser.
_MAGIC = b"keyguard-cache/1 "


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
    # Only a folder this user owns and nobody else can write: what it holds steers the scan.
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        return None
    return folder


def load_json(name: str) -> Any | None:
    """Data-only entries; the caller validates their shape (never trust a cache file)."""
    raw = _read(name)
    if raw is None:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # truncated, corrupt, or nested to exhaust the stack
        return None


def store_json(name: str, value: Any) -> None:
    try:
        payload = json.dumps(value, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError, RecursionError):
        return
    _write(name, payload)


def load(name: str) -> bytes | None:
    """A raw entry, or None when it is missing or does not match its checksum."""
    raw = _read(name)
    if raw is None or not raw.startswith(_MAGIC):
        return None
    head, newline, payload = raw.partition(b"\n")
    if not newline or head[len(_MAGIC) :] != hashlib.sha256(payload).hexdigest().encode():
        return None
    return payload


def store(name: str, value: bytes) -> None:
    digest = hashlib.sha256(value).hexdigest().encode()
    _write(name, _MAGIC + digest + b"\n" + value)


def _read(name: str) -> bytes | None:
    folder = cache_dir()
    if folder is None:
        return None
    try:
        return (folder / name).read_bytes()
    except OSError:
        return None


def _write(name: str, payload: bytes) -> None:
    """Atomically (a temporary file renamed over the entry), or not at all."""
    folder = cache_dir()
    if folder is None:
        return
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, folder / name)
    except OSError:  # ENOSPC, EFBIG (RLIMIT_FSIZE), EACCES...: the scan goes on without it
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

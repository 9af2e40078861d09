"""Keyed digests of secret values: how findings are grouped, cached and told apart in reports.

A plain SHA-256 of a value next to its 4-character preview and its length lets anyone holding a
"redacted" report recover a short password offline in seconds. Every digest keyguard writes is
therefore an HMAC-SHA256 under a key the reader of a report does not have:

- `KEYGUARD_DIGEST_KEY` in the environment (at least 16 characters; CI sets it from a secret so
  digests and fingerprints are stable across runners), or else
- a random 256-bit key created once per user in `$XDG_CONFIG_HOME/keyguard/digest.key` (mode
  0600), or else, where no such file can be kept (a hook user without a home), a key for this
  process alone.

Without the key a guess costs a full search of the value's space: the digest leaks nothing a
preview does not. With it, the holder can confirm a guess at HMAC speed, so the key is a secret
like the values it protects. Only findings are digested, never every candidate, so the cost of
an HMAC (a microsecond) never shows in a scan. Reports say which key made their digests
(`digest_key`: an id derived from the key, not the key), so two reports can be compared.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from keyguard.errors import ConfigError

ENV = "KEYGUARD_DIGEST_KEY"
MIN_ENV_KEY = 16


class DigestKeyError(ConfigError):
    """The configured key is unusable (too short): a configuration error."""


@dataclass(frozen=True, slots=True)
class DigestKey:
    secret: bytes = b""
    origin: str = ""  # "environment", a key file's path, or "this process"

    @property
    def id(self) -> str:
        """Names the key in reports and caches without revealing it."""
        mac = hmac.new(self.secret, b"keyguard digest key id", hashlib.sha256).hexdigest()
        return mac[:16]


def _key_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "keyguard" / "digest.key"


def _from_file(path: Path) -> bytes | None:
    """The user's key, created on first use; None where it cannot be kept private."""
    with contextlib.suppress(FileNotFoundError):
        return _read_private(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:  # another keyguard created it a moment ago
        return _read_private(path)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    except OSError:
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return _read_private(path)


def _read_private(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        # A key others can read (or write) is no key: ignore it rather than trust it.
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            return None
        text = handle.read(200).strip()
    try:
        key = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    return key if len(key) >= 16 else None


@functools.cache
def current() -> DigestKey:
    """The key for this process (read once: every digest of a run must agree)."""
    configured = os.environ.get(ENV)
    if configured is not None:
        if len(configured) < MIN_ENV_KEY:
            raise DigestKeyError(
                f"{ENV} is set but shorter than {MIN_ENV_KEY} characters: use a long random value"
            )
        return DigestKey(configured.encode("utf-8", "surrogateescape"), "environment")
    path = _key_file()
    key = _from_file(path)
    if key is not None:
        return DigestKey(key, str(path))
    if os.path.lexists(path):
        # Never silently: the user's digests stop matching earlier reports and caches.
        print(
            f"keyguard: warning: {path} is not a private key file (another owner, readable by "
            "others, or not 64+ hex digits): ignored; this run's digests are its own "
            f"(chmod 600 it, or set {ENV})",
            file=sys.stderr,
        )
    return DigestKey(secrets.token_bytes(32), "this process")


def check() -> None:
    """Fail early (a usage error at the CLI edge) on a key that cannot be used."""
    current()


def secret_digest(value: str) -> str:
    """HMAC-SHA256 of the value under the current key (64 hex characters)."""
    data = value.encode("utf-8", "surrogateescape")
    return hmac.new(current().secret, b"keyguard.secret\0" + data, hashlib.sha256).hexdigest()


def keyed(material: str) -> str:
    """HMAC-SHA256 of other material that includes a secret's digest (fingerprints)."""
    data = material.encode("utf-8", "surrogateescape")
    return hmac.new(current().secret, b"keyguard.fingerprint\0" + data, hashlib.sha256).hexdigest()

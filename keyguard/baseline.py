"""Baselines: known findings a team has accepted, so scans report only what is new.

The file (`.keyguard-baseline` by default) is text, one entry a line, sorted:

    # keyguard baseline 1
    # salt <32 hex>  (scrypt n=16384 r=8 p=1, 16 bytes)
    <rule id> <digest> <path>

An entry is keyed on the rule, a digest of the secret value and the normalised path: no line
numbers (edits above a secret change nothing), no timestamps, no plaintext, and no fast hash of
the value. The digest is scrypt over the value with the baseline's own random salt: stable across
machines (the salt travels with the file), and costly to guess from: every guess at a short
password costs an attacker one scrypt evaluation (~20 ms on one core) per baseline. Only
findings are digested, never every candidate.

Lines are independent and sorted, and `keyguard baseline create` marks the file `merge=union`
in `.gitattributes`, so two branches that each add entries merge without a conflict. The file is
read the same with LF or CRLF line endings.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from keyguard.errors import ConfigError
from keyguard.model import Finding, normalise_path

DEFAULT_NAME = ".keyguard-baseline"
MAGIC = "# keyguard baseline 1"
_SCRYPT = {"n": 1 << 14, "r": 8, "p": 1, "dklen": 16, "maxmem": 64 << 20}


@dataclass(frozen=True, slots=True, order=True)
class Entry:
    rule_id: str
    digest: str
    path: str

    def line(self) -> str:
        return f"{self.rule_id} {self.digest} {self.path}"


@dataclass(slots=True)
class Baseline:
    salt: bytes
    entries: set[Entry] = field(default_factory=set)
    source: str = ""

    @staticmethod
    def new() -> Baseline:
        return Baseline(secrets.token_bytes(16))

    def digest(self, value: str) -> str:
        raw = hashlib.scrypt(value.encode("utf-8", "surrogateescape"), salt=self.salt, **_SCRYPT)
        return raw.hex()

    def entry(self, finding: Finding, digests: dict[str, str]) -> Entry:
        value = finding.secret
        if value not in digests:
            digests[value] = self.digest(value)
        return Entry(finding.rule_id, digests[value], normalise_path(finding.path))

    def text(self) -> str:
        lines = [MAGIC, f"# salt {self.salt.hex()}  (scrypt n=16384 r=8 p=1, 16 bytes)"]
        lines += [e.line() for e in sorted(self.entries)]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class Applied:
    kept: list[Finding]
    suppressed: int
    stale: tuple[Entry, ...]  # entries no finding of this scan matched


def apply(findings: Sequence[Finding], baseline: Baseline) -> Applied:
    """Drop the findings the baseline knows; name the entries nothing matched."""
    digests: dict[str, str] = {}
    kept: list[Finding] = []
    matched: set[Entry] = set()
    for finding in findings:
        if not finding.has_value:
            kept.append(finding)  # cannot be compared: reported, never silently dropped
            continue
        key = baseline.entry(finding, digests)
        if key in baseline.entries:
            matched.add(key)
        else:
            kept.append(finding)
    stale = tuple(sorted(baseline.entries - matched))
    return Applied(kept, len(findings) - len(kept), stale)


def entries_for(findings: Iterable[Finding], baseline: Baseline) -> set[Entry]:
    digests: dict[str, str] = {}
    return {baseline.entry(f, digests) for f in findings if f.has_value}


def parse(text: str, source: str) -> Baseline:
    lines = [line.rstrip("\r") for line in text.split("\n")]
    if not lines or lines[0].strip() != MAGIC:
        raise ConfigError(f"{source}: not a keyguard baseline (the first line must be {MAGIC!r})")
    salt: bytes | None = None
    entries: set[Entry] = set()
    for number, line in enumerate(lines[1:], 2):
        stripped = line.strip()
        if stripped.startswith("# salt "):
            try:
                salt = bytes.fromhex(stripped.split()[2])
            except (IndexError, ValueError):
                raise ConfigError(f"{source}:{number}: the salt is not hex") from None
            continue
        if not stripped or stripped.startswith("#"):
            continue
        parts = stripped.split(" ", 2)
        if len(parts) != 3 or len(parts[1]) != 32 or not _is_hex(parts[1]):
            raise ConfigError(f"{source}:{number}: not '<rule id> <digest> <path>'")
        entries.add(Entry(parts[0], parts[1], normalise_path(parts[2])))
    if salt is None or len(salt) < 16:
        raise ConfigError(f"{source}: the baseline has no salt line")
    return Baseline(salt, entries, source)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def load(path: Path) -> Baseline:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: baseline file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the baseline: {exc}") from None
    return parse(text, str(path))


def save(path: Path, baseline: Baseline) -> None:
    """Atomically: an interrupted write leaves the old baseline as it was."""
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=".keyguard-baseline-")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(baseline.text())
        os.replace(tmp, path)
    except OSError as exc:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise ConfigError(f"{path}: cannot write the baseline: {exc.strerror or exc}") from None


def mark_union_merge(root: Path, name: str) -> bool:
    """Add `<name> merge=union` to the work tree's .gitattributes (once). True if added."""
    attributes = root / ".gitattributes"
    line = f"/{name} merge=union"
    try:
        current = attributes.read_text(encoding="utf-8") if attributes.exists() else ""
    except OSError:
        return False
    if line in current.splitlines():
        return False
    with open(attributes, "a", encoding="utf-8", newline="\n") as handle:
        if current and not current.endswith("\n"):
            handle.write("\n")
        # .gitattributes has no trailing comments: the reason goes on its own line.
        handle.write("# keyguard baseline: entries added on two branches merge cleanly\n")
        handle.write(line + "\n")
    return True

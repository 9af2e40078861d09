"""Findings and where they came from: frozen values, no I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from keyguard.digest import secret_digest

# Categories of findings that are leaks themselves (hygiene findings are about practice: a weak
# key, verification switched off, a key past its rotation date).
LEAK_CATEGORIES = frozenset({"secret", "private-key", "root-key"})


@dataclass(frozen=True, slots=True)
class Blob:
    """One piece of content to scan, from any source: a file, an index entry, a git object.

    `id` is what its store reads it by (a file system path, or a git object id); `path` is where
    it is reported, or None for a git object scanned once "at any path" (a history audit places
    its findings at the paths that held it afterwards). `size`, when the source knows it before
    reading, lets the skip policy pass over an over-size blob without reading it.
    """

    id: str
    path: str | None
    size: int | None = None

    @property
    def name(self) -> str:
        """How skips and errors name it."""
        return self.path if self.path is not None else f"blob {self.id}"


@dataclass(frozen=True, slots=True)
class Skip:
    """Something a scan passed over by policy (binary, over the size cap, a symlink...)."""

    name: str  # a path, or "blob <id>"
    reason: str  # the category counted in reports ("too large", "binary", "symlink"...)
    # What a user is told when they named it themselves ("over the 10 MB size cap"); not
    # compared, so a skip is the same skip whatever words explain it.
    detail: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Commit:
    """The commit a history finding was introduced in."""

    sha: str
    author: str
    date: str  # ISO 8601 author date
    summary: str


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    title: str
    category: str
    severity: str
    confidence: str
    path: str  # relative to the scanned root, forward slashes
    line: int  # 1-based
    column: int  # 1-based, in characters
    end_line: int
    end_column: int
    secret: str = field(repr=False)  # never rendered unless --show-secrets
    decoded: str | None = None  # "base64" / "percent" when found inside an encoded value
    commit: Commit | None = None
    first_seen: str | None = None
    age_days: int | None = None
    in_head: bool | None = None
    remediation: str = "generic-secret"  # the playbook's id (see keyguard.remediation)
    tags: tuple[str, ...] = ()  # the controls it concerns (NIST SP 800-53 / SP 800-57)
    provider: str = ""  # whose credential (the rule's provider: "AWS", "GitHub"...)
    key_info: str | None = None  # private keys: "rsa:2048", "dsa:1024", "ed25519" (keyinfo.py)
    places: tuple[str, ...] = ()  # hygiene findings about several places: every one of them
    paired_with: str | None = None  # secret_hash of the other half (an AWS key id and its secret)
    # Inside a blob: the archive member the secret is in ("config/.env"; nested archives joined
    # by "!": "inner.tar!config/.env"), and a notebook's cell ("cell 3, line 2"). Kept apart
    # from `path`, which is where the blob itself sits: a history audit scans a blob once and
    # places its findings at each tree path afterwards, so a member and a cell travel with the
    # blob's findings (and its cache entries) while the path is filled in; `location` joins them.
    member: str | None = None
    where: str | None = None
    # EXAMPLE when the finding sits inside a documentation string of a code file (an ansible
    # module's EXAMPLES block, a docstring; context.embedded_context): found from the content,
    # so it is kept with the blob's findings, while the path's part of `context` is not.
    content_context: str = ""
    # A finding restored from the history cache keeps no secret value (secret is ""): only its
    # hash and preview, so the cache file never holds a credential.
    known_hash: str | None = field(default=None, repr=False)
    known_preview: str | None = field(default=None, repr=False)

    @property
    def secret_hash(self) -> str:
        return self.known_hash or secret_hash(self.secret)

    @property
    def location(self) -> str:
        """Where to look: the path, and inside an archive its member (`release.zip!config/.env`)."""
        return self.path if self.member is None else f"{self.path}!{self.member}"

    @property
    def context(self) -> str:
        """ "test", "documentation", "example" or "" (code): how a reviewer ranks it (context.py)."""
        from keyguard.context import finding_context

        return finding_context(self.path, self.content_context)

    @property
    def fingerprint(self) -> str:
        return fingerprint_of_hash(self.rule_id, self.secret_hash, self.location)

    @property
    def preview(self) -> str:
        return self.known_preview if self.known_preview is not None else redact(self.secret)

    @property
    def has_value(self) -> bool:
        return self.known_hash is None


def secret_hash(secret: str) -> str:
    """A keyed digest (keyguard.digest): never a fast unsalted hash a report's reader can test
    guesses against."""
    return secret_digest(secret)


def is_utf8(raw: bytes) -> bool:
    """Whether a name's bytes are UTF-8 (else reports keep them in `path_bytes`)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def normalise_path(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def fingerprint(rule_id: str, secret: str, path: str) -> str:
    return fingerprint_of_hash(rule_id, secret_hash(secret), path)


def fingerprint_of_hash(rule_id: str, hashed: str, path: str) -> str:
    # No line number: a fingerprint must survive edits above the secret. `hashed` is keyed, so
    # a plain hash over it reveals nothing to test guesses against.
    material = f"{rule_id}\0{hashed}\0{normalise_path(path)}"
    return hashlib.sha256(material.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def redact(secret: str) -> str:
    """A preview that never shows more than a quarter of the secret, and at most 4 characters."""
    shown = min(4, len(secret) // 4)
    return f"{secret[:shown]}…({len(secret)})"

"""The repositories of a fleet audit: parsed from a list (one clone URL or local path a line),
each with the name it is logged and reported by and the directory its mirror lives in.

A URL may carry credentials (`https://user:token@host/repo.git`): they reach git, never a log,
a report or a mirror's directory name.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from keyguard.errors import UsageError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SCP_LIKE = re.compile(r"^[^/:]+@[^/:]+:")  # git@host:owner/repo.git
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Source:
    """One repository to audit."""

    url: str  # what git clones (may hold credentials)

    @property
    def name(self) -> str:
        """How logs and reports name it: the URL without a password or token."""
        return display_url(self.url)

    @property
    def mirror_name(self) -> str:
        """Its mirror's directory under the work directory: readable, and unique per URL."""
        tail = self.name.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        stem = _UNSAFE_NAME.sub("-", tail.removesuffix(".git")).strip(".-")[:60] or "repo"
        digest = hashlib.sha256(self.name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
        return f"{stem}-{digest}.git"


def display_url(url: str) -> str:
    """The URL without the password or token of its user part (the user name stays)."""
    if not _SCHEME.match(url):
        return url
    parts = urlsplit(url)
    if parts.password is None and (parts.username is None or "@" not in parts.netloc):
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    # A bare token as the user name (https://TOKEN@github.com/...) is a credential too.
    netloc = f"{user}@{host}" if user and parts.password is None and len(user) < 20 else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def parse(text: str, base: Path) -> list[Source]:
    """Sources from a list's text: `#` comments and blank lines ignored, duplicates dropped,
    a local path made absolute against `base` (the workers may run elsewhere)."""
    out: dict[str, Source] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            # git would read it as an option.
            raise UsageError(f"repository list line {number}: {line!r} is not a URL or path")
        source = Source(_absolute(line, base))
        out.setdefault(source.name, source)
    return list(out.values())


def read(argument: str, stdin: str | None = None) -> list[Source]:
    """The list named on the command line ('-': `stdin`, the text of standard input)."""
    if argument == "-":
        return parse(stdin or "", Path.cwd())
    path = Path(argument)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{argument}: cannot read the repository list: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{argument}: the repository list is not UTF-8 text") from None
    return parse(text, Path.cwd())


def _absolute(entry: str, base: Path) -> str:
    if _SCHEME.match(entry) or _SCP_LIKE.match(entry):
        return entry
    return os.path.normpath(base / os.path.expanduser(entry))

"""Remediation playbooks: what a responder does about each finding, as data.

Playbooks live in `signatures/playbooks/*.toml` (shipped in the wheel; configuration files may add
`[[playbook]]` tables too). A rule names its playbook with `remediation = "<id>"`; every rule must
have one (`keyguard signatures check` fails otherwise). A playbook is an ordered list of steps,
each an action from a fixed vocabulary, a plain sentence, and where the provider has one the exact
command or console page. After a playbook's own steps come the steps every finding of its
category shares (for a committed secret: purge it from history, then tell the people who cloned).

The guidance behind them: NIST SP 800-57 (revoke on compromise, rotate at least yearly,
re-encrypt what a compromised key protected, destroy old keys, one key one purpose) and "root
access keys should not exist" (delete, never rotate).
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from keyguard.errors import ConfigError

ACTIONS = (
    "revoke",
    "rotate",
    "delete",
    "re-encrypt",
    "re-sign",
    "purge-history",
    "review-access-logs",
    "notify",
    "fix-config",  # hygiene findings: change the setting (verify certificates, TLS 1.2+...)
)
_STEP_KEYS = {"action", "text", "command", "url"}
_PLAYBOOK_KEYS = {"id", "title", "steps"}


@dataclass(frozen=True, slots=True)
class Step:
    action: str
    text: str
    command: str | None = None
    url: str | None = None

    def as_dict(self) -> dict[str, str]:
        out = {"action": self.action, "text": self.text}
        if self.command:
            out["command"] = self.command
        if self.url:
            out["url"] = self.url
        return out


@dataclass(frozen=True, slots=True)
class Playbook:
    id: str
    title: str
    steps: tuple[Step, ...]
    source: str = ""


# Steps every finding of a category shares, after its playbook's own. Hygiene findings are
# settings to change, not secrets to purge.
_COMMON: dict[str, tuple[Step, ...]] = {
    "secret": (
        Step(
            "purge-history",
            "After the credential is revoked or rotated, remove the value from every commit "
            "(keyguard purge-plan writes the replacement file for git filter-repo), force-push, "
            "and ask everyone with a clone or fork to re-clone; hosted pull-request refs keep "
            "the old commits until the host's support removes them.",
            "keyguard purge-plan REPORT.json --repo .",
        ),
        Step(
            "notify",
            "Tell the owner of the service and your security team what leaked, since when "
            "(first_seen) and whether it was used.",
        ),
    ),
}
_COMMON["private-key"] = _COMMON["secret"]
_COMMON["root-key"] = _COMMON["secret"]


def playbook_files() -> list[Path]:
    packaged = resources.files("keyguard").joinpath("signatures", "playbooks")
    candidates = [
        Path(str(packaged)),
        Path(__file__).resolve().parent.parent / "signatures" / "playbooks",
    ]
    for folder in candidates:
        if folder.is_dir():
            return sorted(folder.glob("*.toml"))
    return []


_BUILTIN: dict[str, Playbook] | None = None


def load_builtin_playbooks() -> dict[str, Playbook]:
    global _BUILTIN
    if _BUILTIN is None:
        loaded: dict[str, Playbook] = {}
        for path in playbook_files():
            loaded = merge(loaded, load_file(path))
        _BUILTIN = loaded
    return _BUILTIN


class Catalogue(Mapping[str, Playbook]):
    """The built-in playbooks plus a configuration's, read when a report first needs one (a
    clean scan never reads them)."""

    def __init__(self, extra: Mapping[str, Playbook] | None = None) -> None:
        self._extra = dict(extra or {})
        self._all: dict[str, Playbook] | None = None

    def _books(self) -> dict[str, Playbook]:
        if self._all is None:
            self._all = merge(load_builtin_playbooks(), self._extra)
        return self._all

    def __getitem__(self, key: str) -> Playbook:
        return self._books()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._books())

    def __len__(self) -> int:
        return len(self._books())


def load_file(path: Path) -> dict[str, Playbook]:
    data = _read_cached(path)
    unknown = sorted(set(data) - {"playbook"})
    if unknown:
        raise ConfigError(f"{path}: unknown table(s): {', '.join(unknown)}")
    return parse_playbooks(data.get("playbook", []), str(path))


def _read_cached(path: Path) -> dict[str, Any]:
    """The TOML data of a playbook file; parsing ~200 playbooks of TOML costs ~50 ms, so the
    parsed data is kept as JSON in the user cache (keyed on the file's size and mtime) and
    validated again on every load, like fresh data."""
    from keyguard import cache

    try:
        info = path.stat()
        stamp = hashlib.sha256(f"{path}\0{info.st_size}\0{info.st_mtime_ns}".encode()).hexdigest()
        cached = cache.load_json(f"playbooks-{stamp[:24]}.json")
        if isinstance(cached, dict):
            return cached
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read playbook file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    cache.store_json(f"playbooks-{stamp[:24]}.json", data)
    return data


def parse_playbooks(raw: object, source: str) -> dict[str, Playbook]:
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: `playbook` must be an array of tables ([[playbook]])")
    out: dict[str, Playbook] = {}
    for index, entry in enumerate(raw):
        book = _parse_playbook(entry, source, index)
        if book.id in out:
            raise ConfigError(f"{source}: playbook {book.id!r} is defined twice")
        out[book.id] = book
    return out


def _parse_playbook(entry: object, source: str, index: int) -> Playbook:
    where = f"{source}: playbook #{index + 1}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table")
    name = entry.get("id")
    if isinstance(name, str) and name:
        where = f"{source}: playbook {name!r}"
    unknown = sorted(set(entry) - _PLAYBOOK_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s): {', '.join(unknown)}")
    title, steps = entry.get("title"), entry.get("steps")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: `id` must be a non-empty string")
    if not isinstance(title, str) or not title.strip():
        raise ConfigError(f"{where}: `title` must be a non-empty string")
    if not isinstance(steps, list) or not steps:
        raise ConfigError(f"{where}: `steps` must be a non-empty array of tables")
    return Playbook(
        name, title, tuple(_parse_step(s, where, n) for n, s in enumerate(steps)), source
    )


def _parse_step(entry: object, where: str, index: int) -> Step:
    at = f"{where}, step {index + 1}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{at} must be a table")
    unknown = sorted(set(entry) - _STEP_KEYS)
    if unknown:
        raise ConfigError(f"{at}: unknown key(s): {', '.join(unknown)}")
    action, text = entry.get("action"), entry.get("text")
    if action not in ACTIONS:
        raise ConfigError(f"{at}: action {action!r} is not one of {', '.join(ACTIONS)}")
    if not isinstance(text, str) or len(text.strip()) < 10:
        raise ConfigError(f"{at}: `text` must be a sentence")
    command, url = entry.get("command"), entry.get("url")
    if command is not None and (not isinstance(command, str) or not command.strip()):
        raise ConfigError(f"{at}: `command` must be a non-empty string")
    if url is not None and (not isinstance(url, str) or not url.startswith("https://")):
        raise ConfigError(f"{at}: `url` must be an https:// address")
    return Step(str(action), text.strip(), command, url)


def merge(base: Mapping[str, Playbook], extra: Mapping[str, Playbook]) -> dict[str, Playbook]:
    """Playbooks from two sources; the same id twice is a mistake, not an override."""
    clash = sorted(set(base) & set(extra))
    if clash:
        source = extra[clash[0]].source
        raise ConfigError(f"{source}: playbook {clash[0]!r} is already defined")
    return {**base, **extra}


def steps_for(
    playbook_id: str, category: str, catalogue: Mapping[str, Playbook]
) -> tuple[Step, ...]:
    """The whole sequence for a finding: its playbook's steps, then its category's common ones."""
    book = catalogue.get(playbook_id)
    own = book.steps if book is not None else ()
    common = tuple(s for s in _COMMON.get(category, ()) if s.action not in {x.action for x in own})
    return own + common


def missing(
    rule_playbooks: Iterable[tuple[str, str]], catalogue: Mapping[str, Playbook]
) -> list[tuple[str, str]]:
    """(rule id, playbook id) pairs whose playbook does not exist."""
    return [(rule, book) for rule, book in rule_playbooks if book not in catalogue]


def as_json(steps: Iterable[Step]) -> list[dict[str, str]]:
    return [s.as_dict() for s in steps]

"""Configuration: `.keyguard.toml`, or `[tool.keyguard]` in pyproject.toml. Data only, never code.

A configuration comes with the repository it configures, so it is read as untrusted: nothing in it
runs code, and every path it names (`rule_files`) must stay inside that repository (a `../` or a
symlink out of it is an error), so a cloned repository cannot make keyguard read the user's
other files. Paths given on the command line are the user's own choice and may be anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import regex

from keyguard import safety
from keyguard.errors import ConfigError
from keyguard.hygiene import DEFAULT_ROTATION_DAYS
from keyguard.importers import gitleaks, gitleaksignore, vetting
from keyguard.model import Finding
from keyguard.remediation import Playbook, parse_playbooks
from keyguard.signatures import (
    MAX_LIST,
    Rule,
    parse_file,
    parse_rules,
    parse_toml,
    read_bytes,
    read_toml_file,
    unknown_keys,
)

DEFAULT_MAX_SIZE = 10 * 1024 * 1024
_KNOWN = {
    "rule",
    "playbook",
    "disable",
    "allow",
    "max_file_size",
    "extend_default",
    "rotation_days",
    "rule_files",
    "gitleaks_config",
    "gitleaks_ignore",
    "nonblocking_contexts",
}
_SIZE = regex.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", regex.I)


@dataclass(frozen=True, slots=True)
class Allow:
    paths: tuple[regex.Pattern[str], ...] = ()
    values: tuple[regex.Pattern[str], ...] = ()
    commits: frozenset[str] = frozenset()  # full commit ids: history findings they introduced

    def allows(self, finding: Finding) -> bool:
        return (
            # An archive member is allowed by its archive's path or by `archive.zip!member`.
            any(
                p.search(finding.path)
                or (finding.member is not None and p.search(finding.location))
                for p in self.paths
            )
            or any(v.search(finding.secret) for v in self.values)
            or (finding.commit is not None and finding.commit.sha.lower() in self.commits)
        )


class Suppressor(Protocol):
    """A further allowlist the configuration brings (a `.gitleaksignore`...)."""

    @property
    def needs_values(self) -> bool:
        """Whether it compares secret values (history scans must then keep them)."""
        ...

    def allows(self, finding: Finding) -> bool: ...


@dataclass(frozen=True, slots=True)
class Config:
    source: str | None = None
    rules: tuple[Rule, ...] = ()
    disabled: frozenset[str] = frozenset()
    allow: Allow = field(default_factory=Allow)
    allow_by_rule: Mapping[str, Allow] = field(default_factory=dict)
    max_file_size: int = DEFAULT_MAX_SIZE
    rotation_days: int = DEFAULT_ROTATION_DAYS  # a credential older than this is overdue
    extend_default: bool = True  # false: only the rules of this file run, not the built-in ones
    playbooks: Mapping[str, Playbook] = field(default_factory=dict)  # for this file's rules
    rule_files: tuple[str, ...] = ()  # as written; `load` reads them (relative to the file)
    gitleaks_config: str | None = None  # a .gitleaks.toml imported too (relative to the file)
    gitleaks_ignore: str | None = None  # a .gitleaksignore honoured too (relative to the file)
    suppressors: tuple[Suppressor, ...] = ()
    notes: tuple[str, ...] = ()  # what an imported gitleaks file did not translate exactly
    # Contexts (keyguard.context: "test", "documentation", "example") whose findings hooks and
    # the Action report without blocking on them; empty: every leak blocks.
    nonblocking_contexts: frozenset[str] = frozenset()

    @property
    def has_value_allowlists(self) -> bool:
        return (
            bool(self.allow.values)
            or any(a.values for a in self.allow_by_rule.values())
            or any(s.needs_values for s in self.suppressors)
        )

    def is_allowed(self, finding: Finding) -> bool:
        if self.allow.allows(finding) or any(s.allows(finding) for s in self.suppressors):
            return True
        per_rule = self.allow_by_rule.get(finding.rule_id)
        return per_rule is not None and per_rule.allows(finding)


def discover(root: Path) -> Path | None:
    """The config file that applies to a scan of root, if any: the nearest one in root's folder
    or a parent folder, up to the top of the git work tree it is in (so `keyguard scan
    sub/file.py` and the pre-commit framework's file lists use the project's config). Outside a
    work tree only root's own folder is looked in: a config in some parent of an unrelated
    folder (a home directory) is not the project's."""
    folder = (root if root.is_dir() else root.parent).absolute()
    for place in _folders_up_to_top(folder):
        for candidate in (place / ".keyguard.toml", place / "pyproject.toml"):
            if candidate.is_file():
                if candidate.name == "pyproject.toml" and "keyguard" not in _tool_table(candidate):
                    continue
                return candidate
    # No keyguard configuration: a gitleaks user's files are read as gitleaks reads them.
    for place in _folders_up_to_top(folder):
        for candidate in (place / gitleaks.CONFIG, place / gitleaks.IGNORE):
            if candidate.is_file():
                return candidate
    return None


def _folders_up_to_top(folder: Path) -> list[Path]:
    """folder and its parents up to the nearest one holding `.git` (a directory, or the file of
    a linked work tree or submodule); only folder itself when none does."""
    chain = [folder, *folder.parents]
    for depth, place in enumerate(chain):
        if (place / ".git").exists():
            return chain[: depth + 1]
    return [folder]


def _tool_table(path: Path) -> dict[str, Any]:
    return _tool(read_toml_file(path, "configuration"))


def _tool(data: Mapping[str, Any]) -> dict[str, Any]:
    tool = data.get("tool", {})
    return tool if isinstance(tool, dict) else {}


def load(path: Path) -> Config:
    """The configuration in `path`, with the rule files it names read and every user rule
    probed for safety (the verdict cached by content, so an unchanged file costs nothing).
    A gitleaks file (`.gitleaks.toml`, `.gitleaksignore`) is translated (keyguard.importers)."""
    if gitleaks.is_ignore_file(path):
        return add_gitleaks_ignore(Config(source=str(path)), path)
    content = read_bytes(path, "configuration")
    data = parse_toml(content, str(path))
    if gitleaks.is_config_file(path):
        imported = load_gitleaks(path, data, content)
        if not imported.extend_default:
            # Said on every scan: running without the built-in rules is a big difference.
            imported = replace(imported, notes=(*imported.notes, gitleaks.replaces_defaults(path)))
        ignore = path.parent / gitleaks.IGNORE
        return add_gitleaks_ignore(imported, ignore) if ignore.is_file() else imported
    table = _tool(data).get("keyguard", {}) if path.name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.keyguard] must be a table")
    cfg = parse(table, str(path))
    safety.vet(cfg.rules, content, str(path), list(_allowlists(cfg)))
    if cfg.gitleaks_config is not None:
        target = confined(path, "gitleaks_config", cfg.gitleaks_config)
        body = read_bytes(target, "configuration")
        imported = load_gitleaks(target, parse_toml(body, str(target)), body)
        cfg = merge(cfg, imported)
    if cfg.gitleaks_ignore is not None:
        cfg = add_gitleaks_ignore(cfg, confined(path, "gitleaks_ignore", cfg.gitleaks_ignore))
    files = [confined(path, "rule_files", raw) for raw in cfg.rule_files]
    return add_rule_files(cfg, files)


def load_gitleaks(path: Path, data: Mapping[str, Any], content: bytes) -> Config:
    """A gitleaks configuration as keyguard's (keyguard.importers.gitleaks)."""
    table, notes = import_gitleaks(path, data, content)
    return replace(parse(table, str(path)), notes=notes)


def import_gitleaks(
    path: Path, data: Mapping[str, Any], content: bytes
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The keyguard configuration table for a gitleaks file and the notes on what it did not
    translate exactly. Its rules and allowlists are probed for safety as a user's are; what
    fails is left out and named (keyguard.importers.vetting). `[extend] path` files must be
    inside the repository, as `rule_files` must."""
    contents = [content]
    chain = [path.resolve()]

    def read(raw: str, source: str) -> tuple[str, Mapping[str, Any]]:
        target = confined(Path(source), "[extend] path", raw)
        if target in chain:
            raise ConfigError(f"{source}: [extend] path {raw!r} leads back to {target}: a cycle")
        chain.append(target)
        body = read_bytes(target, "configuration")
        contents.append(body)
        return str(target), parse_toml(body, str(target))

    translation = gitleaks.import_config(data, str(path), read)
    translated = parse(translation.table, str(path))
    verdict = vetting.vet(translated.rules, list(_allowlists(translated)), b"\0".join(contents))
    return verdict.apply(translation.table), (*translation.notes, *verdict.notes(str(path)))


def add_gitleaks_ignore(cfg: Config, path: Path) -> Config:
    """`cfg` honouring the fingerprints of a .gitleaksignore."""
    from keyguard.signatures import load_builtin

    text = read_bytes(path, "ignore file").decode("utf-8", "replace")
    known = {r.id for r in cfg.rules} | {r.id for r in load_builtin()}
    ignored, notes = gitleaksignore.parse(text, str(path), known)
    return replace(cfg, suppressors=(*cfg.suppressors, ignored), notes=cfg.notes + tuple(notes))


def merge(cfg: Config, imported: Config) -> Config:
    """`cfg` with an imported configuration's rules, allowlists and disabled rules added; its
    own settings win (`extend_default` too: importing never turns the built-in rules off)."""
    origin = {r.id: r.source for r in cfg.rules}
    for rule in imported.rules:
        if rule.id in origin:
            raise ConfigError(
                f"{rule.source}: rule {rule.id!r}: duplicate id (already defined in "
                f"{origin[rule.id]})"
            )
    by_rule = dict(cfg.allow_by_rule)
    for rule_id, allow in imported.allow_by_rule.items():
        by_rule[rule_id] = _joined(by_rule[rule_id], allow) if rule_id in by_rule else allow
    return replace(
        cfg,
        rules=cfg.rules + imported.rules,
        disabled=cfg.disabled | imported.disabled,
        allow=_joined(cfg.allow, imported.allow),
        allow_by_rule=by_rule,
        suppressors=cfg.suppressors + imported.suppressors,
        notes=cfg.notes + imported.notes + _extend_note(cfg, imported),
    )


def _extend_note(cfg: Config, imported: Config) -> tuple[str, ...]:
    if imported.extend_default or not cfg.extend_default:
        return ()
    return (
        f"{imported.source}: replaces the default rules in gitleaks, but {cfg.source} keeps "
        "keyguard's built-in rules (`extend_default = false` there runs only the imported ones)",
    )


def _joined(one: Allow, other: Allow) -> Allow:
    return Allow(one.paths + other.paths, one.values + other.values, one.commits | other.commits)


def _allowlists(cfg: Config) -> Iterator[tuple[str, regex.Pattern[str]]]:
    tables = [("[allow]", cfg.allow)]
    tables += [(f"[allow.rules.{rule_id!r}]", a) for rule_id, a in cfg.allow_by_rule.items()]
    for where, allow in tables:
        yield from ((f"{where} paths", p) for p in allow.paths)
        # a value pattern may spell out the value it allows: named by position, never quoted
        yield from ((f"{where} values pattern #{n}", v) for n, v in enumerate(allow.values, 1))


def repository_root(folder: Path) -> Path:
    """The work tree holding `folder` (its nearest parent with a .git), else the folder."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def confined(config: Path, key: str, raw: str) -> Path:
    """A path a configuration names, resolved (symlinks too) and refused outside the root."""
    folder = config.absolute().parent
    root = repository_root(folder).resolve()
    where = f"{config}: `{key}` entry {raw!r}"
    if "\0" in raw:
        raise ConfigError(f"{where} is not a file name")
    try:
        target = (folder / raw).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise ConfigError(f"{where}: {exc}") from None
    if not target.is_relative_to(root):
        raise ConfigError(
            f"{where} is outside the repository {root}: a configuration may only name files "
            "inside it (name a file elsewhere on the command line instead)"
        )
    return target


def add_rule_files(cfg: Config, paths: Sequence[Path]) -> Config:
    """`cfg` with the rules (and playbooks) of these user rule files, each probed for safety.
    An id defined twice among the user's rules is an error; a built-in id is overridden."""
    if not paths:
        return cfg
    rules = list(cfg.rules)
    origin = {r.id: r.source for r in rules}
    playbooks = dict(cfg.playbooks)
    for path in paths:
        content = read_bytes(path, "rule file")
        data = parse_toml(content, str(path))
        found = parse_file(data, str(path))
        for rule in found:
            if rule.id in origin:
                raise ConfigError(
                    f"{path}: rule {rule.id!r}: duplicate id (already defined in {origin[rule.id]})"
                )
            origin[rule.id] = str(path)
        safety.vet(found, content)
        rules.extend(found)
        playbooks.update(parse_playbooks(data.get("playbook", []), str(path)))
    return replace(cfg, rules=tuple(rules), playbooks=playbooks)


def parse(table: Mapping[str, Any], source: str) -> Config:
    unknown = unknown_keys(table, _KNOWN)
    if unknown:
        raise ConfigError(f"{source}: unknown setting(s): {unknown}")
    rules = tuple(parse_rules(table.get("rule", []), source))
    disabled = table.get("disable", [])
    if not isinstance(disabled, list) or not all(isinstance(d, str) for d in disabled):
        raise ConfigError(f"{source}: `disable` must be a list of rule ids")
    allow_table = table.get("allow", {})
    if not isinstance(allow_table, dict):
        raise ConfigError(f"{source}: [allow] must be a table")
    by_rule_table = allow_table.get("rules", {})
    if not isinstance(by_rule_table, dict):
        raise ConfigError(f"{source}: [allow.rules] must be a table of rule ids")
    unknown_allow = unknown_keys(allow_table, ("paths", "values", "commits", "rules"))
    if unknown_allow:
        raise ConfigError(f"{source}: unknown [allow] setting(s): {unknown_allow}")
    by_rule = {
        str(rule_id): _allow(
            entry, f"{source}: [allow.rules.{rule_id!r}]", ("paths", "values", "commits")
        )
        for rule_id, entry in by_rule_table.items()
    }
    extend_default = table.get("extend_default", True)
    if not isinstance(extend_default, bool):
        raise ConfigError(f"{source}: `extend_default` must be true or false")
    return Config(
        source=source,
        rules=rules,
        disabled=frozenset(disabled),
        allow=_allow(allow_table, f"{source}: [allow]"),
        allow_by_rule=by_rule,
        max_file_size=parse_size(table.get("max_file_size", DEFAULT_MAX_SIZE), source),
        extend_default=extend_default,
        playbooks=parse_playbooks(table.get("playbook", []), source),
        rotation_days=_days(table.get("rotation_days", DEFAULT_ROTATION_DAYS), source),
        rule_files=_paths(table.get("rule_files", []), source, "rule_files"),
        gitleaks_config=_file_name(table.get("gitleaks_config"), source, "gitleaks_config"),
        gitleaks_ignore=_file_name(table.get("gitleaks_ignore"), source, "gitleaks_ignore"),
        nonblocking_contexts=_contexts(table.get("nonblocking_contexts", []), source),
    )


def _contexts(raw: object, source: str) -> frozenset[str]:
    from keyguard.context import RANK

    known = sorted(c for c in RANK if c)
    if not isinstance(raw, list) or not all(isinstance(c, str) and c in known for c in raw):
        raise ConfigError(
            f"{source}: `nonblocking_contexts` must be a list of {', '.join(map(repr, known))}"
        )
    return frozenset(raw)


def _file_name(raw: object, source: str, key: str) -> str | None:
    if raw is not None and (not isinstance(raw, str) or not raw):
        raise ConfigError(f"{source}: `{key}` must be a file name")
    return raw


def _paths(raw: object, source: str, key: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) and p for p in raw):
        raise ConfigError(f"{source}: `{key}` must be a list of file names")
    return tuple(raw)


def _days(raw: object, source: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise ConfigError(f"{source}: `rotation_days` must be a positive number of days")
    return raw


def _allow(
    entry: object, where: str, known: tuple[str, ...] = ("paths", "values", "commits", "rules")
) -> Allow:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where} must be a table")
    unknown = unknown_keys(entry, known)
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s): {unknown}")
    return Allow(
        paths=tuple(_patterns(entry.get("paths", []), f"{where} paths")),
        values=tuple(_patterns(entry.get("values", []), f"{where} values")),
        commits=_commits(entry.get("commits", []), f"{where} commits"),
    )


def _commits(raw: object, where: str) -> frozenset[str]:
    if not isinstance(raw, list) or not all(isinstance(c, str) and c for c in raw):
        raise ConfigError(f"{where}: must be a list of commit ids")
    if len(raw) > MAX_LIST:
        raise ConfigError(f"{where}: {len(raw)} commits; at most {MAX_LIST}")
    return frozenset(c.lower() for c in raw)


def _patterns(raw: object, where: str) -> Iterable[regex.Pattern[str]]:
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise ConfigError(f"{where}: must be a list of regular expressions")
    if len(raw) > MAX_LIST:  # each runs over every finding
        raise ConfigError(f"{where}: {len(raw)} patterns; at most {MAX_LIST}")
    for number, text in enumerate(raw, 1):
        try:
            yield regex.compile(text)
        except (regex.error, OverflowError, RecursionError, ValueError) as exc:
            # A value pattern often spells out the value it allows (a test key, a known
            # secret): an error message in a CI log shows its position, not the pattern.
            shown = f"pattern #{number}" if where.endswith("values") else repr(text)
            raise ConfigError(f"{where}: {shown} does not compile: {exc}") from None


def parse_size(raw: object, source: str) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return raw
    if isinstance(raw, str):
        match = _SIZE.match(raw)
        if match:
            unit = (match.group(2) or "b").lower()[:1]
            scale = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]
            try:
                size = int(float(match.group(1)) * scale)
            except OverflowError:  # "1e400" digits: infinity
                size = 0
            if size > 0:  # a zero cap would skip every file and report a clean scan
                return size
    raise ConfigError(f"{source}: max_file_size must be a size such as 10MB (got {raw!r})")

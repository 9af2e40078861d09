"""Load and validate rule files (TOML data, see signatures/README.md) into frozen Rule objects."""

from __future__ import annotations

import difflib
import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

import regex

from keyguard.errors import ConfigError
from keyguard.filters import FILTERS, SHAPE, UNIVERSAL
from keyguard.validators import VALIDATORS

CATEGORIES = ("secret", "private-key", "root-key", "hygiene")
SEVERITIES = ("critical", "high", "medium", "low", "info")
CONFIDENCES = ("high", "medium", "low")

_REQUIRED = ("id", "title", "provider", "category", "severity", "pattern", "examples")
_KNOWN = {
    *_REQUIRED,
    "keywords",
    "confidence",
    "entropy",
    "min_length",
    "validator",
    "remediation",
    "generate",
    "paths",
    "multiline",
    "max_span",
    "filters",
    "negative_examples",
    "description",
    "references",
    "generic",
    "example_path",
    "exact_keywords",
    "file_contains",
    "pairs_with",
    "tags",
    "requires",
    "downgrade",
    "path_first",
}
_ID = regex.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")
_FILE_KEYS = ("rule", "playbook")  # the tables a rule file may hold
# Limits on what a rule file may ask for: every keyword goes into one automaton built on every
# run, and patterns are compiled on every run, so a hostile or generated file must not be able
# to make each scan slow or exhaust memory. The built-in rules stay far below each (29
# keywords, 44 characters, a 1 KB pattern at most).
MAX_FILE_BYTES = 4 << 20
MAX_RULES = 5000
MAX_LIST = 1000  # items in any list field (keywords, examples, paths...)
MAX_KEYWORD = 256  # characters in a keyword
MAX_STRING = 64 << 10  # characters in a pattern, an example, a description...


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    provider: str
    category: str
    severity: str
    pattern: str
    keywords: tuple[str, ...]
    examples: tuple[str, ...]
    negative_examples: tuple[str, ...] = ()
    confidence: str = "high"
    entropy: float | None = None
    min_length: int = 0
    validator: str | None = None
    remediation: str = "generic-secret"
    generate: str | None = None
    paths: tuple[str, ...] = ()
    multiline: bool = False
    max_span: int = 16384
    filters: tuple[str, ...] = ()  # empty: the defaults for the rule kind
    generic: bool = False
    description: str = ""
    exact_keywords: bool = False  # keywords match case-sensitively
    file_contains: str | None = None  # a pattern the first 4 KB of a file must match
    pairs_with: tuple[str, ...] = ()  # rule ids whose findings nearby are the other half
    example_path: str = "example.txt"  # the path examples are scanned under (for `paths` rules)
    source: str = ""  # the file the rule came from, for error messages
    builtin: bool = False  # shipped with keyguard: its pattern is vetted by the test suite
    tags: tuple[str, ...] = ()  # controls it concerns, beyond its category's (NIST SP 800-53...)
    # Literals (any case) one of which a window must hold before the pattern runs there: a
    # cheap guard for rules whose keywords are common (`sha1(`) but whose pattern is costly.
    requires: tuple[str, ...] = ()
    # Filters whose verdict lowers the finding's confidence to "low" instead of dropping it.
    # A tool's own credential file (.netrc, sftp-config.json, a FileZilla store) holds a real
    # credential even when it is a weak one (hunter22, admin123): a weak password that leaks is
    # no less leaked, while the same value in code or docs is usually a default or an example.
    downgrade: tuple[str, ...] = ()
    # Read a blob only where it sits at one of `paths`. A history audit scans each blob once at
    # "any path" and rescans at their paths the blobs a path-limited rule found something in; a
    # rule whose paths name a file few repositories hold (.pypirc, murmur.ini) skips that first
    # pass, and the blobs committed at its paths are scanned there (as keyword-less rules are):
    # its keywords (`password`) otherwise cost a window on every hit of every blob.
    path_first: bool = False

    def guard(self) -> regex.Pattern[bytes] | None:
        if not self.requires:
            return None
        return _compile("(?i)" + "|".join(regex.escape(w) for w in self.requires), False)

    def compiled(self) -> regex.Pattern[bytes]:
        return _compile(self.pattern, self.multiline)

    def active_filters(self) -> tuple[str, ...]:
        if self.filters:
            return self.filters
        return UNIVERSAL + SHAPE if self.generic else UNIVERSAL


# What compiling a hostile pattern can raise besides regex.error (a repeat count past the C
# limits, nesting deeper than the parser's stack).
_REGEX_ERRORS = (regex.error, OverflowError, RecursionError, ValueError, MemoryError)
_PATTERN_CACHE: dict[tuple[str, bool], regex.Pattern[bytes]] = {}


def _compile(pattern: str, multiline: bool) -> regex.Pattern[bytes]:
    key = (pattern, multiline)
    cached = _PATTERN_CACHE.get(key)
    if cached is None:
        flags = regex.VERSION0 | (regex.DOTALL if multiline else 0)
        cached = regex.compile(pattern.encode("utf-8"), flags)
        _PATTERN_CACHE[key] = cached
    return cached


@dataclass(frozen=True, slots=True)
class Ruleset:
    rules: tuple[Rule, ...]
    digest: str = field(default="")

    @staticmethod
    def of(rules: Iterable[Rule]) -> Ruleset:
        ordered = tuple(rules)
        blob = json.dumps([_rule_key(r) for r in ordered], sort_keys=True).encode()
        return Ruleset(ordered, hashlib.sha256(blob).hexdigest()[:16])

    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}


def _rule_key(rule: Rule) -> list[Any]:
    return [
        rule.id,
        rule.pattern,
        rule.exact_keywords,
        rule.file_contains,
        list(rule.keywords),
        rule.entropy,
        rule.min_length,
        rule.validator,
        list(rule.paths),
        rule.multiline,
        rule.max_span,
        list(rule.filters),
        list(rule.requires),
        list(rule.downgrade),
        rule.path_first,
    ]


def suggest(name: object, known: Iterable[str]) -> str:
    """` (did you mean `x`?)` for a misspelt key, or nothing."""
    close = difflib.get_close_matches(str(name), sorted(known), n=1, cutoff=0.75)
    return f" (did you mean `{close[0]}`?)" if close else ""


def unknown_keys(found: Iterable[object], known: Iterable[str]) -> str:
    """The unknown keys among `found`, each with its nearest known key: '' when all are known."""
    allowed = set(known)
    unknown = sorted({str(k) for k in found} - allowed)
    return ", ".join(f"{k}{suggest(k, allowed)}" for k in unknown)


def builtin_rule_files() -> list[Path]:
    """The rule files shipped with keyguard (inside the package, or the repo checkout)."""
    packaged = resources.files("keyguard").joinpath("signatures")
    candidates = [Path(str(packaged)), Path(__file__).resolve().parent.parent / "signatures"]
    for folder in candidates:
        if folder.is_dir():
            return sorted(folder.glob("*.toml"))
    return []


def load_builtin() -> list[Rule]:
    """The built-in rules, from the user cache when the rule files have not changed."""
    from keyguard import __version__, cache
    from keyguard.rule_codec import decode_rules, encode_rules

    files = builtin_rule_files()
    stamp = hashlib.sha256(__version__.encode())
    # The Rule class's shape is part of the key: entries of an older shape are never read.
    stamp.update(repr([(f.name, str(f.type)) for f in fields(Rule)]).encode())
    for path in files:
        info = path.stat()
        stamp.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    name = f"rules-{stamp.hexdigest()[:24]}.json"
    cached = decode_rules(cache.load_json(name))
    if cached is not None:
        return cached
    rules: list[Rule] = []
    for path in files:
        rules.extend(replace(rule, builtin=True) for rule in load_file(path))
    cache.store_json(name, encode_rules(rules))
    return rules


def load_file(path: Path) -> list[Rule]:
    return parse_file(read_toml_file(path, "rule file"), str(path))


def read_bytes(path: Path, what: str) -> bytes:
    """A rule or configuration file's bytes, refused past MAX_FILE_BYTES (read no further)."""
    try:
        with open(path, "rb") as handle:
            content = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    if len(content) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: {what} is larger than {MAX_FILE_BYTES >> 20} MB")
    return content


def parse_toml(content: bytes, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(content.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    except RecursionError:  # arrays nested thousands deep
        raise ConfigError(f"{source}: invalid TOML: nested too deeply") from None


def read_toml_file(path: Path, what: str) -> dict[str, Any]:
    return parse_toml(read_bytes(path, what), str(path))


def parse_file(data: Mapping[str, Any], source: str) -> list[Rule]:
    """A rule file's tables (`[[rule]]`, and `[[playbook]]` for its rules' playbooks)."""
    unknown = unknown_keys(data, _FILE_KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown table(s) or key(s): {unknown}")
    return parse_rules(data.get("rule", []), source)


def parse_rules(raw: object, source: str) -> list[Rule]:
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: `rule` must be an array of tables ([[rule]])")
    if len(raw) > MAX_RULES:
        raise ConfigError(f"{source}: {len(raw)} rules; at most {MAX_RULES} per file")
    rules = [parse_rule(entry, source, index) for index, entry in enumerate(raw)]
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise ConfigError(f"{source}: rule {rule.id!r}: duplicate id (defined twice)")
        seen.add(rule.id)
    return rules


def parse_rule(entry: object, source: str, index: int) -> Rule:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{source}: rule #{index + 1} is not a table")
    given = entry.get("id")
    name = given[:80] if isinstance(given, str) and given else f"#{index + 1}"

    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{source}: rule {name!r}: {problem}")

    for key in _REQUIRED:
        if key not in entry:
            raise fail(f"missing required field `{key}`")
    unknown = unknown_keys(entry, _KNOWN)
    if unknown:
        raise fail(f"unknown field(s): {unknown}")
    rule_id = _string(entry, "id", fail)
    if not _ID.match(rule_id):
        raise fail("id must be lowercase words joined by '.' or '-' (e.g. github.pat)")
    category = _choice(entry, "category", CATEGORIES, fail)
    severity = _choice(entry, "severity", SEVERITIES, fail)
    confidence = _choice(entry, "confidence", CONFIDENCES, fail, default="high")
    pattern = _string(entry, "pattern", fail)
    multiline = _bool(entry, "multiline", fail)
    if len(pattern) > MAX_STRING:
        raise fail(f"`pattern` is longer than {MAX_STRING} characters")
    try:
        compiled = _compile(pattern, multiline)
    except _REGEX_ERRORS as exc:
        raise fail(f"pattern does not compile: {exc}") from None
    if "secret" in compiled.groupindex and compiled.groupindex["secret"] < 1:
        raise fail("bad `secret` group")
    keywords = _strings(entry, "keywords", fail)
    paths = _strings(entry, "paths", fail)
    for path_re in paths:
        try:
            regex.compile(path_re)
        except _REGEX_ERRORS as exc:
            raise fail(f"path pattern {path_re!r} does not compile: {exc}") from None
    if not keywords and not paths:
        raise fail("needs `keywords` (or `paths` for a rule that applies to whole files)")
    path_first = _bool(entry, "path_first", fail)
    if path_first and not paths:
        raise fail("`path_first` needs `paths` (the files the rule is read in)")
    if any(len(k) < 3 for k in keywords):
        raise fail("keywords must be at least 3 characters (shorter ones match everywhere)")
    if any(len(k) > MAX_KEYWORD for k in keywords):
        raise fail(f"keywords must be at most {MAX_KEYWORD} characters")
    validator = entry.get("validator")
    if validator is not None and (not isinstance(validator, str) or validator not in VALIDATORS):
        raise fail(f"unknown validator {validator!r} (known: {', '.join(sorted(VALIDATORS))})")
    filters = _strings(entry, "filters", fail)
    bad_filters = sorted(set(filters) - set(FILTERS))
    if bad_filters:
        raise fail(f"unknown filter(s) {', '.join(bad_filters)} (known: {', '.join(FILTERS)})")
    downgrade = _strings(entry, "downgrade", fail)
    bad_downgrade = sorted(set(downgrade) - set(FILTERS))
    if bad_downgrade:
        raise fail(f"unknown filter(s) in `downgrade`: {', '.join(bad_downgrade)}")
    both = sorted(set(downgrade) & set(filters))
    if both:
        raise fail(f"{', '.join(both)} in both `filters` and `downgrade`: a filter drops or lowers")
    examples = _strings(entry, "examples", fail)
    if not examples:
        raise fail("needs at least one example")
    if "{{secret}}" in " ".join(examples) and "generate" not in entry:
        raise fail("examples use {{secret}} but the rule has no `generate` expression")
    entropy = entry.get("entropy")
    if entropy is not None and (
        not isinstance(entropy, int | float) or isinstance(entropy, bool) or not 0 <= entropy <= 8
    ):
        raise fail("entropy must be a number from 0 to 8 (bits per character)")
    min_length = entry.get("min_length", 0)
    max_span = entry.get("max_span", 16384)
    for key, value in (("min_length", min_length), ("max_span", max_span)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise fail(f"`{key}` must be a non-negative integer")
    generate = entry.get("generate")
    if generate is not None and not isinstance(generate, str):
        raise fail("`generate` must be a string")
    return Rule(
        id=rule_id,
        title=_string(entry, "title", fail),
        provider=_string(entry, "provider", fail),
        category=category,
        severity=severity,
        pattern=pattern,
        keywords=keywords,
        examples=examples,
        negative_examples=_strings(entry, "negative_examples", fail),
        confidence=confidence,
        entropy=float(entropy) if entropy is not None else None,
        min_length=int(min_length),
        validator=validator,
        remediation=_string(entry, "remediation", fail, "generic-secret"),
        generate=generate,
        paths=paths,
        multiline=multiline,
        max_span=int(max_span),
        filters=filters,
        generic=_bool(entry, "generic", fail),
        description=_string(entry, "description", fail, "", empty=True),
        example_path=_string(entry, "example_path", fail, "example.txt"),
        exact_keywords=_bool(entry, "exact_keywords", fail),
        file_contains=_optional_pattern(entry, "file_contains", fail),
        pairs_with=_strings(entry, "pairs_with", fail),
        source=source,
        tags=_strings(entry, "tags", fail),
        requires=_strings(entry, "requires", fail),
        downgrade=downgrade,
        path_first=path_first,
    )


def _string(
    entry: Mapping[str, Any], key: str, fail: Any, default: str | None = None, empty: bool = False
) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str) or not (value or empty):
        raise fail(f"`{key}` must be a non-empty string")
    if len(value) > MAX_STRING:
        raise fail(f"`{key}` is longer than {MAX_STRING} characters")
    return value


def _strings(entry: Mapping[str, Any], key: str, fail: Any) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise fail(f"`{key}` must be a list of strings")
    if len(value) > MAX_LIST:
        raise fail(f"`{key}` has {len(value)} entries; at most {MAX_LIST}")
    if not all(isinstance(v, str) and v for v in value):
        raise fail(f"`{key}` must be a list of non-empty strings")
    if any(len(v) > MAX_STRING for v in value):
        raise fail(f"`{key}` has an entry longer than {MAX_STRING} characters")
    return tuple(value)


def _optional_pattern(entry: Mapping[str, Any], key: str, fail: Any) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise fail(f"`{key}` must be a regular expression")
    if len(value) > MAX_STRING:
        raise fail(f"`{key}` is longer than {MAX_STRING} characters")
    try:
        regex.compile(value.encode("utf-8"))
    except _REGEX_ERRORS as exc:
        raise fail(f"`{key}` does not compile: {exc}") from None
    return value


def _bool(entry: Mapping[str, Any], key: str, fail: Any) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise fail(f"`{key}` must be true or false")
    return value


def _choice(
    entry: Mapping[str, Any], key: str, allowed: Sequence[str], fail: Any, default: str = ""
) -> str:
    value = entry.get(key, default)
    if value not in allowed:
        raise fail(f"`{key}` must be one of {', '.join(allowed)} (got {value!r})")
    return str(value)

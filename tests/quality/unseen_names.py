"""Unseen variable names for the unseen-variants corpus (unseen.py): find a known credential name
in a line, and replace every spelling of it with a synonym in the same case style."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from .gen import Gen
from .kinds import KIND_BY_NAME, KINDS

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[_.\-][A-Za-z0-9]+)*")
_PASSWORD_WORDS = frozenset({"password", "pass", "pwd", "passwd"})
_PASSWORD_STEMS = (("passphrase",), ("pass", "phrase"), ("logon", "credential"), ("pw",))
_CREDENTIAL_STEMS = (
    ("credential",),
    ("access", "credential"),
    ("client", "credential"),
    ("auth", "credential"),
    ("api", "credential"),
    ("creds",),
)
_NEUTRAL_STEMS = (("conn",), ("target",), ("setting",), ("upstream", "ref"), ("param",))
_QUALIFIERS = ("svc", "upstream", "vendor", "billing", "primary", "partner", "ingest")


def words(token: str) -> tuple[str, ...]:
    """``DB_PASSWORD``, ``dbPassword``, ``db.password``, ``db-password`` -> ("db", "password")."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", token)
    return tuple(w.lower() for w in re.split(r"[_.\-]+", spaced) if w)


@cache
def _known_names() -> frozenset[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for kind in KINDS:
        for name in kind.names:
            for spelled in (name, name.lower(), name.upper()):
                out.add(words(spelled))
                out.add((*words(spelled), "b64"))
    return frozenset(out)


def _style(token: str) -> str:
    if "." in token:
        return "dotted"
    if "-" in token:
        return "kebab"
    if "_" in token or token.isupper() or token.islower():
        return "upper" if token.isupper() else "lower"
    return "pascal" if token[0].isupper() else "camel"


def spell(parts: tuple[str, ...], style: str) -> str:
    if style == "dotted":
        return ".".join(parts)
    if style == "kebab":
        return "-".join(parts)
    if style == "upper":
        return "_".join(parts).upper()
    if style == "lower":
        return "_".join(parts)
    joined = "".join(p.capitalize() for p in parts)
    return joined if style == "pascal" else joined[0].lower() + joined[1:]


@cache
def is_self_identifying(kind: str) -> bool:
    """True when generated values of ``kind`` share a prefix or suffix (recognisable unnamed)."""
    spec = KIND_BY_NAME.get(kind)
    if spec is None:
        return True
    values = [spec.make(Gen(seed)) for seed in range(8)]
    return _shared(values) >= 3 or _shared([v[::-1] for v in values]) >= 3


def _shared(values: list[str]) -> int:
    """Length of the prefix all ``values`` share."""
    n = 0
    while all(len(v) > n and v[n] == values[0][n] for v in values):
        n += 1
    return n


def synonym(g: Gen, original: tuple[str, ...], neutral_ok: bool) -> tuple[str, ...]:
    """An unseen name for ``original``; a neutral one (no credential word) only if ``neutral_ok``."""
    if _PASSWORD_WORDS & set(original):
        stem = g.pick(_PASSWORD_STEMS)
    elif neutral_ok and g.chance(0.4):
        stem = g.pick(_NEUTRAL_STEMS)
    else:
        stem = g.pick(_CREDENTIAL_STEMS)
    qualifier = g.pick(_QUALIFIERS)
    parts = (qualifier, *stem) if g.chance(0.6) and qualifier != stem[0] else stem
    return (*parts, "b64") if original[-1:] == ("b64",) else parts


def synonym_class(parts: tuple[str, ...]) -> str:
    """ "password", "credential" or "neutral": which stem family a synonym came from."""
    if any(stem in _PASSWORD_STEMS for stem in _stems_of(parts)):
        return "password"
    if any(stem in _NEUTRAL_STEMS for stem in _stems_of(parts)):
        return "neutral"
    return "credential"


def _stems_of(parts: tuple[str, ...]) -> list[tuple[str, ...]]:
    core = parts[:-1] if parts[-1:] == ("b64",) else parts
    return [core, core[1:]]


def rename(text: str, new: Callable[[tuple[str, ...]], tuple[str, ...]]) -> str:
    """Replace every spelling of a known credential name in ``text``; one synonym per name."""
    chosen: dict[tuple[str, ...], tuple[str, ...]] = {}
    known = _known_names()

    def replace(m: re.Match[str]) -> str:
        token = m.group(0)
        prefix, rest = "", token
        if words(rest) not in known and "." in rest:
            head, _, rest = rest.partition(".")
            prefix = head + "."
        key = words(rest)
        if key not in known:
            return token
        if key not in chosen:
            chosen[key] = new(key)
        return prefix + spell(chosen[key], _style(rest))

    return _TOKEN.sub(replace, text)


def find_name(text: str) -> tuple[str, ...] | None:
    """The first known credential name spelled in ``text`` (as words), if any."""
    found: list[tuple[str, ...]] = []

    def note(key: tuple[str, ...]) -> tuple[str, ...]:
        found.append(key)
        return key

    rename(text, note)
    return found[0] if found else None

"""TOML text for a configuration table: strings, numbers, booleans, lists, tables, arrays of
tables (what `.keyguard.toml` holds). The standard library reads TOML but does not write it.

Strings are written literal ('...') when they can be, so a regular expression reads as it was
written; otherwise as basic strings with every control character escaped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import regex

_BARE_KEY = regex.compile(r"[A-Za-z0-9_-]+")
_NOT_LITERAL = regex.compile(r"['\x00-\x08\x0a-\x1f\x7f]")


def dumps(table: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """The TOML text of `table`, after `header` lines written as comments."""
    out = [f"# {_comment(line)}".rstrip() for line in header]
    _table(out, [], table)
    return "\n".join(out).strip("\n") + "\n"


def _comment(text: str) -> str:
    cleaned: str = regex.sub(r"[\x00-\x1f\x7f]", " ", text)
    return cleaned


def _is_tables(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _table(out: list[str], path: list[str], table: Mapping[str, Any]) -> None:
    for key, value in table.items():
        if not isinstance(value, Mapping) and not _is_tables(value):
            out.append(f"{_key(key)} = {_value(value)}")
    for key, value in table.items():
        dotted = ".".join(_key(k) for k in [*path, key])
        if isinstance(value, Mapping):
            if not value or not all(isinstance(v, Mapping) for v in value.values()):
                out += ["", f"[{dotted}]"]  # a table of tables only needs its children's
            _table(out, [*path, key], value)
        elif _is_tables(value):
            for item in value:
                out += ["", f"[[{dotted}]]"]
                _table(out, [*path, key], item)


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"no TOML for {value!r}")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        items = [_value(v) for v in value]
        one_line = f"[{', '.join(items)}]"
        if len(one_line) <= 80:
            return one_line
        return "[\n" + "".join(f"  {item},\n" for item in items) + "]"
    raise TypeError(f"no TOML for {type(value).__name__}")


def _string(text: str) -> str:
    if not _NOT_LITERAL.search(text):
        return f"'{text}'"
    # JSON escapes quotes, backslashes and control characters as TOML reads them, except DEL.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")

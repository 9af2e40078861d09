"""Line shapes for the unseen-variants corpus (unseen.py): other quoting, other assignment
syntax and values continued on the next line, per host syntax, for a line whose value is known.

A shape returns the new lines, or None when it does not apply (or the value holds a character the
new spelling would have to escape); the value always stays whole, unescaped, on one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Parts:
    head: str  # everything before the value, indentation included
    value: str
    tail: str

    @property
    def indent(self) -> str:
        return self.head[: len(self.head) - len(self.head.lstrip())]

    @property
    def quote(self) -> str:
        q = self.head[-1:]
        return q if q in ("'", '"') and self.tail.startswith(q) else ""

    def bare(self) -> tuple[str, str]:
        """head and tail without the quotes around the value."""
        q = self.quote
        return self.head[: len(self.head) - len(q)], self.tail[len(q) :]

    def line(self) -> str:
        return self.head + self.value + self.tail


Shape = Callable[[Parts], list[str] | None]


def requote(open_: str, close: str, forbid: str, *, only_from: str | None = None) -> Shape:
    def shape(p: Parts) -> list[str] | None:
        if any(c in p.value for c in forbid) or (only_from is not None and p.quote != only_from):
            return None
        head, tail = p.bare()
        return [head + open_ + p.value + close + tail]

    return shape


def value_on_next_line(op: str, extra: str = "    ") -> Shape:
    """``NAME = "v"`` -> ``NAME =`` / ``    "v"`` (the last ``op`` in the head ends line one)."""

    def shape(p: Parts) -> list[str] | None:
        head, tail = p.bare()
        cut = head.rfind(op)
        if cut < 0:
            return None
        first = head[: cut + len(op)].rstrip()
        rest = head[cut + len(op) :].lstrip()
        return [first, p.indent + extra + rest + p.quote + p.value + p.quote + tail]

    return shape


def replace_op(old: str, new: str) -> Shape:
    def shape(p: Parts) -> list[str] | None:
        head, tail = p.bare()
        if old not in head:
            return None
        cut = head.rfind(old)
        return [head[:cut] + new + head[cut + len(old) :] + p.quote + p.value + p.quote + tail]

    return shape


def yaml_block(p: Parts) -> list[str] | None:
    head, tail = p.bare()
    if tail.strip() or ": " not in head or p.value.startswith(" "):
        return None
    key = head[: head.rfind(": ") + 1]
    return [f"{key} >-", f"{p.indent}  {p.value}"]


def compose_block(p: Parts) -> list[str] | None:
    if not p.head.lstrip().startswith("- ") or p.tail:
        return None
    item = p.head.lstrip()[2:]
    return [f"{p.indent}- >-", f"{p.indent}  {item}{p.value}"]


def hcl_heredoc(p: Parts) -> list[str] | None:
    head, tail = p.bare()
    if p.quote != '"' or tail or "${" in p.value or "%{" in p.value or "EOT" in p.value:
        return None
    return [f"{head}<<-EOT", f"{p.indent}  {p.value}", f"{p.indent}EOT"]


def shell_continuation(p: Parts) -> list[str] | None:
    head, tail = p.bare()
    if not head.endswith("="):
        return None
    return [head + "\\", p.quote + p.value + p.quote + tail]


def python_paren(p: Parts) -> list[str] | None:
    head, tail = p.bare()
    if not head.endswith(" = ") or tail:
        return None
    return [head + "(", f'{p.indent}    "{p.value}"', f"{p.indent})"]


def python_call_split(p: Parts) -> list[str] | None:
    head, tail = p.bare()
    cut = head.rfind("(")
    if cut < 0 or not tail.endswith(")"):
        return None
    inner = f"{p.indent}    {head[cut + 1 :]}{p.quote}{p.value}{p.quote}{tail[:-1]}"
    return [head[: cut + 1], inner, p.indent + ")"]


def backslash_indented(p: Parts) -> list[str] | None:
    """Java properties: a trailing backslash continues the line; leading blanks are dropped."""
    head, tail = p.bare()
    if not head.endswith("=") or tail:
        return None
    return [head + "\\", "    " + p.value]


def python_annotated(p: Parts) -> list[str] | None:
    if " = " not in p.head or p.head.count(" = ") != 1:
        return None
    return [p.head.replace(" = ", ": str = ", 1) + p.value + p.tail]


def xml_swap(p: Parts) -> list[str] | None:
    m = re.fullmatch(r'(\s*<add )key="([^"]*)" value="', p.head)
    if not m or p.tail != '" />':
        return None
    return [f'{m.group(1)}value="{p.value}" key="{m.group(2)}" />']


def docker_space(p: Parts) -> list[str] | None:
    m = re.fullmatch(r"(ENV [A-Za-z0-9_]+)=", p.head)
    if not m or p.tail or " " in p.value:
        return None
    return [f"{m.group(1)} {p.value}"]


def bat_quoted(p: Parts) -> list[str] | None:
    m = re.fullmatch(r"(\s*)set ([A-Za-z0-9_]+)=", p.head)
    if not m or p.tail or '"' in p.value:
        return None
    return [f'{m.group(1)}set "{m.group(2)}={p.value}"']


def bat_caret(p: Parts) -> list[str] | None:
    if not re.fullmatch(r"\s*set [A-Za-z0-9_]+=", p.head) or p.tail:
        return None
    return [p.head + "^", p.value]


def declare_x(p: Parts) -> list[str] | None:
    if not p.head.startswith("export "):
        return None
    return ["declare -x " + p.head[len("export ") :] + p.value + p.tail]


def toml_inline(p: Parts) -> list[str] | None:
    head, tail = p.bare()
    if not head.endswith(" = ") or p.quote != '"' or tail:
        return None
    return [f'{head}{{ value = "{p.value}" }}']


_SQ, _DQ = "'\\", '"\\'
SHAPES: dict[str, tuple[tuple[str, Shape], ...]] = {
    "env": (
        ("quote:single", requote("'", "'", "'", only_from="")),
        ("assign:spaced", replace_op("=", " = ")),
    ),
    "export": (
        ("quote:ansi-c", requote("$'", "'", _SQ)),
        ("continuation:backslash", shell_continuation),
        ("assign:declare", declare_x),
    ),
    "md_shell": (
        ("quote:ansi-c", requote("$'", "'", _SQ)),
        ("continuation:backslash", shell_continuation),
    ),
    "yaml": (
        ("quote:single", requote("'", "'", "'", only_from="")),
        ("continuation:yaml-folded", yaml_block),
    ),
    "gh_env": (
        ("quote:single", requote("'", "'", "'", only_from="")),
        ("continuation:yaml-folded", yaml_block),
    ),
    "yaml_camel": (
        ("quote:single", requote("'", "'", "'")),
        ("continuation:yaml-folded", yaml_block),
    ),
    "compose_map": (
        ("quote:single", requote("'", "'", "'")),
        ("continuation:yaml-folded", yaml_block),
    ),
    "compose_list": (("continuation:yaml-folded", compose_block),),
    "python": (
        ("quote:single", requote("'", "'", _SQ)),
        ("quote:triple", requote('"""', '"""', _DQ)),
        ("quote:raw", requote('r"', '"', _DQ)),
        ("continuation:parens", python_paren),
        ("assign:annotated", python_annotated),
    ),
    "python_get": (
        ("quote:single", requote("'", "'", _SQ)),
        ("continuation:call-args", python_call_split),
    ),
    "js_obj": (
        ("quote:backtick", requote("`", "`", "`$\\")),
        ("continuation:next-line", value_on_next_line(":")),
    ),
    "js_const": (
        ("quote:backtick", requote("`", "`", "`$\\")),
        ("continuation:next-line", value_on_next_line("=")),
    ),
    "ts": (
        ("quote:backtick", requote("`", "`", "`$\\")),
        ("continuation:next-line", value_on_next_line("=")),
    ),
    "go": (
        ("quote:backtick", requote("`", "`", "`")),
        ("continuation:next-line", value_on_next_line("=")),
    ),
    "java": (("continuation:next-line", value_on_next_line("=", "        ")),),
    "csharp": (
        ("quote:verbatim", requote('@"', '"', '"')),
        ("quote:triple", requote('"""', '"""', '"')),
        ("continuation:next-line", value_on_next_line("=", "        ")),
    ),
    "ruby": (
        ("quote:percent-q", requote("%q(", ")", "()\\")),
        ("continuation:next-line", value_on_next_line("=")),
    ),
    "php": (
        ("quote:double", requote('"', '"', '"$\\{')),
        ("continuation:next-line", value_on_next_line("=>")),
    ),
    "groovy": (
        ("quote:triple", requote("'''", "'''", _SQ)),
        ("continuation:next-line", value_on_next_line("=")),
    ),
    "properties": (
        ("assign:colon", replace_op("=", ": ")),
        ("continuation:backslash", backslash_indented),
    ),
    "ini": (("assign:colon", replace_op(" = ", ": ")),),
    "toml": (("quote:single", requote("'", "'", "'")), ("assign:inline-table", toml_inline)),
    "hcl": (("continuation:heredoc", hcl_heredoc),),
    "xml_add": (("quote:single", requote("'", "'", "'")), ("assign:attribute-order", xml_swap)),
    "dockerfile": (("assign:space", docker_space),),
    "bat": (("assign:quoted-set", bat_quoted), ("continuation:caret", bat_caret)),
    "log": (
        ("quote:double", requote('"', '"', '"', only_from="")),
        ("assign:colon", replace_op("=", ": ")),
    ),
}

# Where a trailing comment may follow an assignment without becoming part of the value.
TRAILING_COMMENT: dict[str, str] = {
    **dict.fromkeys(("env", "export", "md_shell", "yaml", "yaml_camel", "gh_env"), "  # "),
    **dict.fromkeys(("compose_list", "compose_map", "python", "python_get", "ruby"), "  # "),
    **dict.fromkeys(("toml", "hcl"), "  # "),
    **dict.fromkeys(("js_obj", "js_const", "ts", "go", "java", "csharp", "php", "groovy"), "  // "),
}

"""Go RE2 patterns (gitleaks' `regex` and `path`) rewritten for Python's `regex` module.

Most RE2 syntax means the same in both. What differs is rewritten: `\\z` (end of text) becomes
`\\Z`; `\\Q...\\E` becomes escaped text; octal `\\123` and `\\x{263A}` become escapes Python reads;
a flag group in the middle of a pattern (`\\.(?i)(?:png|jpg)$`), which RE2 applies to the rest of
the enclosing group, becomes a scoped group `(?i:...)`, reopened after each `|` so alternation
keeps its meaning. Capture group N (gitleaks' `secretGroup`) becomes keyguard's named group
`secret`. What cannot be translated (`\\C`, the ungreedy flag `U`) is named, never guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import regex

_OCTAL = "01234567"
_HEX = "0123456789abcdefABCDEF"
_RE2_FLAGS = set("imsU-")


@dataclass(frozen=True, slots=True)
class Translated:
    pattern: str
    groups: int  # capture groups in the pattern
    problems: tuple[str, ...] = ()  # non-empty: the pattern cannot be used as it is
    multiline: bool = False  # it can match across lines (`\\n` or the `s` flag)
    first_certain: bool = True  # group 1 takes part in every match (no `|` or `?` around it)
    exclusive: bool = False  # no two groups can take part in one match (each in its own branch)


@dataclass(slots=True)
class _Group:
    uid: int = 0
    scopes: list[str] = field(default_factory=list)  # flag groups opened inside it, to close
    branch: int = 0  # how many `|` it has had so far
    captures: list[int] = field(default_factory=list)  # capture groups inside it (and itself)


def translate(
    pattern: str,
    secret_group: int | None = None,
    for_bytes: bool = True,
    secret_all: bool = False,
) -> Translated:
    """`pattern` in Python syntax; capture group `secret_group` (or with `secret_all`, every
    group: Python's `regex` lets groups share a name, and the one that took part is the
    secret) renamed `secret`.

    `for_bytes`: the result is compiled as UTF-8 bytes (rule patterns are), where a character
    class cannot hold a character past U+007F.
    """
    return _Translator(pattern, secret_group, for_bytes, secret_all).run()


class _Translator:
    def __init__(
        self, pattern: str, secret_group: int | None, for_bytes: bool, secret_all: bool
    ) -> None:
        self.src = pattern
        self.secret_group = secret_group
        self.secret_all = secret_all
        self.for_bytes = for_bytes
        self.out: list[str] = []
        self.stack: list[_Group] = [_Group()]
        self.groups = 0
        self.uids = 0
        # Where each capture group sits: (group uid, branch) of every group around it.
        self.paths: dict[int, tuple[tuple[int, int], ...]] = {}
        self.optional: set[int] = set()  # capture groups under a `?`, `*` or `{0,n}`
        self.alternating: set[int] = set()  # uids of groups holding a `|`
        self.problems: list[str] = []
        self.i = 0
        # A pattern that says `\n`, or `[\s\S]`, can match across lines: keyguard runs it over
        # a span of lines (multiline, which also lets `.` match a newline), so a bare `.` is
        # kept to one line as RE2 has it, unless the pattern asks for the `s` flag itself.
        # (`\s` outside a class, as in `key\s*=`, is taken to mean spaces on the line.)
        self.multiline = _crosses_lines(pattern)
        self.narrow_dots = self.multiline and not _has_s_flag(pattern)

    def run(self) -> Translated:
        src = self.src
        while self.i < len(src):
            char = src[self.i]
            if char == "\\":
                self._escape()
            elif char == "[":
                self._char_class()
            elif char == "(":
                self._open()
            elif char == ")":
                self._close()
            elif char == "|":
                self._bar()
            elif char == "." and self.narrow_dots:
                self.out.append("[^\\n]")
                self.i += 1
            else:
                self.out.append(char)
                self.i += 1
        while len(self.stack) > 1:  # unbalanced: the compile check below says so
            self.stack.pop()
        self.out.append(")" * len(self.stack[0].scopes))
        if self.secret_group is not None and self.secret_group > self.groups:
            self.problems.append(
                f"secretGroup {self.secret_group} but the regex has {self.groups} group(s)"
            )
        translated = "".join(self.out)
        first = self.paths.get(1, ())
        certain = 1 not in self.optional and not any(uid in self.alternating for uid, _ in first)
        numbers = sorted(self.paths)
        exclusive = len(numbers) > 1 and all(
            _exclusive(self.paths[a], self.paths[b])
            for i, a in enumerate(numbers)
            for b in numbers[i + 1 :]
        )
        if not self.problems:
            try:
                data = translated.encode("utf-8") if self.for_bytes else translated
                regex.compile(data, regex.VERSION0)
            except (regex.error, OverflowError, RecursionError, ValueError) as exc:
                self.problems.append(f"does not compile after translation: {exc}")
        return Translated(
            translated, self.groups, tuple(self.problems), self.multiline, certain, exclusive
        )

    def _escape(self, in_class: bool = False) -> None:
        src, i = self.src, self.i
        nxt = src[i + 1] if i + 1 < len(src) else ""
        if nxt == "Q" and not in_class:
            end = src.find("\\E", i + 2)
            literal = src[i + 2 :] if end < 0 else src[i + 2 : end]
            self.out.append(regex.escape(literal))
            self.i = len(src) if end < 0 else end + 2
        elif nxt == "z":
            self.out.append("\\Z")
            self.i += 2
        elif nxt == "C":
            self.problems.append("`\\C` (any single byte) has no equivalent")
            self.i += 2
        elif nxt in _OCTAL and nxt:
            digits = nxt
            while len(digits) < 3 and self.i + 1 + len(digits) < len(src):
                following = src[self.i + 1 + len(digits)]
                if following not in _OCTAL:
                    break
                digits += following
            if nxt != "0" and len(digits) == 1:
                self.problems.append(f"backreference `\\{nxt}` (not RE2: gitleaks refuses it)")
            self._code_point(int(digits, 8), in_class)
            self.i += 1 + len(digits)
        elif nxt == "x" and src[i + 2 : i + 3] == "{":
            end = src.find("}", i + 3)
            digits = src[i + 3 : end] if end > 0 else ""
            if not digits or any(c not in _HEX for c in digits) or int(digits, 16) > 0x10FFFF:
                self.problems.append(f"bad escape {src[i : end + 1 if end > 0 else i + 3]!r}")
                self.i = end + 1 if end > 0 else len(src)
                return
            self._code_point(int(digits, 16), in_class)
            self.i = end + 1
        else:
            self.out.append(src[i : i + 2])
            self.i += 2

    def _code_point(self, value: int, in_class: bool) -> None:
        if value < 0x80:
            self.out.append(f"\\x{value:02x}")
        elif in_class and self.for_bytes:
            self.problems.append(
                f"character U+{value:04X} in a character class (patterns run over bytes)"
            )
        else:
            self.out.append(regex.escape(chr(value)))

    def _char_class(self) -> None:
        src = self.src
        self.out.append("[")
        self.i += 1
        if self.i < len(src) and src[self.i] == "^":
            self.out.append("^")
            self.i += 1
        first = True
        while self.i < len(src):
            char = src[self.i]
            if char == "]" and not first:
                self.out.append("]")
                self.i += 1
                return
            first = False
            if char == "\\":
                self._escape(in_class=True)
            elif src.startswith("[:", self.i):
                end = src.find(":]", self.i + 2)
                stop = len(src) if end < 0 else end + 2
                self.out.append(src[self.i : stop])
                self.i = stop
            elif char == "[":
                self.out.append("\\[")  # a literal in RE2; Python warns of a nested set
                self.i += 1
            elif ord(char) >= 0x80 and self.for_bytes:
                self.problems.append(
                    f"character {char!r} in a character class (patterns run over bytes)"
                )
                self.i += 1
            else:
                self.out.append(char)
                self.i += 1

    def _open(self) -> None:
        src, i = self.src, self.i
        if not src.startswith("(?", i):
            self._capture("")
            self.i += 1
            return
        for head in ("(?P<", "(?<"):
            if src.startswith(head, i) and src[i + len(head) : i + len(head) + 1] not in "=!":
                end = src.find(">", i)
                name = src[i + len(head) : end] if end > 0 else ""
                self._capture(name)
                self.i = end + 1 if end > 0 else len(src)
                return
        j = i + 2
        while j < len(src) and src[j] in _RE2_FLAGS:
            j += 1
        flags = src[i + 2 : j]
        ending = src[j : j + 1]
        if ending not in (":", ")"):
            self.problems.append(
                f"`{src[i : j + 1]}` (lookaround, comment or other syntax RE2 lacks: "
                "gitleaks refuses it)"
            )
            self._push()
            self.out.append("(?:")
            self.i = j + 1
            return
        if "U" in flags:
            self.problems.append(
                "the ungreedy flag `U` has no equivalent (make the quantifiers lazy, `+?`, "
                "and drop the flag)"
            )
            flags = flags.replace("U", "")
        if ending == ":":
            self._push()
            self.out.append(f"(?{flags}:" if flags.strip("-") else "(?:")
        elif flags.strip("-"):
            at_start = not self.out and len(self.stack) == 1 and "-" not in flags
            if at_start:
                self.out.append(f"(?{flags})")  # a global flag Python reads as RE2 does
            else:
                # RE2 applies it to the rest of the enclosing group: a scoped group closed
                # where that group ends.
                self.out.append(f"(?{flags}:")
                self.stack[-1].scopes.append(flags)
        self.i = j + 1

    def _push(self, capture: int | None = None) -> None:
        self.uids += 1
        group = _Group(self.uids)
        if capture is not None:
            self.paths[capture] = tuple((g.uid, g.branch) for g in self.stack)
            for around in self.stack:
                around.captures.append(capture)
            group.captures.append(capture)
        self.stack.append(group)

    def _capture(self, name: str) -> None:
        self.groups += 1
        self._push(self.groups)
        if self.groups == self.secret_group or self.secret_all:
            self.out.append("(?P<secret>")
        elif name == "secret" and self.secret_group is not None:
            self.out.append("(?P<secret_>")  # the secret is another group
        elif name:
            self.out.append(f"(?P<{name}>")
        else:
            self.out.append("(")

    def _close(self) -> None:
        group = self.stack.pop() if len(self.stack) > 1 else _Group(-1)
        self.out.append(")" * len(group.scopes) + ")")
        self.i += 1
        following = self.src[self.i : self.i + 3]
        if following[:1] in ("?", "*") or following.startswith(("{0,", "{0}")):
            self.optional.update(group.captures)

    def _bar(self) -> None:
        self.stack[-1].branch += 1
        self.alternating.add(self.stack[-1].uid)
        scopes = self.stack[-1].scopes
        self.out.append(")" * len(scopes) + "|" + "".join(f"(?{f}:" for f in scopes))
        self.i += 1


# A class holding `\s` repeated without a small bound (`[\s\S]{64,}`, `[\s\S]*`): it means to
# cross lines. A short run (`[\s'"]{0,3}` around an `=`) is taken to stay on the line.
_NEWLINE_CLASS = regex.compile(
    r"\[(?:\\.|[^\]\\])*?\\s(?:\\.|[^\]\\])*\](?:[*+]|\{\d*,\}|\{\d*,?\d{2,}\})"
)


def _crosses_lines(pattern: str) -> bool:
    return (
        "\\n" in pattern
        or "\\r" in pattern
        or _has_s_flag(pattern)
        or _NEWLINE_CLASS.search(pattern) is not None
    )


def _has_s_flag(pattern: str) -> bool:
    found = regex.search(r"\(\?[imU]*s[imsU]*[:)]", pattern)
    return found is not None


def _exclusive(one: tuple[tuple[int, int], ...], other: tuple[tuple[int, int], ...]) -> bool:
    """Whether two groups sit in different branches of one alternation (never both match)."""
    branches = dict(one)
    return any(uid in branches and branches[uid] != branch for uid, branch in other)

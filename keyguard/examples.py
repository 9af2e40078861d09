"""Expand example templates: `{{secret}}` and `{{gen:EXPR}}` become fresh random values.

Generator expressions are a small regex subset (literals, escapes, classes, groups with `|`,
counts), so rule files describe a provider's format without holding a realistic credential.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from keyguard.signatures import Rule
from keyguard.validators import VALIDATORS

_SHORTHAND = {
    "d": string.digits,
    "w": string.ascii_letters + string.digits + "_",
    "h": "0123456789abcdef",
    "H": "0123456789ABCDEF",
    "s": " ",
}


class TemplateError(ValueError):
    pass


@dataclass
class _Parser:
    text: str
    rng: random.Random
    pos: int = 0

    def error(self, problem: str) -> TemplateError:
        return TemplateError(f"generator {self.text!r} at {self.pos}: {problem}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def alternation(self) -> str:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.sequence())
        return self.rng.choice(branches)

    def sequence(self) -> str:
        out: list[str] = []
        while self.peek() not in ("", "|", ")"):
            start = self.pos
            atom = self.atom()
            low, high = self.count()
            if (low, high) == (1, 1):
                out.append(atom())
            else:
                out.extend(atom() for _ in range(self.rng.randint(low, high)))
            if self.pos == start:
                raise self.error("no progress")
        return "".join(out)

    def atom(self) -> _Gen:
        char = self.peek()
        if char == "(":
            self.pos += 1
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            saved = self.pos
            depth = 0
            # capture the group text so every repetition draws fresh choices
            while self.pos < len(self.text):
                c = self.text[self.pos]
                if c == "\\":
                    self.pos += 2
                    continue
                if c == "(":
                    depth += 1
                elif c == ")":
                    if depth == 0:
                        break
                    depth -= 1
                self.pos += 1
            if self.peek() != ")":
                raise self.error("unclosed group")
            inner = self.text[saved : self.pos]
            self.pos += 1
            return _Gen(lambda: _Parser(inner, self.rng).whole())
        if char == "[":
            chars = self.char_class()
            return _Gen(lambda: self.rng.choice(chars))
        if char == "\\":
            self.pos += 2
            escaped = self.text[self.pos - 1 : self.pos]
            if escaped in _SHORTHAND:
                pool = _SHORTHAND[escaped]
                return _Gen(lambda: self.rng.choice(pool))
            return _Gen(lambda: escaped)
        if char in "{}*+?":
            raise self.error(f"unexpected {char!r}")
        self.pos += 1
        return _Gen(lambda: char)

    def char_class(self) -> str:
        self.pos += 1
        chars: list[str] = []
        while self.peek() not in ("]", ""):
            char = self.peek()
            if char == "\\":
                escaped = self.text[self.pos + 1 : self.pos + 2]
                chars.extend(_SHORTHAND.get(escaped, escaped))
                self.pos += 2
                continue
            if self.text[self.pos + 1 : self.pos + 2] == "-" and self.text[
                self.pos + 2 : self.pos + 3
            ] not in ("]", ""):
                end = self.text[self.pos + 2]
                chars.extend(chr(c) for c in range(ord(char), ord(end) + 1))
                self.pos += 3
                continue
            chars.append(char)
            self.pos += 1
        if self.peek() != "]":
            raise self.error("unclosed character class")
        self.pos += 1
        if not chars:
            raise self.error("empty character class")
        return "".join(chars)

    def count(self) -> tuple[int, int]:
        char = self.peek()
        if char == "?":
            self.pos += 1
            return 0, 1
        if char != "{":
            return 1, 1
        end = self.text.find("}", self.pos)
        if end < 0:
            raise self.error("unclosed count")
        body = self.text[self.pos + 1 : end]
        self.pos = end + 1
        try:
            if "," in body:
                low_text, high_text = body.split(",", 1)
                low, high = int(low_text), int(high_text)
            else:
                low = high = int(body)
        except ValueError:
            raise self.error(f"bad count {{{body}}}") from None
        if not 0 <= low <= high:  # random.randint would raise a bare ValueError
            raise self.error(f"bad count {{{body}}}")
        return low, high

    def whole(self) -> str:
        value = self.alternation()
        if self.pos != len(self.text):
            raise self.error(f"unexpected {self.peek()!r}")
        return value


@dataclass(frozen=True)
class _Gen:
    make: object

    def __call__(self) -> str:
        result = self.make()  # type: ignore[operator]
        assert isinstance(result, str)
        return result


def generate(expression: str, rng: random.Random) -> str:
    return _Parser(expression, rng).whole()


def generate_secret(rule: Rule, rng: random.Random) -> str:
    if rule.generate is None:
        raise TemplateError(f"rule {rule.id} has no `generate` expression")
    value = generate(rule.generate, rng)
    if rule.validator is not None:
        value = VALIDATORS[rule.validator].fix(value)
    return value


def expand(template: str, rule: Rule, rng: random.Random) -> str:
    """Replace every `{{secret}}` (one value per example) and `{{gen:EXPR}}` in a template."""
    secret: str | None = None
    out: list[str] = []
    pos = 0
    while True:
        start = template.find("{{", pos)
        if start < 0:
            out.append(template[pos:])
            return "".join(out)
        out.append(template[pos:start])
        if template.startswith("{{secret}}", start):
            if secret is None:
                secret = generate_secret(rule, rng)
            out.append(secret)
            pos = start + len("{{secret}}")
        elif template.startswith("{{gen:", start):
            end = _closing(template, start + len("{{gen:"))
            out.append(generate(template[start + len("{{gen:") : end], rng))
            pos = end + 2
        else:
            out.append("{{")
            pos = start + 2


def _closing(template: str, pos: int) -> int:
    """Index of the `}}` that closes a `{{gen:` (single braces inside are counts)."""
    depth = 0
    while pos < len(template):
        if template[pos] == "\\":
            pos += 2
            continue
        if template[pos] == "{":
            depth += 1
        elif template[pos] == "}":
            if depth == 0 and template.startswith("}}", pos):
                return pos
            depth -= 1
        pos += 1
    raise TemplateError(f"unclosed {{{{gen: in {template!r}")

"""Labels and the line-tracking document builder used by every file writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Label:
    """One labelled location of the corpus.

    ``kind`` is a descriptive credential (or hard-negative) type of the corpus' own naming.
    ``variant`` says how a positive is dressed ("base64", "urlencoded", "multiline",
    "json-escaped", "minified", "crlf", ...). ``preview`` holds at most the first 4 characters
    of the secret as written, so labels can be printed safely.
    """

    path: str
    line: int
    end_line: int
    kind: str
    positive: bool
    variant: str = ""
    preview: str = ""

    def covers(self, line: int) -> bool:
        return self.line <= line <= self.end_line


@dataclass(frozen=True)
class Secret:
    """The full value behind a positive label (kept in memory only, for self-checks)."""

    label: Label
    value: str


@dataclass
class Doc:
    """A text file under construction: lines plus labels that point into them."""

    path: str
    fmt: str
    crlf: bool = False
    bom: bool = False
    lines: list[str] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)

    # -- plain lines --------------------------------------------------------------------------
    def add(self, *lines: str) -> None:
        for text in lines:
            self.lines.extend(text.split("\n"))

    def text(self, text: str) -> None:
        """Append a block of text (may span lines)."""
        self.lines.extend(text.split("\n"))

    @property
    def next_line(self) -> int:
        return len(self.lines) + 1

    # -- labelled lines -----------------------------------------------------------------------
    def pos(self, line: str, kind: str, secret: str, variant: str = "") -> None:
        if secret not in line or "\n" in line:
            raise ValueError(f"{self.path}: secret of {kind} not on its line")
        self.add(line)
        self._label(self.next_line - 1, self.next_line - 1, kind, True, variant, secret)

    def neg(self, line: str, kind: str) -> None:
        if "\n" in line:
            raise ValueError(f"{self.path}: negative line of {kind} spans lines")
        self.add(line)
        self._label(self.next_line - 1, self.next_line - 1, kind, False, "", "")

    def pos_block(
        self, lines: list[str], kind: str, secret: str, variant: str = "multiline"
    ) -> None:
        start = self.next_line
        self.lines.extend(lines)
        if secret not in "\n".join(lines):
            raise ValueError(f"{self.path}: secret of {kind} not in its block")
        self._label(start, self.next_line - 1, kind, True, variant, secret)

    def neg_block(self, lines: list[str], kind: str) -> None:
        start = self.next_line
        self.lines.extend(lines)
        self._label(start, self.next_line - 1, kind, False, "", "")

    # -- labels found after the fact (for files rendered by json.dumps and the like) ----------
    def find(self, needle: str) -> int:
        hits = [i + 1 for i, text in enumerate(self.lines) if needle in text]
        if len(hits) != 1:
            raise ValueError(f"{self.path}: {len(hits)} lines contain the needle")
        return hits[0]

    def mark_pos(
        self, needle: str, kind: str, variant: str = "", end_needle: str | None = None
    ) -> None:
        start = self.find(needle)
        end = self.find(end_needle) if end_needle else start
        self._label(start, end, kind, True, variant, needle)

    def mark_neg(self, needle: str, kind: str) -> None:
        line = self.find(needle)
        self._label(line, line, kind, False, "", "")

    def _label(
        self, start: int, end: int, kind: str, positive: bool, variant: str, secret: str
    ) -> None:
        for other in self.labels:
            if not (end < other.line or start > other.end_line):
                raise ValueError(f"{self.path}:{start}: overlapping labels {kind} / {other.kind}")
        if self.crlf and positive and not variant:
            variant = "crlf"
        label = Label(self.path, start, end, kind, positive, variant, secret[:4])
        self.labels.append(label)
        if positive:
            self.secrets.append(Secret(label, secret))

    # -- output -------------------------------------------------------------------------------
    def render(self) -> str:
        newline = "\r\n" if self.crlf else "\n"
        body = newline.join(self.lines)
        if not body.endswith(newline):
            body += newline
        return ("\ufeff" if self.bom else "") + body

    def write(self, root: Path) -> None:
        target = root / self.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.render().encode("utf-8"))

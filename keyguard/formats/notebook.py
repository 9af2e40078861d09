"""Jupyter notebooks (nbformat 4) as the text a person reads in them: each cell's source and its
text outputs (streams, text/plain, text/html ..., error tracebacks), JSON escapes undone. Images
(base64 PNGs), attachments and metadata (ids, hashes, widget state) are left out: they are not
text and would only feed the engine long random strings. Pure: no I/O.

The engine scans `Notebook.text`, the pieces one after another; `Notebook.place` moves each
of its findings back to where it sits in the .ipynb file (its line and column there, through
the JSON string and its escapes) and says where in the notebook that is: "cell 3, line 2",
"cell 3 output, line 1". A document that is not such a notebook gives None: scanned as text.

Most notebooks hold no secret, so the text comes from `json.loads` (C speed); only a notebook
with findings is parsed again by the small reader here, which records where each string sits.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from itertools import accumulate
from json import decoder

from keyguard.model import Finding

# The json module's string reader (C speed where it is compiled): public in json.decoder,
# though typeshed does not list it. It returns a string's value and the offset after it.
scanstring: Callable[[str, int, bool], tuple[str, int]] = decoder.scanstring  # type: ignore[attr-defined]
# nbformat is a few levels deep. Deeper (metadata can nest anything) is read by json.loads but
# not located: findings then fall back to where their value first appears in the file.
MAX_NESTING = 400
_SPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
# What json.loads reads besides numbers and strings (NaN and the infinities too, as it does).
_LITERALS = {
    "true": True,
    "false": False,
    "null": None,
    "NaN": None,
    "Infinity": None,
    "-Infinity": None,
}
# Outputs that are text to a reader. Images (image/png, image/svg+xml ...) and other encoded
# payloads are not; JSON-valued ones (widget state) are objects, not strings, and left out too.
_TEXT_MIME = re.compile(r"text/.*|application/(?:javascript|json|x-latex|xml)")


@dataclass(frozen=True, slots=True)
class _Located:
    """A JSON string's value and where its first character sits in the document."""

    value: str
    start: int  # offset in the document of the first character after the opening quote
    # How many of value's characters the document holds: one fewer for a traceback line,
    # which gets a line break of its own (placed where the line ends, at its closing quote).
    length: int


_Text = str | _Located  # a string from json.loads, or from the locating reader


@dataclass(frozen=True, slots=True)
class Notebook:
    text: bytes  # the pieces as UTF-8, each ending in a line break
    document: str  # the .ipynb file, decoded
    labels: tuple[str, ...]  # per piece: "cell 3" or "cell 3 output"
    _piece_starts: tuple[int, ...] = field(repr=False)  # offsets in the decoded text
    _segment_starts: tuple[int, ...] = field(repr=False)  # per JSON string, all pieces
    _line_starts: tuple[int, ...] = field(repr=False)

    def place(self, findings: list[Finding]) -> list[Finding]:
        """The findings (of scanning `text`) at their lines and columns in the .ipynb file,
        each with its cell."""
        if not findings:
            return findings
        located = _locate(self.document, len(self._segment_starts))
        # Offsets of the document's lines, made once: a finding's file line is then a bisect,
        # not a count from the top (quadratic in a notebook with thousands of findings).
        file_lines = _starts_of_lines(self.document)
        return [self._place(f, located, file_lines) for f in findings]

    def _place(
        self, finding: Finding, located: list[_Located] | None, file_lines: tuple[int, ...]
    ) -> Finding:
        start = self._offset(finding.line, finding.column)
        end = self._offset(finding.end_line, finding.end_column)
        piece = bisect.bisect_right(self._piece_starts, start) - 1
        first_line = bisect.bisect_right(self._line_starts, self._piece_starts[piece])
        cell_line = bisect.bisect_right(self._line_starts, start) - first_line + 1
        where = f"{self.labels[piece]}, line {cell_line}"
        if located is None:
            at = max(self.document.find(finding.secret), 0) if finding.secret else 0
            line = bisect.bisect_right(file_lines, at)
            column = at - file_lines[line - 1] + 1
            return replace(finding, line=line, column=column, end_line=line, where=where)
        line, column = self._in_file(start, located, file_lines, at_end=False)
        end_line, end_column = self._in_file(end, located, file_lines, at_end=True)
        return replace(
            finding,
            line=line,
            column=column,
            end_line=end_line,
            end_column=end_column,
            where=where,
        )

    def _offset(self, line: int, column: int) -> int:
        return self._line_starts[min(line, len(self._line_starts)) - 1] + column - 1

    def _in_file(
        self, offset: int, located: list[_Located], file_lines: tuple[int, ...], *, at_end: bool
    ) -> tuple[int, int]:
        # An end position is just after the last character: look it up by that character, or
        # it would land on the start of the next string.
        probe = offset - 1 if at_end and offset > 0 else offset
        index = max(bisect.bisect_right(self._segment_starts, probe) - 1, 0)
        string = located[index]
        chars = min(max(offset - self._segment_starts[index], 0), string.length)
        at = _raw_offset(self.document, string.start, chars)
        line = bisect.bisect_right(file_lines, at)
        return line, at - file_lines[line - 1] + 1


def parse(data: bytes) -> Notebook | None:
    """The notebook in `data`, or None if it is not valid nbformat 4 JSON with cells."""
    try:
        # Without a BOM, as the engine reads text: columns on line 1 count from the "{".
        document = data.decode("utf-8-sig")
        value = json.loads(document)
    except (ValueError, RecursionError):
        return None  # UnicodeDecodeError and JSONDecodeError are ValueErrors
    if not isinstance(value, dict) or not isinstance(value.get("cells"), list):
        return None
    parts: list[str] = []
    labels: list[str] = []
    piece_starts: list[int] = []
    segment_starts: list[int] = []
    size = 0
    for label, strings in _pieces(value["cells"]):
        labels.append(label)
        piece_starts.append(size)
        for string in strings:
            text = string if isinstance(string, str) else string.value
            segment_starts.append(size)
            parts.append(text)
            size += len(text)
        if not parts[-1].endswith("\n"):
            parts.append("\n")
            size += 1
    text = "".join(parts)
    # Lone surrogates (a JSON "\udc80") cannot be UTF-8: one "?" each keeps the columns.
    return Notebook(
        text=text.encode("utf-8", "replace"),
        document=document,
        labels=tuple(labels),
        _piece_starts=tuple(piece_starts),
        _segment_starts=tuple(segment_starts),
        _line_starts=_starts_of_lines(text),
    )


def _locate(document: str, count: int) -> list[_Located] | None:
    """The notebook's strings again, in the order `parse` joined them, each with its place in
    the document; None if the document is past what the reader here takes."""
    try:
        value, _ = _value(document, _skip(document, 0), 0)
    except (ValueError, IndexError, RecursionError):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("cells"), list):
        return None
    located = [s for _, strings in _pieces(value["cells"]) for s in strings]
    found = [s for s in located if isinstance(s, _Located)]
    return found if len(found) == count else None


def _starts_of_lines(text: str) -> tuple[int, ...]:
    return (0, *accumulate(len(line) + 1 for line in text.split("\n")[:-1]))


def _pieces(cells: list[object]) -> Iterator[tuple[str, list[_Text]]]:
    """Each cell's source, then each of its outputs' text: (label, strings), none empty."""
    for number, cell in enumerate(cells, 1):
        if isinstance(cell, dict):
            yield from ((label, s) for label, s in _texts(number, cell) if s)


def _texts(number: int, cell: dict[str, object]) -> Iterator[tuple[str, list[_Text]]]:
    yield f"cell {number}", _strings(cell.get("source"))
    outputs = cell.get("outputs")
    if not isinstance(outputs, list):
        return
    for index, output in enumerate(outputs, 1):
        if not isinstance(output, dict):
            continue
        label = f"cell {number} output" + (f" {index}" if len(outputs) > 1 else "")
        strings = _strings(output.get("text"))
        data = output.get("data")
        if isinstance(data, dict):
            for mime, value in data.items():
                if _TEXT_MIME.fullmatch(mime):
                    strings += _strings(value)
        strings += _strings(output.get("traceback"), lines=True)
        yield label, strings


def _strings(value: object, *, lines: bool = False) -> list[_Text]:
    """A multiline string as nbformat stores it: one string, or a list of them (the lines of a
    source, with their line breaks; a traceback's lines, without: `lines` adds them)."""
    items = value if isinstance(value, list) else [value]
    found = [v for v in items if isinstance(v, str | _Located)]
    return [_with_break(v) for v in found] if lines else found


def _with_break(text: _Text) -> _Text:
    if isinstance(text, str):
        return text if text.endswith("\n") else text + "\n"
    if text.value.endswith("\n"):
        return text
    return _Located(text.value + "\n", text.start, text.length)


def _raw_offset(document: str, start: int, chars: int) -> int:
    """The document offset of the `chars`-th decoded character of the string at `start`."""
    at = start
    for _ in range(chars):
        if document[at] != "\\":
            at += 1
        elif document[at + 1] != "u":
            at += 2
        elif (
            "\ud800" <= chr(int(document[at + 2 : at + 6], 16)) < "\udc00"
            and document[at + 6 : at + 8] == "\\u"
        ):
            at += 12  # a surrogate pair: two escapes, one character
        else:
            at += 6
    return at


def _skip(text: str, at: int) -> int:
    match = _SPACE.match(text, at)
    return match.end() if match else at


def _value(text: str, at: int, depth: int) -> tuple[object, int]:
    """One JSON value at `at` (strings located), and the offset after it."""
    if depth > MAX_NESTING:
        raise ValueError("nested too deep")
    char = text[at]
    if char == '"':
        value, end = scanstring(text, at + 1, True)
        return _Located(value, at + 1, len(value)), end
    if char == "{":
        obj: dict[str, object] = {}
        at = _skip(text, at + 1)
        if text[at] == "}":
            return obj, at + 1
        while True:
            if text[at] != '"':
                raise ValueError("expected a key")
            key, at = scanstring(text, at + 1, True)
            at = _skip(text, at)
            if text[at] != ":":
                raise ValueError("expected ':'")
            obj[key], at = _value(text, _skip(text, at + 1), depth + 1)
            at = _skip(text, at)
            if text[at] == "}":
                return obj, at + 1
            if text[at] != ",":
                raise ValueError("expected ','")
            at = _skip(text, at + 1)
    if char == "[":
        array: list[object] = []
        at = _skip(text, at + 1)
        if text[at] == "]":
            return array, at + 1
        while True:
            item, at = _value(text, at, depth + 1)
            array.append(item)
            at = _skip(text, at)
            if text[at] == "]":
                return array, at + 1
            if text[at] != ",":
                raise ValueError("expected ','")
            at = _skip(text, at + 1)
    for word, literal in _LITERALS.items():
        if text.startswith(word, at):
            return literal, at + len(word)
    number = _NUMBER.match(text, at)
    if number is None:
        raise ValueError(f"unexpected {char!r}")
    return float(number.group()), number.end()

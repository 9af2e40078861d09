"""Where a finding sits, as a reviewer ranks it: in code and configuration (""), in a test, in
documentation, or in an example.

A test's password or a credential in a module's documented example is still reported: test keys
get copied into production and "example" tokens are sometimes real. But a reviewer of a large
history (ansible's: hundreds of findings, most in module docs and tests) sorts real leaks first,
and a team may choose not to block a hook on them. Judged from the path alone (a pure function,
so it needs no cache entry and reads the same in every report); the order of the checks makes a
`tests/fixtures/docs/x.md` a test, not documentation.
"""

from __future__ import annotations

import re
from functools import lru_cache

CODE = ""
TEST = "test"
DOCUMENTATION = "documentation"
EXAMPLE = "example"

# Ranking order: what a reviewer reads first.
RANK = {CODE: 0, EXAMPLE: 1, TEST: 2, DOCUMENTATION: 3}

_TEST_DIR = re.compile(
    r"(?:^|/)(?:tests?|testing|testdata|test[-_]data|__tests__|spec|specs|fixtures?|"
    r"__fixtures__|t|unittests?|integration[-_]tests?|e2e|mocks?|__mocks__)/",
    re.IGNORECASE,
)
_TEST_FILE = re.compile(
    r"(?:^|/)(?:test_[^/]*|[^/]*_test\.[^/.]+|[^/]*[._-](?:test|spec)\.[^/.]+|"
    r"[^/]*Tests?\.(?:java|kt|cs|scala|swift)|conftest\.py)$"
)
_DOC_DIR = re.compile(r"(?:^|/)(?:docs?|documentation|man|manual|wiki)/", re.IGNORECASE)
# Not `.txt`: requirements.txt and notes.txt hold real credentials as often as prose does.
_DOC_FILE = re.compile(
    r"(?:\.(?:md|markdown|rst|adoc|asciidoc|texi|pod)|(?:^|/)(?:README|CHANGES|CHANGELOG|"
    r"HISTORY|NEWS|INSTALL|CONTRIBUTING)(?:\.[^/]*)?)$",
    re.IGNORECASE,
)
_EXAMPLE = re.compile(
    r"(?:(?:^|/)(?:examples?|samples?|demos?|tutorials?|quickstart)/|"
    r"[._-](?:example|sample|template|dist|tmpl)(?:\.[^/]*)?$)",
    re.IGNORECASE,
)


@lru_cache(maxsize=65536)
def context_of(path: str) -> str:
    """The context of a reported path: "test", "documentation", "example" or "" (code)."""
    if path.startswith("<"):  # a commit or tag message (history.messages)
        return CODE
    if _TEST_DIR.search(path) or _TEST_FILE.search(path):
        return TEST
    if _EXAMPLE.search(path):
        return EXAMPLE
    if _DOC_DIR.search(path) or _DOC_FILE.search(path):
        return DOCUMENTATION
    return CODE


# A documented example inside code. Python modules (ansible's thousands among them) carry their
# usage as a string, `EXAMPLES = r'''...'''`, with made-up tokens in it, and docstrings show calls
# with sample credentials. The path says "code"; the string around the finding says "example".
_TRIPLE = re.compile(rb"'''|\"\"\"")
_DOC_NAME = re.compile(
    rb"(?:^|[^\w])(?:[A-Z_]*_)?(?:EXAMPLES?|DOCUMENTATION|USAGE|RETURN|SAMPLES?|__doc__)"
    rb"\s*[:=]\s*[rRuUbB]{0,2}$"
)
_STRING_PREFIX = re.compile(rb"^\s*[rRuUbBfF]{0,2}$")
_HEAD_LINE = re.compile(rb"^\s*(?:#.*|from __future__ .*|)$")  # before a module docstring


def documentation_strings(data: bytes) -> list[tuple[int, int]]:
    """The spans of DATA's triple-quoted documentation strings: strings assigned to EXAMPLES,
    DOCUMENTATION, USAGE, RETURN..., and docstrings (a string opening a line right after a
    `def ...:`/`class ...:` line, or the module's first statement).

    Triple quotes are paired left to right (single-quoted triples inside a double-quoted
    string do not close it); quotes inside comments or one-line strings can mislead it, which
    costs a rank, never a finding. Read once per blob that has findings, never for the others."""
    spans: list[tuple[int, int]] = []
    opener: re.Match[bytes] | None = None
    for quote in _TRIPLE.finditer(data):
        if opener is None:
            opener = quote
            continue
        if quote.group() != opener.group():
            continue
        if _is_documentation_string(data, opener.start()):
            spans.append((opener.end(), quote.start()))
        opener = None
    if opener is not None and _is_documentation_string(data, opener.start()):
        spans.append((opener.end(), len(data)))  # unclosed: to the end of the blob
    return spans


def _is_documentation_string(data: bytes, start: int) -> bool:
    line_start = data.rfind(b"\n", 0, start) + 1
    lead = data[line_start:start]
    if _DOC_NAME.search(lead):
        return True
    if not _STRING_PREFIX.match(lead):
        return False  # a string passed or assigned: test data, a template, a fixture's key
    before = data[:line_start].rstrip()
    if before.rsplit(b"\n", 1)[-1].rstrip().endswith(b":"):  # first statement of a def/class
        return True
    return all(_HEAD_LINE.match(line) for line in before.split(b"\n"))  # the module docstring


def embedded_context(spans: list[tuple[int, int]], offset: int) -> str:
    """EXAMPLE when OFFSET lies inside one of the documentation strings SPANS, else CODE."""
    return EXAMPLE if any(lo <= offset < hi for lo, hi in spans) else CODE


def finding_context(path: str, embedded: str) -> str:
    """What the path says, and where it says code, what the content around the finding says."""
    by_path = context_of(path)
    return by_path if by_path != CODE else embedded

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

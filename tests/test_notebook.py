"""Jupyter notebooks through the real command line: cell sources and text outputs are scanned
with JSON escapes undone, images and metadata are not, and every finding names both its line
in the .ipynb file and its cell ("cell 2, line 3", "cell 2 output, line 1").

Notebooks are written at test time around freshly generated tokens, as Jupyter writes them
(`json.dumps(indent=1)`), so the expected file line and column are found in the file itself.
"""

from __future__ import annotations

import base64
import io
import json
import random
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyguard.cli import main
from keyguard.driver import SkipPolicy, Stats, scan_one
from keyguard.engine import CompiledRuleset
from keyguard.examples import generate_secret
from keyguard.hygiene import ASSESSMENTS
from keyguard.model import Blob
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo

RULES = {r.id: r for r in load_builtin()}


def token(seed: object) -> str:
    return generate_secret(RULES["github.pat"], random.Random(seed))


def code_cell(source: list[str], outputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": 1,
        "id": "c0ffee",
        "metadata": {},
        "outputs": outputs or [],
        "source": source,
    }


def notebook(*cells: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"cells": list(cells), "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5}


def dumps(document: dict[str, Any], *, ascii_only: bool = True) -> str:
    return json.dumps(document, indent=1, ensure_ascii=ascii_only) + "\n"


def position(text: str, needle: str) -> tuple[int, int]:
    """The 1-based line and column (in characters) where `needle` starts in `text`."""
    at = text.index(needle)
    return text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "keyguard.toml"
    path.write_text(f"disable = {json.dumps(sorted(ASSESSMENTS))}\n", encoding="utf-8")
    return path


def scan_json(
    capsys: pytest.CaptureFixture[str], config: Path, *args: str, command: str = "scan"
) -> dict[str, Any]:
    capsys.readouterr()
    code = main([command, "-f", "json", "-c", str(config), "--jobs", "1", *args])
    out, err = capsys.readouterr()
    document: dict[str, Any] = json.loads(out)
    assert code == (1 if document["findings"] else 0), err
    assert document["scan"]["errors"] == []
    return document


def found(document: dict[str, Any]) -> set[tuple[str, int, int, str | None]]:
    return {(f["path"], f["line"], f["column"], f["where"]) for f in document["findings"]}


def test_source_and_output_secrets_name_their_file_line_and_cell(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path
) -> None:
    in_source, in_output = token("source"), token("output")
    book = notebook(
        {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": ["# Setup\n", "notes"]},
        code_cell(
            ["import os\n", "\n", f'os.environ["GITHUB_TOKEN"] = "{in_source}"\n', "run()"],
            [
                {
                    "name": "stdout",
                    "output_type": "stream",
                    "text": ["connecting\n", f"using token {in_output}\n"],
                }
            ],
        ),
    )
    path = tmp_path / "analysis.ipynb"
    path.write_text(dumps(book), encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    document = scan_json(capsys, config, str(path))
    assert found(document) == {
        (str(path), *position(text, in_source), "cell 2, line 3"),
        (str(path), *position(text, in_output), "cell 2 output, line 2"),
    }
    capsys.readouterr()
    main(["scan", "-c", str(config), str(path)])
    line, column = position(text, in_source)
    assert f"analysis.ipynb:{line}:{column}  (cell 2, line 3)" in capsys.readouterr().out


def test_images_attachments_and_metadata_are_not_scanned(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path
) -> None:
    secret = token("image")
    # The engine finds a token inside base64 text (below, as a file of its own): as an image
    # output's payload it is not text and is not read.
    payload = base64.b64encode(f"\x89PNG chunk tEXt token {secret} end".encode()).decode()
    (tmp_path / "payload.b64").write_text(f"data = {payload}\n", encoding="utf-8")
    assert scan_json(capsys, config, str(tmp_path / "payload.b64"))["findings"]
    book = notebook(
        code_cell(
            ["plot()\n"],
            [
                {
                    "output_type": "display_data",
                    "data": {"image/png": payload, "text/plain": ["<Figure size 640x480>"]},
                    "metadata": {"needs_background": "light"},
                }
            ],
        )
        | {"attachments": {"shot.png": {"image/png": payload}}},
        metadata={"widgets": {"state": payload}},
    )
    path = tmp_path / "plots.ipynb"
    path.write_text(dumps(book), encoding="utf-8")
    assert scan_json(capsys, config, str(path))["findings"] == []


def test_json_escapes_are_undone_and_columns_point_into_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path
) -> None:
    secret = token("escaped")
    # Written by hand: the token's first letter as a \\u escape, a quote and a non-ASCII letter
    # (as ensure_ascii writes it) before it on the same line.
    escaped = "\\u0067" + secret[1:]
    raw = (
        '{\n "cells": [\n  {\n   "cell_type": "code",\n   "metadata": {},\n   "outputs": [],\n'
        '   "source": [\n    "x = 1\\n",\n'
        f'    "caf\\u00e9 = \\"{escaped}\\"\\n"\n'
        '   ]\n  }\n ],\n "metadata": {},\n "nbformat": 4,\n "nbformat_minor": 5\n}\n'
    )
    path = tmp_path / "escaped.ipynb"
    path.write_text(raw, encoding="utf-8")
    document = scan_json(capsys, config, str(path), "--show-secrets")
    assert found(document) == {(str(path), *position(raw, escaped), "cell 1, line 2")}
    assert document["findings"][0]["secret"] == secret
    assert document["findings"][0]["end_column"] == position(raw, escaped)[1] + len(escaped)


def test_tracebacks_and_html_outputs_are_scanned(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path
) -> None:
    in_trace, in_html = token("trace"), token("html")
    book = notebook(
        code_cell(
            ["connect()\n"],
            [
                {
                    "output_type": "error",
                    "ename": "AuthError",
                    "evalue": "bad credentials",
                    "traceback": [
                        "\x1b[0;31mAuthError\x1b[0m: bad credentials",
                        f"  token = {in_trace}",
                    ],
                },
                {
                    "output_type": "execute_result",
                    "execution_count": 2,
                    "metadata": {},
                    "data": {"text/html": [f"<td>{in_html}</td>"]},
                },
            ],
        )
    )
    path = tmp_path / "errors.ipynb"
    path.write_text(dumps(book), encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    assert found(scan_json(capsys, config, str(path))) == {
        (str(path), *position(text, in_trace), "cell 1 output 1, line 2"),
        (str(path), *position(text, in_html), "cell 1 output 2, line 1"),
    }


def test_a_notebook_that_is_not_valid_json_is_scanned_as_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path
) -> None:
    secret = token("broken")
    text = dumps(notebook(code_cell([f"GITHUB_TOKEN = '{secret}'\n"])))
    text = text[: text.index(secret) + len(secret) + 8]  # cut short: no longer JSON
    path = tmp_path / "broken.ipynb"
    path.write_text(text, encoding="utf-8")
    assert found(scan_json(capsys, config, str(path))) == {
        (str(path), *position(text, secret), None)
    }


def test_metadata_nested_past_the_locating_reader_still_places_findings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path
) -> None:
    """json.loads reads nesting the reader that locates strings does not: the cell is still
    named, and the line is where the value first appears in the file."""
    secret = token("deep")
    deep: Any = "leaf"
    for _ in range(450):
        deep = [deep]
    text = dumps(notebook(code_cell([f"key = '{secret}'\n"]), metadata={"deep": deep}))
    path = tmp_path / "deep.ipynb"
    path.write_text(text, encoding="utf-8")
    assert found(scan_json(capsys, config, str(path))) == {
        (str(path), *position(text, secret), "cell 1, line 1")
    }


def test_notebooks_in_history_and_in_archives(
    capsys: pytest.CaptureFixture[str], git_repo: Callable[..., GitRepo], config: Path
) -> None:
    """History scans each blob at "any path": a notebook is known by its content there, so
    one committed under another name (an export.json) is read as one as well."""
    named, exported, zipped = token("named"), token("exported"), token("zipped")
    repo = git_repo()
    first = dumps(notebook(code_cell(["a = 1\n", f"key = '{named}'\n"])))
    second = dumps(notebook(code_cell(["b = 2\n"]), code_cell([f"key = '{exported}'\n"])))
    repo.write("nb/analysis.ipynb", first)
    repo.write("exports/export.json", second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("notebooks/model.ipynb", dumps(notebook(code_cell([f"k = '{zipped}'\n"]))))
    repo.write("dist/notebooks.zip", buffer.getvalue())
    sha = repo.commit("notebooks", date="2024-03-02T12:00:00+00:00")
    inner = dumps(notebook(code_cell([f"k = '{zipped}'\n"])))
    expected = {
        ("nb/analysis.ipynb", None, *position(first, named), "cell 1, line 2"),
        ("exports/export.json", None, *position(second, exported), "cell 2, line 1"),
        ("dist/notebooks.zip", "notebooks/model.ipynb", *position(inner, zipped), "cell 1, line 1"),
    }
    for command in ("scan", "history", "history"):  # the last from the history cache
        document = scan_json(capsys, config, str(repo.path), command=command)
        assert {
            (f["path"], f["member"], f["line"], f["column"], f["where"])
            for f in document["findings"]
        } == expected
        if command == "history":
            assert {f["commit"] for f in document["findings"]} == {sha}


_LINES = st.lists(st.text(max_size=30), max_size=4)


@given(
    before=_LINES,
    cell=st.integers(0, 3),
    prefix=st.text(max_size=20).filter(lambda t: "\n" not in t and "\r" not in t),
    ascii_only=st.booleans(),
)
def test_any_cell_text_maps_back_to_the_file(
    compiled: CompiledRuleset, before: list[str], cell: int, prefix: str, ascii_only: bool
) -> None:
    """Whatever surrounds it (escapes, non-ASCII, lines of any length), a token in a cell is
    reported where its characters are in the file, and in the cell and line it is on."""
    secret = token("property")
    lines = [line + "\n" for line in before] + [f"{prefix} {secret} #"]
    cells = [code_cell([f"filler {n}\n"]) for n in range(cell)] + [code_cell(lines)]
    text = dumps(notebook(*cells), ascii_only=ascii_only)
    stats = Stats()
    findings = scan_one(Blob("id", "p.ipynb"), text.encode(), compiled, SkipPolicy(1 << 20), stats)
    ours = [f for f in findings if f.secret == secret]
    assert len(ours) == 1
    cell_line = sum(line.count("\n") for line in lines[:-1]) + 1
    assert (ours[0].line, ours[0].column) == position(text, secret)
    assert ours[0].where == f"cell {cell + 1}, line {cell_line}"


@given(st.binary(max_size=1024))
def test_any_bytes_named_ipynb_never_raise(compiled: CompiledRuleset, data: bytes) -> None:
    stats = Stats()
    scan_one(Blob("id", "x.ipynb"), b'{"cells": [' + data, compiled, SkipPolicy(1 << 20), stats)
    scan_one(Blob("id", "x.ipynb"), data, compiled, SkipPolicy(1 << 20), stats)
    assert stats.errors == []

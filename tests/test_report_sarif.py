"""`--format sarif` and `--format github` (annotations) plus the job summary: valid SARIF 2.1.0
against the official schema, stable fingerprints, every result located, hostile names escaped,
and no secret value in any of them."""

from __future__ import annotations

import json
import random
import re
import string
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from keyguard.cli import main
from keyguard.model import Commit, Finding
from keyguard.report import FORMATS, RenderOptions, Report, render
from keyguard.report.github import ANNOTATION_LIMIT, format_summary
from keyguard.report.sarif import artifact_uri
from tests.test_reports import _report, check_golden, project, run  # noqa: F401 - fixture

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
VALIDATOR = jsonschema.Draft4Validator(SCHEMA)


def finding(
    secret: str,
    *,
    path: str = "src/app.py",
    line: int = 3,
    column: int = 9,
    severity: str = "high",
    commit: Commit | None = None,
    in_head: bool | None = None,
) -> Finding:
    return Finding(
        rule_id="github.pat",
        title="GitHub personal access token",
        category="secret",
        severity=severity,
        confidence="high",
        path=path,
        line=line,
        column=column,
        end_line=line,
        end_column=column + len(secret),
        secret=secret,
        commit=commit,
        in_head=in_head,
        remediation="github-token",
    )


def report(*findings: Finding, errors: tuple[str, ...] = ()) -> Report:
    return _report(list(findings), errors)


def sarif(rep: Report, show: bool = False) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render(rep, "sarif", RenderOptions(show_secrets=show)))
    return document


def random_secret(rng: random.Random) -> str:
    return "ghp_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(36))


def test_formats_are_registered() -> None:
    assert {"text", "json", "jsonl", "sarif", "github"} <= set(FORMATS)


def test_sarif_validates_against_the_schema() -> None:
    rng = random.Random(1)
    commit = Commit("a" * 40, "Ann Author", "2024-01-02T03:04:05+00:00", "add it")
    rep = report(
        finding(random_secret(rng)),
        finding(
            random_secret(rng), path="dir with space/ünïcode#?.env", commit=commit, in_head=False
        ),
        finding(random_secret(rng), severity="medium"),
        errors=("blob 1234: unreadable",),
    )
    document = sarif(rep)
    errors = sorted(VALIDATOR.iter_errors(document), key=str)
    assert not errors, errors[0]
    assert document["version"] == "2.1.0"
    run_ = document["runs"][0]
    assert run_["invocations"][0]["executionSuccessful"] is False
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == ["github.pat"]
    rule = run_["tool"]["driver"]["rules"][0]
    assert rule["help"]["text"] and rule["properties"]["security-severity"] == "8.0"
    for result in run_["results"]:
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert not uri.startswith("/") and "://" not in uri and " " not in uri
        assert location["region"]["startLine"] >= 1
    assert run_["results"][1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "dir%20with%20space/%C3%BCn%C3%AFcode%23%3F.env"
    )


def test_the_schema_check_can_fail() -> None:
    document = sarif(report(finding(random_secret(random.Random(2)))))
    document["runs"][0]["results"][0]["level"] = "catastrophic"
    assert list(VALIDATOR.iter_errors(document))
    del document["version"]
    assert list(VALIDATOR.iter_errors(document))


def test_fingerprints_stable_and_distinct_on_one_line() -> None:
    rng = random.Random(3)
    one, two = random_secret(rng), random_secret(rng)
    rep = report(finding(one, column=5), finding(two, column=60))
    first = [r["partialFingerprints"] for r in sarif(rep)["runs"][0]["results"]]
    again = [r["partialFingerprints"] for r in sarif(rep)["runs"][0]["results"]]
    assert first == again
    assert first[0] != first[1]
    # The same secret twice in one file: still two distinct results.
    twice = report(finding(one, line=1), finding(one, line=9))
    hashes = [
        r["partialFingerprints"]["primaryLocationLineHash"]
        for r in sarif(twice)["runs"][0]["results"]
    ]
    assert len(set(hashes)) == 2


def test_artifact_uris_are_relative_references() -> None:
    assert artifact_uri("a/b.txt") == "a/b.txt"
    assert artifact_uri("c:/x") == "c%3A/x"
    assert artifact_uri("50%.txt") == "50%25.txt"


def test_annotations_escape_and_cap() -> None:
    rng = random.Random(4)
    hostile = "evil,file:name%\n::error::forged.txt"
    lines = render(
        report(finding(random_secret(rng), path=hostile)), "github", RenderOptions()
    ).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "::error file=evil%2Cfile%3Aname%25%0A%3A%3Aerror%3A%3Aforged.txt,line=3,"
    )
    many = [finding(random_secret(rng), line=n) for n in range(1, 16)]
    many += [finding(random_secret(rng), line=n, severity="medium") for n in range(1, 4)]
    out = render(report(*many), "github", RenderOptions()).splitlines()
    assert sum(line.startswith("::error ") for line in out) == ANNOTATION_LIMIT
    assert sum(line.startswith("::warning ") for line in out) == 3
    assert out[-1].startswith("::notice title=keyguard::5 more findings")


def test_summary_escapes_hostile_names() -> None:
    rng = random.Random(5)
    hostile = "a|b`c<script>alert(1)</script>\n| x |"
    text = format_summary(report(finding(random_secret(rng), path=hostile)))
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 2  # the header and one row: nothing broke out of its cell
    assert table[1].count("|") == 6
    assert "<script>" not in text
    assert "**1 finding**" in text


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet=string.ascii_letters + string.digits + "+/=_-", min_size=16, max_size=80),
    st.booleans(),
)
def test_no_secret_in_sarif_annotations_or_summary(secret: str, show: bool) -> None:
    # Secret-shaped: a value that also spells a word of the report's own text proves nothing.
    assume(sum(c.isdigit() for c in secret) >= 3 and sum(c.isupper() for c in secret) >= 2)
    commit = Commit("b" * 40, "A", "2024-01-02T03:04:05+00:00", "s")
    rep = report(finding(secret), finding(secret, path="other.env", commit=commit, in_head=True))
    options = RenderOptions(show_secrets=show)
    for text in (
        render(rep, "sarif", options),
        render(rep, "github", options),
        format_summary(rep),
    ):
        assert secret not in text


def normalise_sarif(text: str, root: Path) -> str:
    document = json.loads(text)
    driver = document["runs"][0]["tool"]["driver"]
    driver["version"] = driver["semanticVersion"] = "<version>"
    props = document["runs"][0]["properties"]
    for key in ("rules", "ruleset", "matcher"):
        props[key] = f"<{key}>"
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def test_sarif_and_annotation_goldens_through_the_cli(
    capsys: pytest.CaptureFixture[str],
    project: tuple[Path, Path, list[str]],  # noqa: F811
) -> None:
    root, config, secrets = project
    code, out = run(capsys, "scan", "-c", str(config), "-f", "sarif", str(root))
    assert code == 1
    assert not list(VALIDATOR.iter_errors(json.loads(out)))
    assert not any(secret in out for secret in secrets)
    check_golden("report.sarif", normalise_sarif(out, root))
    code, out = run(capsys, "scan", "-c", str(config), "-f", "github", str(root))
    assert code == 1 and not any(secret in out for secret in secrets)
    check_golden("report.github.txt", out)


def test_sarif_of_a_clean_scan(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("nothing\n", encoding="utf-8")
    code = main(["scan", str(tmp_path), "--format", "sarif", "--no-config"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (
        document["runs"][0]["results"] == []
        and document["runs"][0]["tool"]["driver"]["rules"] == []
    )
    assert not list(VALIDATOR.iter_errors(document))
    assert re.fullmatch(r"\d+\.\d+\.\d+", document["runs"][0]["tool"]["driver"]["version"])

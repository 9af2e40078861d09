#!/usr/bin/env python3
"""Score keyguard, gitleaks and Kingfisher on a public collection of leaked files nobody here wrote.

The collection is `Plazmaz/leaky-repo`: 44 files of the kinds that leak in real repositories
(shell profiles, FTP and IDE deployment configs, client credential stores, SQL dumps, password
files, framework configs), each line that holds a credential marked by the collection's author.
``benchmarks/collection/leaky-repo.labels.json`` turns those markings into line numbers
("risk" lines, and "informative" lines that name a host or user but are no credential).

Every tool scans the same exported tree (``git archive`` of the collection's HEAD, so no tool
reads ``.git``) with its default settings (Kingfisher with validation off; its default
de-duplication, and also ``--no-dedup``). A finding covers the lines from its start to its end
line. The score counts:

* **risk lines found**: labelled risk lines covered by at least one finding;
* **flagged beyond**: distinct (file, start line) of findings that cover no risk line, split into
  those on an informative line and the rest (a line the collection does not mark at all: the
  false positives proper).

Every finding counts, whatever its category (keyguard's hygiene findings too: the collection
marks password hashes as risk, and keyguard reports those as hygiene findings).

Example::

    python benchmarks/collection.py --write benchmarks/COLLECTION.md

``--collection DIR`` names a clone of leaky-repo (default: the mirror fetched here,
``/work/.mirror/Plazmaz+leaky-repo/repo``, or clone it from GitHub with ``git clone
https://github.com/Plazmaz/leaky-repo``). Reports hold the (fake) values, so they stay in a
temporary folder that is removed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LABELS = HERE / "collection" / "leaky-repo.labels.json"
DEFAULT_COLLECTION = Path("/work/.mirror/Plazmaz+leaky-repo/repo")
SECTION = "collection leaky-repo"


@dataclass(frozen=True)
class Flag:
    """One finding as a span of lines in one file (no value kept)."""

    path: str
    line: int
    end_line: int
    rule: str


@dataclass
class Score:
    tool: str
    command: str
    found: dict[str, list[int]] = field(default_factory=dict)  # path -> risk lines found
    informative: list[Flag] = field(default_factory=list)
    unmarked: list[Flag] = field(default_factory=list)
    findings: int = 0
    error: str = ""

    @property
    def found_total(self) -> int:
        return sum(len(lines) for lines in self.found.values())


# --------------------------------------------------------------------------- running the tools


def exe(name: str) -> str | None:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


def _relative(path: str, root: Path) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            return p.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return p.as_posix()
    return p.as_posix().removeprefix("./")


def _load(report: Path) -> Any:
    text = report.read_text(encoding="utf-8") if report.exists() else ""
    return json.loads(text) if text.strip() else None


def keyguard_cmd(tree: Path, report: Path) -> list[str]:
    return [sys.executable, "-m", "keyguard", "scan", str(tree), "--format", "json",
            "--output", str(report)]  # fmt: skip


def keyguard_flags(data: Any, tree: Path) -> list[Flag]:
    out = []
    for f in (data or {}).get("findings", []):
        line = int(f["line"])
        out.append(
            Flag(_relative(f["path"], tree), line, int(f.get("end_line") or line), f["rule_id"])
        )
    return out


def gitleaks_cmd(tree: Path, report: Path) -> list[str]:
    return [exe("gitleaks") or "gitleaks", "dir", str(tree), "--no-banner", "--report-format",
            "json", "--report-path", str(report), "--exit-code", "0", "--log-level", "error"]  # fmt: skip


def gitleaks_flags(data: Any, tree: Path) -> list[Flag]:
    out = []
    for f in data or []:
        line = int(f["StartLine"])
        out.append(
            Flag(_relative(f["File"], tree), line, int(f.get("EndLine") or line), f["RuleID"])
        )
    return out


def kingfisher_cmd(tree: Path, report: Path, dedup: bool = True) -> list[str]:
    cmd = [exe("kingfisher") or "kingfisher", "scan", str(tree), "--no-validate",
           "--git-history", "none", "--no-update-check", "--format", "json",
           "--output", str(report), "--quiet"]  # fmt: skip
    return cmd if dedup else [*cmd, "--no-dedup"]


def kingfisher_flags(data: Any, tree: Path) -> list[Flag]:
    items = data.get("findings", []) if isinstance(data, dict) else (data or [])
    out = []
    for item in items:
        finding = item.get("finding", item)
        line = int(finding["line"])
        # Kingfisher reports a start line and the matched snippet: its end is where the
        # snippet's lines end.
        snippet = str(finding.get("snippet") or "")
        end = line + snippet.count("\n")
        rule = item.get("rule", {})
        out.append(Flag(_relative(finding["path"], tree), line, end, str(rule.get("id", ""))))
    return out


@dataclass(frozen=True)
class Runner:
    name: str
    program: str
    command: Callable[[Path, Path], list[str]]
    parse: Callable[[Any, Path], list[Flag]]


RUNNERS = (
    Runner("keyguard", "keyguard", keyguard_cmd, keyguard_flags),
    Runner("gitleaks", "gitleaks", gitleaks_cmd, gitleaks_flags),
    Runner("kingfisher", "kingfisher", kingfisher_cmd, kingfisher_flags),
    Runner(
        "kingfisher --no-dedup",
        "kingfisher",
        lambda tree, report: kingfisher_cmd(tree, report, dedup=False),
        kingfisher_flags,
    ),
)


def shown(argv: Sequence[str], tree: Path) -> str:
    """The command as a reader would type it (no temporary paths)."""
    words = []
    for word in argv:
        if word == sys.executable:
            word = "python"
        elif word.startswith(str(tree)):
            word = "TREE"
        elif word.endswith(".json") and "/" in word:
            word = "OUT.json"
        elif "/" in word:
            word = Path(word).name
        words.append(word)
    return shlex.join(words)


def run(runner: Runner, tree: Path, work: Path, timeout: float) -> tuple[list[Flag], str, str]:
    report = work / f"{runner.name.replace(' ', '_')}.json"
    argv = runner.command(tree, report)
    if runner.program != "keyguard" and exe(runner.program) is None:
        return [], shown(argv, tree), f"{runner.program} not installed"
    done = subprocess.run(
        argv, cwd=work, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"}, check=False,
    )  # fmt: skip
    if not report.exists():
        return [], shown(argv, tree), f"no report (exit {done.returncode}): {done.stderr[-300:]}"
    return runner.parse(_load(report), tree), shown(argv, tree), ""


# --------------------------------------------------------------------------- scoring


def score(tool: str, command: str, flags: Sequence[Flag], labels: dict[str, Any]) -> Score:
    result = Score(tool, command, findings=len(flags))
    files: dict[str, dict[str, list[int]]] = labels["files"]
    seen: set[tuple[str, int]] = set()
    for flag in sorted(flags, key=lambda f: (f.path, f.line, f.end_line)):
        marks = files.get(flag.path, {"risk": [], "informative": []})
        covered = [n for n in marks["risk"] if flag.line <= n <= flag.end_line]
        if covered:
            found = result.found.setdefault(flag.path, [])
            found.extend(n for n in covered if n not in found)
            continue
        if (flag.path, flag.line) in seen:
            continue  # a second finding on a line already counted as flagged beyond
        seen.add((flag.path, flag.line))
        if any(flag.line <= n <= flag.end_line for n in marks["informative"]):
            result.informative.append(flag)
        else:
            result.unmarked.append(flag)
    return result


# --------------------------------------------------------------------------- report


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except OSError:
        return "not available"
    text = (out.stdout or out.stderr).strip().split()
    return text[-1] if text else "?"


def versions() -> dict[str, str]:
    return {
        "keyguard": _version([sys.executable, "-m", "keyguard", "--version"]),
        "gitleaks": _version([exe("gitleaks") or "gitleaks", "version"]),
        "kingfisher": _version([exe("kingfisher") or "kingfisher", "--version"]),
    }


def keyguard_commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "?"
    return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def markdown(scores: Sequence[Score], labels: dict[str, Any], head: str, command: str) -> str:
    files: dict[str, dict[str, Any]] = labels["files"]
    risk_total = sum(len(v["risk"]) for v in files.values())
    info_total = sum(len(v["informative"]) for v in files.values())
    csv_total = sum(v.get("csv", [len(v["risk"])])[0] for v in files.values())
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    tools = versions()
    lines = [
        f"Generated {when} by `{command}` at keyguard {keyguard_commit()} on "
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}; "
        f"gitleaks {tools['gitleaks']}, Kingfisher {tools['kingfisher']}.",
        "",
        f"Collection: [Plazmaz/leaky-repo](https://github.com/Plazmaz/leaky-repo) at `{head[:12]}`, "
        f"{len(files)} files, **{risk_total} risk lines** and {info_total} informative lines as "
        "the files mark them (labels: `benchmarks/collection/leaky-repo.labels.json`; the "
        f"collection's `secrets.csv` counts {csv_total} risk lines, its counts for "
        + ", ".join(f"`{p}`" for p, v in files.items() if "csv" in v)
        + " differ from those files' own markings, and the markings are used).",
        "",
        "| tool | risk lines found | flagged: informative line | flagged: unmarked line | findings | command |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for s in scores:
        if s.error:
            lines.append(f"| {s.tool} | - | - | - | - | {s.error} |")
            continue
        lines.append(
            f"| {s.tool} | **{s.found_total} / {risk_total}** | {len(s.informative)} | "
            f"{len(s.unmarked)} | {s.findings} | `{s.command}` |"
        )
    lines += ["", "Risk lines per file (found / marked):", ""]
    header = "| file | marked | " + " | ".join(s.tool for s in scores if not s.error) + " |"
    lines += [header, "|---|---:|" + "---:|" * sum(1 for s in scores if not s.error)]
    for path, marks in files.items():
        if not marks["risk"]:
            continue
        cells = [str(len(s.found.get(path, []))) for s in scores if not s.error]
        lines.append(f"| `{path}` | {len(marks['risk'])} | " + " | ".join(cells) + " |")
    for s in scores:
        if s.error or not (s.unmarked or s.informative):
            continue
        lines += ["", f"{s.tool}: lines flagged beyond the risk lines", ""]
        for flag in s.informative:
            lines.append(f"- `{flag.path}:{flag.line}` ({flag.rule}): an informative line")
        for flag in s.unmarked:
            lines.append(f"- `{flag.path}:{flag.line}` ({flag.rule}): not marked")
    return "\n".join(lines) + "\n"


def update_section(path: Path, body: str) -> None:
    begin, end = f"<!-- {SECTION}:begin -->", f"<!-- {SECTION}:end -->"
    text = path.read_text() if path.exists() else ""
    block = f"{begin}\n{body}{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = (text.rstrip() + "\n\n" if text.strip() else "") + block + "\n"
    path.write_text(text)


def export_tree(collection: Path, into: Path) -> str:
    head = subprocess.run(
        ["git", "-C", str(collection), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "-C", str(collection), "archive", "--format=tar", head],
        capture_output=True, check=True,
    )  # fmt: skip
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return head


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collection", type=Path, default=DEFAULT_COLLECTION)
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--write", type=Path, help="update this markdown file's section")
    parser.add_argument("--tools", default=",".join(r.name for r in RUNNERS))
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args(argv)
    if not (args.collection / "HEAD").exists() and not (args.collection / ".git").exists():
        parser.error(f"{args.collection} is not a git repository: clone Plazmaz/leaky-repo there")
    labels = json.loads(args.labels.read_text())
    chosen = [r for r in RUNNERS if r.name in {t.strip() for t in args.tools.split(",")}]
    scores = []
    with tempfile.TemporaryDirectory(prefix="collection-") as scratch:
        tree = Path(scratch) / "tree"
        head = export_tree(args.collection, tree)
        if head != labels["commit"]:
            print(f"warning: labels are for {labels['commit'][:12]}, collection is at {head[:12]}")
        for runner in chosen:
            flags, command, error = run(runner, tree, Path(scratch), args.timeout)
            s = score(runner.name, command, flags, labels)
            s.error = error
            scores.append(s)
            print(f"{runner.name}: {s.found_total} risk lines, {len(s.informative)} informative, "
                  f"{len(s.unmarked)} unmarked, {s.findings} findings {error}")  # fmt: skip
    shown_cmd = "python benchmarks/collection.py" + (f" --write {args.write}" if args.write else "")
    body = markdown(scores, labels, head, shown_cmd)
    if args.write:
        update_section(args.write, body)
    else:
        print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())

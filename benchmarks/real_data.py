#!/usr/bin/env python3
"""Real-data check: keyguard, gitleaks and Kingfisher on the full history of a real repository.

Runs the three scanners one after another on ``REPO`` (all refs, whole history, default
settings; Kingfisher with validation off), merges their findings into one list in which
every finding appears once whichever tools reported it, and writes that list as JSON
(``benchmarks/real_data/NAME.findings.json``) without any secret value: a finding is named
by its location, the rule ids each tool used and a preview of at most four characters.

Two findings are the same finding when they are in the same file (or the same commit or
tag message) and start on a line with the same text; a line with little text of its own
(a ``-----BEGIN`` armour header, a lone ``password:``) is compared together with the next
non-empty lines. Every finding gets a stable key, ``PATH:LINE@COMMIT12``: the commit that
first added that line to PATH (``git log --all --reverse -S``) and its line number there,
so a key does not depend on which tool reported the finding or where it saw it.

Hand classifications live beside the list, in ``benchmarks/real_data/NAME.classified.json``
(``{"findings": {KEY: {"class": "tp" | "fp" | "hygiene", "reason": "...",
"category": "..."}}}``); each run applies them, and lists the findings that have none (new)
and the classifications whose finding has gone (stale). ``--markdown FILE`` writes the
per-repository section of ``benchmarks/REAL_DATA.md`` (table and per-tool summary).

The tools' raw reports hold the secret values, so they go to a temporary folder that is
removed at the end, unless ``--reports DIR`` names a folder outside this repository to keep
them in (and ``--reuse-reports`` reads the reports already there instead of scanning).

Example::

    python benchmarks/real_data.py /work/bench/git --name git \
        --keyguard /work/bench/venv-rd/bin/keyguard \
        --gitleaks /path/to/gitleaks --kingfisher /path/to/kingfisher \
        --markdown benchmarks/REAL_DATA.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import benchlib as bl

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "real_data"
TOOLS = ("keyguard", "gitleaks", "kingfisher")
CLASSES = {
    "tp": "real credential or test key keyguard should report",
    "fp": "false positive",
    "hygiene": "not a credential: a correct hygiene finding (keyguard-only rule family)",
}
PREVIEW_CHARS = 4
MIN_OWN_TEXT = 8  # a line with fewer word characters is compared with the lines after it
ANCHOR_LINES = 3
MESSAGE_PATH = "<commit message>"
ARMOUR_HEADER = re.compile(r"\s*[A-Za-z][A-Za-z-]*: ")


# --------------------------------------------------------------------------- scanning


def scan_argv(tool: str, argv: Sequence[str], repo: Path, out: Path) -> list[str]:
    """Each tool's full-history command, default settings (Kingfisher: no validation)."""
    if tool == "keyguard":
        return [*argv, "history", str(repo), "--no-cache", "--format", "json", "--output", str(out)]
    if tool == "gitleaks":
        # with no --log-opts gitleaks reads `git log -p -U0 --full-history --all`
        return [
            *argv, "git", str(repo), "--no-banner",
            "--report-format", "json", "--report-path", str(out),
        ]  # fmt: skip
    return [
        *argv, "scan", str(repo), "--git-history=full", "--no-validate",
        "--no-update-check", "--format", "json", "--output", str(out),
    ]  # fmt: skip


@dataclass
class ToolRun:
    name: str
    version: str
    command: list[str]
    seconds: float | None = None
    exit_code: int | None = None
    note: str = ""


def run_tools(
    tools: dict[str, bl.Tool], repo: Path, reports: Path, reuse: bool, timeout: float
) -> dict[str, ToolRun]:
    runs: dict[str, ToolRun] = {}
    timings = reports / "runs.json"  # how long each report took, for --reuse-reports
    previous = json.loads(timings.read_text()) if reuse and timings.exists() else {}
    for name in TOOLS:
        tool = tools[name]
        out = reports / f"{name}.json"
        if tool.argv is None:
            runs[name] = ToolRun(name, tool.version, [], note=tool.note or "not available")
            continue
        argv = scan_argv(name, tool.argv, repo, out)
        shown = scan_argv(name, [Path(tool.argv[0]).name, *tool.argv[1:]], repo, Path("OUT"))
        run = ToolRun(name, tool.version, shown)
        runs[name] = run
        if reuse and out.exists():
            earlier = previous.get(name, {})
            run.seconds, run.exit_code = earlier.get("seconds"), earlier.get("exit_code")
            run.note = f"report reused from {out}"
            continue
        bl.step(f"{name}: {shlex.join(argv)}")
        started = time.perf_counter()
        done = subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout, check=False
        )
        run.seconds = round(time.perf_counter() - started, 1)
        run.exit_code = done.returncode
        if done.returncode not in bl.OK_EXIT_CODES[name] or not out.exists():
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            run.note = f"failed (exit {done.returncode}): {' | '.join(tail)}"
    if not reuse:
        timings.write_text(json.dumps({name: vars(run) for name, run in runs.items()}, indent=2))
    return runs


# --------------------------------------------------------------------------- reports


@dataclass
class Raw:
    """One finding as one tool reported it. Its value is not kept, only a digest of it
    (in memory, to tell which findings are the same secret; never written)."""

    tool: str
    rule: str
    path: str
    line: int
    commit: str  # "" for Kingfisher's working-tree findings
    preview: str
    digest: str = field(default="", repr=False)
    span: tuple[int, int, int, int] | None = None  # keyguard: line, column, end line, end column


def digest(value: str) -> str:
    """What tells two findings' values apart (whitespace and escaped newlines ignored)."""
    text = re.sub(r"\s|\\[nr]", "", value)
    return hashlib.sha256(text.encode(errors="replace")).hexdigest() if text else ""


def _preview(text: str) -> str:
    return text.split("…", 1)[0][:PREVIEW_CHARS]


def read_keyguard(report: Path) -> list[Raw]:
    document = json.loads(report.read_text())
    return [
        Raw(
            "keyguard",
            item["rule_id"],
            item["path"],
            int(item.get("line") or 0),
            item.get("commit") or "",
            _preview(item.get("preview") or ""),
            span=(
                int(item.get("line") or 0),
                int(item.get("column") or 0),
                int(item.get("end_line") or 0),
                int(item.get("end_column") or 0),
            ),
        )
        for item in document.get("findings", [])
    ]


def read_gitleaks(report: Path) -> list[Raw]:
    return [
        Raw(
            "gitleaks",
            item["RuleID"],
            item["File"],
            int(item.get("StartLine") or 0),
            item.get("Commit") or "",
            _preview(item.get("Secret") or ""),
            digest(item.get("Secret") or ""),
        )
        for item in json.loads(report.read_text() or "[]")
    ]


def read_kingfisher(report: Path, repo: Path) -> list[Raw]:
    document = json.loads(report.read_text())
    found = []
    for item in document.get("findings", []):
        finding = item["finding"]
        commit = ((finding.get("git_metadata") or {}).get("commit") or {}).get("id") or ""
        found.append(
            Raw(
                "kingfisher",
                item["rule"]["id"],
                bl.relative_to(finding["path"], repo),
                int(finding.get("line") or 0),
                commit,
                _preview(finding.get("snippet") or ""),
                digest(finding.get("snippet") or ""),
            )
        )
    return found


def read_reports(reports: Path, repo: Path, runs: dict[str, ToolRun]) -> list[Raw]:
    found: list[Raw] = []
    for name in TOOLS:
        report = reports / f"{name}.json"
        if runs[name].command and report.exists():
            if name == "keyguard":
                found += read_keyguard(report)
            elif name == "gitleaks":
                found += read_gitleaks(report)
            else:
                found += read_kingfisher(report, repo)
    return found


# --------------------------------------------------------------------------- git


class Git:
    def __init__(self, repo: Path) -> None:
        self.repo = repo

    def run(self, *args: str, check: bool = True) -> bytes:
        done = subprocess.run(
            ["git", "-C", str(self.repo), *args], capture_output=True, timeout=900, check=False
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"git {' '.join(args[:3])}: {done.stderr.decode().strip()}")
        return done.stdout if done.returncode == 0 else b""

    def text(self, *args: str) -> str:
        return self.run(*args).decode(errors="replace").strip()

    @cache  # noqa: B019 - one Git per run, a handful of calls
    def lines(self, commit: str, path: str) -> tuple[str, ...]:
        """The lines of PATH at COMMIT (a message pseudo-path: the message; no commit: disk)."""
        if path == MESSAGE_PATH:
            data = self.run("log", "-1", "--format=%B", commit, check=False)
        elif path.startswith("<tag ") and path.endswith(">"):
            ref = f"refs/tags/{path[5:-1]}"
            data = self.run("for-each-ref", "--format=%(contents)", ref, check=False)
        elif not commit:
            try:
                data = (self.repo / path).read_bytes()
            except OSError:
                data = b""
        else:
            data = self.run("cat-file", "blob", f"{commit}:{path}", check=False)
        return tuple(data.decode(errors="replace").splitlines())

    @cache  # noqa: B019
    def blob(self, commit: str, path: str) -> str:
        """The blob id of PATH at COMMIT (no commit: of the file on disk); "" for a message."""
        if is_message(path):
            return ""
        if not commit:
            return self.run("hash-object", "--", path, check=False).decode().strip()
        return (
            self.run("rev-parse", "--verify", "-q", f"{commit}:{path}", check=False)
            .decode()
            .strip()
        )

    @cache  # noqa: B019
    def date(self, commit: str) -> int:
        return int(self.text("log", "-1", "--format=%ct", commit) or 0) if commit else 0

    def first_adding(self, needle: str, path: str) -> str:
        """The oldest commit (any ref) whose diff changes how often NEEDLE is in PATH."""
        out = self.run("log", "--all", "--reverse", "--format=%H", "-S", needle, "--", path)
        commits = out.decode().split()
        return commits[0] if commits else ""


def own_text(line: str) -> int:
    return len(re.sub(r"\W|_", "", line.replace("BEGIN", "").replace("END", "")))


def anchor_at(lines: Sequence[str], line: int) -> tuple[str, ...]:
    """The text that identifies a finding starting on LINE (1-based) of LINES.

    An armoured block (``-----BEGIN``) is its header and first line of data (armour
    headers such as ``Version:`` skipped, so a re-export of the same key is the same
    finding); a line with little text of its own also takes the non-empty lines after it.
    """
    if not 1 <= line <= len(lines):
        return ()
    first = lines[line - 1].strip()
    anchor = [first]
    armoured = "-----BEGIN" in first
    if armoured or own_text(first) < MIN_OWN_TEXT:
        for text in lines[line:]:
            if len(anchor) == (2 if armoured else ANCHOR_LINES):
                break
            if text.strip() and not (armoured and ARMOUR_HEADER.match(text)):
                anchor.append(text.strip())
    return tuple(anchor)


def span_text(lines: Sequence[str], line: int, column: int, end_line: int, end: int) -> str:
    """The text from LINE:COLUMN up to END_LINE:END (1-based, END exclusive)."""
    if not (1 <= line <= end_line <= len(lines)) or column < 1:
        return ""
    if line == end_line:
        return lines[line - 1][column - 1 : end - 1]
    middle = lines[line : end_line - 1]
    return "\n".join([lines[line - 1][column - 1 :], *middle, lines[end_line - 1][: end - 1]])


def find_anchor(lines: Sequence[str], anchor: Sequence[str]) -> int:
    """The first line (1-based) where ANCHOR starts in LINES, or 0."""
    for number in range(1, len(lines) + 1):
        if lines[number - 1].strip() == anchor[0] and anchor_at(lines, number) == tuple(anchor):
            return number
    return 0


# --------------------------------------------------------------------------- merging


@dataclass
class Merged:
    key: str
    path: str
    line: int
    commit: str
    in_head: bool
    preview: str
    raws: list[Raw]
    paths: list[str]
    secret: str = ""  # the key of the oldest finding with the same value (itself if none)

    def rules(self, tool: str) -> list[str]:
        return sorted({raw.rule for raw in self.raws if raw.tool == tool})

    def as_json(self) -> dict[str, Any]:
        occurrences = sorted(
            {(r.tool, r.rule, r.path, r.line, r.commit[:12]) for r in self.raws},
            key=lambda o: (TOOLS.index(o[0]), o[1:]),
        )
        return {
            "key": self.key,
            "path": self.path,
            "line": self.line,
            "paths": self.paths,
            "commit": self.commit,
            "in_head": self.in_head,
            "same_value_as": self.secret if self.secret != self.key else None,
            "preview": self.preview,
            "tools": {tool: self.rules(tool) for tool in TOOLS if self.rules(tool)},
            "occurrences": [
                {"tool": t, "rule": rule, "path": p, "line": n, "commit": c}
                for t, rule, p, n, c in occurrences
            ],
        }


def is_message(path: str) -> bool:
    return path == MESSAGE_PATH or (path.startswith("<tag ") and path.endswith(">"))


def merge(raws: Iterable[Raw], git: Git) -> list[Merged]:
    groups: dict[tuple[str, str, tuple[str, ...]], list[Raw]] = {}
    for raw in raws:
        if raw.span and not raw.digest:
            raw.digest = digest(span_text(git.lines(raw.commit, raw.path), *raw.span))
        anchor = anchor_at(git.lines(raw.commit, raw.path), raw.line)
        if not anchor:  # line not found: keep the finding apart, under its own location
            anchor = (f"\0{raw.tool}:{raw.commit}:{raw.line}",)
        scope = raw.commit if is_message(raw.path) else ""
        groups.setdefault((raw.path, scope, anchor), []).append(raw)
    # Groups that share a blob and a line are one finding: a file copied or renamed (each
    # tool reports such a blob once, not always under the same path).
    keys = list(groups)
    parent = list(range(len(keys)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    first_with: dict[tuple[str, int], int] = {}
    for index, key in enumerate(keys):
        for raw in groups[key]:
            blob = git.blob(raw.commit, raw.path)
            if blob:
                other = first_with.setdefault((blob, raw.line), index)
                parent[root(index)] = root(other)
    clusters: dict[int, list[tuple[str, str, tuple[str, ...]]]] = {}
    for index, key in enumerate(keys):
        clusters.setdefault(root(index), []).append(key)
    head = git.text("rev-parse", "HEAD")
    merged = [
        place(
            [(path, anchor) for path, _, anchor in members],
            [r for k in members for r in groups[k]],
            git,
            head,
        )
        for members in clusters.values()
    ]
    merged.sort(key=lambda m: (m.path, m.line, m.key))
    same_secret(merged, git)
    return merged


def same_secret(merged: Sequence[Merged], git: Git) -> None:
    """Name the findings that hold the same secret value (copies of one key in several
    files) after the oldest of them, so that misses can also be counted per secret."""
    owner: dict[str, int] = {}
    parent = list(range(len(merged)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for index, item in enumerate(merged):
        for raw in item.raws:
            if raw.digest and not raw.rule.startswith("hygiene."):
                parent[root(index)] = root(owner.setdefault(raw.digest, index))
    groups: dict[int, list[Merged]] = {}
    for index, item in enumerate(merged):
        groups.setdefault(root(index), []).append(item)
    for members in groups.values():
        first = min(members, key=lambda m: (git.date(m.commit) if m.commit else 1 << 62, m.key))
        for item in members:
            item.secret = first.key


def place(spots: list[tuple[str, tuple[str, ...]]], raws: list[Raw], git: Git, head: str) -> Merged:
    """Give a finding its stable key: where its line was first added (oldest of its paths)."""
    preview = next((r.preview for tool in TOOLS for r in raws if r.tool == tool and r.preview), "")
    seen = sorted(raws, key=lambda r: (git.date(r.commit) if r.commit else 1 << 62, r.commit))
    origins = [(seen[0].commit, seen[0].path, seen[0].line)]
    for path, anchor in spots:
        if is_message(path) or anchor[0].startswith("\0"):
            continue
        first = git.first_adding(max(anchor, key=len), path)
        number = find_anchor(git.lines(first, path), anchor) if first else 0
        if number:
            origins.append((first, path, number))
    if len(origins) > 1:
        origins = origins[1:]  # a found origin beats the oldest report
    commit, path, line = min(origins, key=lambda o: (git.date(o[0]) if o[0] else 1 << 62, o[1]))
    in_head = any(
        not is_message(p) and find_anchor(git.lines(head, p), anchor) for p, anchor in spots
    )
    paths = sorted({p for p, _ in spots})
    where = commit[:12] or "worktree"
    return Merged(f"{path}:{line}@{where}", path, line, commit, in_head, preview, raws, paths)


# --------------------------------------------------------------------------- classes


def load_classes(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    document = json.loads(path.read_text())
    classes: dict[str, dict[str, str]] = document.get("findings", {})
    for key, entry in classes.items():
        if entry.get("class") not in CLASSES:
            raise SystemExit(f"{path}: {key}: class must be one of {', '.join(CLASSES)}")
    return classes


def reported_secrets(merged: Sequence[Merged]) -> dict[str, set[str]]:
    """For each tool, the secrets (see same_secret) it reported at one place or another."""
    return {tool: {m.secret for m in merged if m.rules(tool)} for tool in TOOLS}


def verdict(item: Merged, entry: dict[str, str] | None, reported: dict[str, set[str]]) -> str:
    """What a difference between the tools means for keyguard."""
    if entry is None:
        return "unclassified"

    def missed(tool: str) -> str:
        return tool + (
            " (location only: same secret reported elsewhere)"
            if item.secret in reported[tool]
            else ""
        )

    kind = entry["class"]
    if kind == "tp" and not item.rules("keyguard"):
        if item.secret in reported["keyguard"]:
            return "keyguard reports the same secret at another location"
        return f"keyguard miss: {entry.get('category') or 'uncategorised'}"
    if kind == "fp":
        return (
            "keyguard false positive"
            if item.rules("keyguard")
            else "false positive keyguard rightly skips"
        )
    if kind == "hygiene":
        return "keyguard-only rule family"
    missing = [missed(tool) for tool in TOOLS if not item.rules(tool)]
    return f"missed by {'; '.join(missing)}" if missing else "all agree"


def summary(merged: Sequence[Merged], classes: dict[str, dict[str, str]]) -> dict[str, Any]:
    true = [m for m in merged if classes.get(m.key, {}).get("class") == "tp"]
    secrets = {m.secret for m in true}
    result: dict[str, Any] = {"true_positives": len(true), "distinct_true": len(secrets)}
    for tool in TOOLS:
        mine = [m for m in merged if m.rules(tool)]
        kinds = [classes.get(m.key, {}).get("class", "unclassified") for m in mine]
        result[tool] = {
            "findings": len(mine),
            "raw_findings": sum(1 for m in merged for r in m.raws if r.tool == tool),
            "tp": kinds.count("tp"),
            "fp": kinds.count("fp"),
            "hygiene": kinds.count("hygiene"),
            "unclassified": kinds.count("unclassified"),
            "misses": [m.key for m in true if not m.rules(tool)],
            "distinct_reported": len({m.secret for m in true if m.rules(tool)}),
            "distinct_missed": sorted(secrets - {m.secret for m in true if m.rules(tool)}),
        }
    return result


# --------------------------------------------------------------------------- output


def md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(
    name: str,
    repo: Path,
    git: Git,
    runs: dict[str, ToolRun],
    merged: Sequence[Merged],
    classes: dict[str, dict[str, str]],
) -> str:
    facts = summary(merged, classes)
    lines = [
        f"## {name}",
        "",
        f"- repository: `{repo}`, HEAD {git.text('rev-parse', 'HEAD')[:12]}, "
        f"{git.text('rev-list', '--all', '--count')} commits reachable from "
        f"{len(git.text('for-each-ref', '--format=%(refname)').splitlines())} refs",
        f"- written: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        "| Tool | Version | Seconds | Raw findings | Command |",
        "|---|---|---:|---:|---|",
    ]
    for tool in TOOLS:
        run = runs[tool]
        seconds = f"{run.seconds:.1f}" if run.seconds is not None else "-"
        command = f"`{shlex.join(run.command)}`" if run.command else md_cell(run.note)
        raw = facts[tool]["raw_findings"]
        lines.append(f"| {tool} | {run.version} | {seconds} | {raw} | {command} |")
    reported = reported_secrets(merged)
    number_of = {item.key: number for number, item in enumerate(merged, 1)}
    lines += [
        "",
        "Every finding once (`K` keyguard, `G` gitleaks, `F` Kingfisher: the rule ids each "
        "used). The key is where the line was first added (`PATH:LINE@COMMIT`), then the "
        "other paths the same blob had; *same secret as #N*: the value is also at finding N "
        "(a copy in another file). HEAD: still in HEAD.",
        "",
        "| # | Location | HEAD | K | G | F | Class | Reason | For keyguard |",
        "|---:|---|---|---|---|---|---|---|---|",
    ]
    for number, item in enumerate(merged, 1):
        entry = classes.get(item.key)
        cells = [f"`{', '.join(item.rules(tool))}`" if item.rules(tool) else "-" for tool in TOOLS]
        also = [p for p in item.paths if p != item.path]
        where = f"`{md_cell(item.key)}`" + "".join(f"<br>also `{md_cell(p)}`" for p in also)
        if item.secret != item.key:
            where += f"<br>*same secret as #{number_of[item.secret]}*"
        kind = entry["class"] if entry else "?"
        reason = md_cell(entry["reason"]) if entry else ""
        lines.append(
            f"| {number} | {where} | {'yes' if item.in_head else 'no'} | "
            + " | ".join(cells)
            + f" | {kind} | {reason} | {md_cell(verdict(item, entry, reported))} |"
        )
    lines += [
        "",
        f"Per tool, against the union: {facts['true_positives']} true-positive locations "
        f"holding {facts['distinct_true']} distinct secrets.",
        "",
        "| Tool | Findings | True positives | False positives | Hygiene | Missed locations "
        "| Secrets reported | Missed secrets | Unclassified |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for tool in TOOLS:
        f = facts[tool]
        lines.append(
            f"| {tool} | {f['findings']} | {f['tp']} | {f['fp']} | {f['hygiene']} | "
            f"{len(f['misses'])} | {f['distinct_reported']} | {len(f['distinct_missed'])} | "
            f"{f['unclassified']} |"
        )
    for tool in TOOLS:
        if facts[tool]["misses"]:
            missed = ", ".join(f"#{number_of[key]}" for key in facts[tool]["misses"])
            secrets = ", ".join(f"#{number_of[key]}" for key in facts[tool]["distinct_missed"])
            lines.append(f"\n- {tool} misses locations {missed}; secrets {secrets or 'none'}")
    return "\n".join(lines) + "\n"


def overall(data_dir: Path) -> str:
    """The summary table over every repository with a findings file in DATA_DIR."""
    rows, total = [], {"tp": 0, "distinct": 0}
    sums = {tool: dict.fromkeys(("tp", "fp", "hygiene", "miss", "dmiss"), 0) for tool in TOOLS}
    for path in sorted(data_dir.glob("*.findings.json")):
        facts = json.loads(path.read_text())["summary"]
        cells = [f"{facts['true_positives']} ({facts['distinct_true']})"]
        total["tp"] += facts["true_positives"]
        total["distinct"] += facts["distinct_true"]
        for tool in TOOLS:
            f, s = facts[tool], sums[tool]
            part = [f["tp"], f["fp"], *([f["hygiene"]] if tool == "keyguard" else [])]
            misses = (len(f["misses"]), len(f["distinct_missed"]))
            cells.append(" / ".join(map(str, part)) + f" / {misses[0]} ({misses[1]})")
            for key, value in zip(
                ("tp", "fp", "hygiene", "miss", "dmiss"),
                (*part[:2], f["hygiene"], *misses),
                strict=True,
            ):
                s[key] += value
        rows.append(f"| {path.name.removesuffix('.findings.json')} | " + " | ".join(cells) + " |")
    last = [f"{total['tp']} ({total['distinct']})"]
    for tool in TOOLS:
        s = sums[tool]
        part = [s["tp"], s["fp"], *([s["hygiene"]] if tool == "keyguard" else [])]
        last.append(" / ".join(map(str, part)) + f" / {s['miss']} ({s['dmiss']})")
    return "\n".join(
        [
            "## Summary",
            "",
            "TP / FP (/ hygiene) / missed locations (missed distinct secrets), against the union "
            "of each repository's true positives.",
            "",
            "| Repository | TP locations (distinct secrets) | keyguard TP / FP / hygiene / missed "
            "| gitleaks TP / FP / missed | Kingfisher TP / FP / missed |",
            "|---|---:|---|---|---|",
            *rows,
            "| all | " + " | ".join(last) + " |",
        ]
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("repo", type=Path, help="a non-bare clone with every branch and tag of the project")
    add("--name", help="short name for the data files (default: the folder's name)")
    add("--keyguard", default="keyguard", help="keyguard command (default: keyguard)")
    add("--gitleaks", default="gitleaks", help="gitleaks command (default: gitleaks)")
    add("--kingfisher", default="kingfisher", help="Kingfisher command (default: kingfisher)")
    add("--reports", type=Path, help="keep the raw reports (secrets!) here, outside the repo")
    add("--reuse-reports", action="store_true", help="read the reports in --reports, no scan")
    add("--data-dir", type=Path, default=DATA_DIR, help="where NAME.*.json live")
    add("--markdown", type=Path, help="update this file's section for NAME (REAL_DATA.md)")
    add("--timeout", type=float, default=3600, help="seconds per tool (default 3600)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    repo = args.repo.resolve()
    name = args.name or repo.name
    if args.reuse_reports and not args.reports:
        raise SystemExit("--reuse-reports needs --reports DIR")
    if args.reports and args.reports.resolve().is_relative_to(HERE.parent):
        raise SystemExit("--reports must be outside this repository: the reports hold secrets")
    tools = {tool: bl.probe_tool(tool, getattr(args, tool)) for tool in TOOLS}
    git = Git(repo)
    with tempfile.TemporaryDirectory(prefix="real-data-") as scratch:
        reports = args.reports or Path(scratch)
        reports.mkdir(parents=True, exist_ok=True)
        runs = run_tools(tools, repo, reports, args.reuse_reports, args.timeout)
        raws = read_reports(reports, repo, runs)
    merged = merge(raws, git)
    classes = load_classes(args.data_dir / f"{name}.classified.json")
    reported = reported_secrets(merged)
    document = {
        "schema": "keyguard.real-data.v1",
        "name": name,
        "repo": str(repo),
        "head": git.text("rev-parse", "HEAD"),
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tools": {tool: vars(run) for tool, run in runs.items()},
        "summary": summary(merged, classes),
        "findings": [
            {
                **item.as_json(),
                **{k: v for k, v in classes.get(item.key, {}).items() if k != "key"},
                "verdict": verdict(item, classes.get(item.key), reported),
            }
            for item in merged
        ],
    }
    args.data_dir.mkdir(parents=True, exist_ok=True)
    out = args.data_dir / f"{name}.findings.json"
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    bl.step(f"wrote {out}: {len(merged)} findings from {len(raws)} reported")
    for tool in TOOLS:
        run = runs[tool]
        if run.note:
            print(f"  {tool}: {run.note}")
    keys = {item.key for item in merged}
    for item in merged:
        if item.key not in classes:
            tools_seen = " ".join(f"{t}={','.join(item.rules(t))}" for t in TOOLS if item.rules(t))
            print(f"  unclassified: {item.key}  {tools_seen}")
    for key in sorted(set(classes) - keys):
        print(f"  stale classification (no such finding now): {key}")
    if args.markdown:
        body = markdown(name, repo, git, runs, merged, classes)
        bl.update_section(args.markdown, f"real-data {name}", body)
        bl.update_section(args.markdown, "real-data summary", overall(args.data_dir))
        bl.step(f"updated {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

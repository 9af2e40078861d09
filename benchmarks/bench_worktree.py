#!/usr/bin/env python3
"""Side-by-side working-tree scan benchmark: keyguard vs gitleaks vs Kingfisher vs `cat`.

For every ``--tree``, each tool runs once to warm up (page cache, rule caches) and then
``--runs`` times round-robin. Every tool is given the same files: by default a git work tree is
first exported (``git archive HEAD | tar -x -C INPUT``, so no ``.git``: Kingfisher would
otherwise also read the repository's object store, which gitleaks ``dir`` and keyguard skip) and
all tools, and the floor, scan INPUT; ``--input as-is`` scans the tree itself. Next to each
tool's time the results give the bytes it was given and the bytes it says it scanned. Reported per tool: median and minimum wall time, peak RSS
(``ru_maxrss`` from ``os.wait4``), the number of findings in its JSON report, and its time
relative to Kingfisher, gitleaks and the floor (``cat`` of every file, single process).

Inputs (reproducible with ``--prepare``, see benchlib.prepare_inputs):

* ``/work/bench/git``: ``git clone --no-local /work/.mirror/git+git/repo /work/bench/git``
* ``/work/bench/large``: ``git archive`` of git's HEAD, v2.45.0, v2.40.0, v2.30.0 and
  v2.20.0, each into its own folder (about 4x git's working tree).

Example::

    python benchmarks/bench_worktree.py --prepare
    python benchmarks/bench_worktree.py --tree /work/bench/git --tree /work/bench/large \
        --gitleaks /path/to/gitleaks --kingfisher /path/to/kingfisher
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import benchlib as bl

SECTION = "worktree"
STARTUP_RUNS = 10


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", type=Path, help="tree to scan (repeatable)")
    parser.add_argument(
        "--input",
        choices=("export", "as-is"),
        default="export",
        help="export: scan `git archive HEAD` of a git tree, without .git, so every tool gets "
        "the same files (default); as-is: scan the tree itself, .git included",
    )
    bl.add_common_args(parser, timeout=1800)
    return parser.parse_args(argv)


@dataclass(frozen=True)
class Input:
    """What the tools scan for one ``--tree``."""

    tree: Path  # as given on the command line
    path: Path  # what every tool is pointed at
    how: str  # one sentence for the results
    files: int  # regular files under ``path``, .git included
    bytes: int
    git_bytes: int  # of those, inside .git directories


def measure_input(path: Path) -> tuple[int, int, int]:
    """(files, bytes, bytes inside .git) of every regular file under ``path``."""
    files = total = in_git = 0
    for top, dirs, names in os.walk(path):
        inside = ".git" in Path(top).relative_to(path).parts
        for name in names:
            full = os.path.join(top, name)
            if os.path.isfile(full) and not os.path.islink(full):
                size = os.path.getsize(full)
                files, total = files + 1, total + size
                in_git += size if inside else 0
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(top, d))]
    return files, total, in_git


def export_tree(tree: Path, dest: Path) -> None:
    """``git -C TREE archive --format=tar HEAD | tar -x -C DEST``."""
    dest.mkdir(parents=True)
    archive = subprocess.Popen(
        ["git", "-C", str(tree), "archive", "--format=tar", "HEAD"], stdout=subprocess.PIPE
    )
    assert archive.stdout is not None
    extract = subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout, check=False)
    archive.stdout.close()
    if archive.wait() != 0 or extract.returncode != 0:
        raise SystemExit(f"could not export {tree} with git archive")


def prepare_input(tree: Path, scratch: Path, mode: str) -> Input:
    if mode == "export" and (tree / ".git").exists():
        path = scratch / f"input-{tree.name}"
        while path.exists():  # two --tree arguments with the same name
            path = path.with_name(path.name + "+")
        export_tree(tree, path)
        how = f"`git -C {tree} archive HEAD | tar -x -C INPUT` (tracked files at HEAD, no .git)"
    elif mode == "export":
        path, how = tree, "the tree itself (not a git work tree)"
    else:
        path, how = tree, "the tree itself, as is (.git included: Kingfisher reads it)"
    files, total, in_git = measure_input(path)
    return Input(tree, path, how, files, total, in_git)


_SCANNED = {
    "keyguard": re.compile(r"(?:^|, )bytes=(\d+)"),
    "kingfisher": re.compile(r"bytes_scanned=(\d+)"),
}
_GITLEAKS_SCANNED = re.compile(r"scanned ~(\d+) bytes")


def scanned_bytes(item: bl.Measurement, scratch: Path) -> int | None:
    """The bytes a tool says it scanned (its report, or gitleaks' log of its last run)."""
    if item.tool.name in _SCANNED:
        m = _SCANNED[item.tool.name].search(item.facts)
        return int(m.group(1)) if m else None
    if item.tool.name == "gitleaks":
        try:
            log = (scratch / "gitleaks.stderr").read_text(errors="replace")
        except OSError:
            return None
        found = _GITLEAKS_SCANNED.findall(log)
        return int(found[-1]) if found else None
    return None


def given_bytes(item: bl.Measurement, given: Input) -> int:
    """Bytes under the path the tool was given, counted as the tool walks it."""
    if item.tool.name == "kingfisher":
        return given.bytes  # Kingfisher also reads .git directories
    return given.bytes - given.git_bytes  # gitleaks dir, keyguard and the floor skip .git


def input_lines(given: Input, measurements: Sequence[bl.Measurement], scratch: Path) -> list[str]:
    lines = [
        f"Input: {given.how}; {given.files} files, {given.bytes / 1e6:.1f} MB"
        + (f", of which {given.git_bytes / 1e6:.1f} MB inside .git" if given.git_bytes else "")
        + ".",
        "",
        "| Tool | Median s | MB given | MB it says it scanned |",
        "|---|---:|---:|---:|",
    ]
    for item in measurements:
        if not item.ok:
            continue
        said = scanned_bytes(item, scratch)
        shown = "-" if said is None else f"{said / 1e6:.1f}"
        lines.append(
            f"| {item.tool.name} | {item.median:.2f} | {given_bytes(item, given) / 1e6:.1f} "
            f"| {shown} |"
        )
    return lines


def floor_command(tree: Path) -> list[str]:
    quoted = shlex.quote(str(tree))
    script = f"find {quoted} -type f -not -path '*/.git/*' -print0 | xargs -0 cat > /dev/null"
    return ["bash", "-c", script]


def worktree_plan(tree: Path) -> bl.RunPlan:
    """How each tool scans ``tree`` (the report path is chosen by the runner)."""

    def plan(tool: bl.Tool, output: Path) -> tuple[list[str], Path | None]:
        if tool.name == "floor":
            return floor_command(tree), None
        argv = tool.argv or []
        target, out = str(tree), str(output)
        if tool.name == "keyguard":
            return [*argv, "scan", target, "--format", "json", "--output", out], output
        if tool.name == "gitleaks":
            return [
                *argv, "dir", target, "--no-banner",
                "--report-format", "json", "--report-path", out,
            ], output  # fmt: skip
        return [
            *argv, "scan", target, "--no-validate", "--git-history", "none",
            "--no-update-check", "--format", "json", "--output", out,
        ], output  # fmt: skip

    return plan


def probe_tools(args: argparse.Namespace) -> list[bl.Tool]:
    tools = [
        bl.probe_tool("keyguard", args.keyguard),
        bl.probe_tool("gitleaks", args.gitleaks),
        bl.probe_tool("kingfisher", args.kingfisher),
        bl.floor_tool(),
    ]
    for tool in tools:
        if tool.name in args.skip:
            tool.argv, tool.note = None, "skipped (--skip)"
    return tools


def startup_median(tool: bl.Tool, settings: bl.Settings) -> float | None:
    """Median wall time of ``TOOL --version`` (``gitleaks version``) over STARTUP_RUNS."""
    if tool.argv is None or tool.name == "floor":
        return None
    argv = [*tool.argv, *bl.VERSION_ARGS[tool.name]]
    scratch = settings.scratch
    bl.run_measured(argv, stdout=scratch / "startup.out")
    settings.gate.wait()
    times = [bl.run_measured(argv, stdout=scratch / "startup.out") for _ in range(STARTUP_RUNS)]
    if any(run.exit_code != 0 for run in times):
        return None
    return statistics.median(run.seconds for run in times)


def startup_lines(tools: Sequence[bl.Tool], settings: bl.Settings) -> list[str]:
    lines = [
        f"### Startup: `--version`, median of {STARTUP_RUNS} runs",
        "",
        "| Tool | Command | Median ms |",
        "|---|---|---:|",
    ]
    for tool in tools:
        if tool.name == "floor":
            continue
        median = startup_median(tool, settings)
        shown = "not available" if median is None else f"{median * 1000:.0f}"
        command = bl.display([*(tool.argv or [tool.name]), *bl.VERSION_ARGS[tool.name]])
        lines.append(f"| {tool.name} | `{command}` | {shown} |")
        bl.step(f"startup {tool.name}: {shown} ms")
    return lines


def tree_lines(given: Input, measurements: Sequence[bl.Measurement], scratch: Path) -> list[str]:
    tree = given.tree
    lines = [
        f"### Tree `{tree}`",
        "",
        f"git HEAD: {bl.git_head(tree)}",
        "",
        bl.results_table(measurements),
        "",
        *input_lines(given, measurements, scratch),
        "",
        "Commands (OUT is a fresh temporary file per run"
        + (", INPUT the exported tree" if given.path != tree else "")
        + "):",
        "",
        "```",
    ]
    for item in measurements:
        if item.command:
            command = item.command
            if given.path != tree:
                command = command.replace(str(given.path), "INPUT")
            lines.append(command)
    lines += ["```", "", "Findings (rule: count, then locations; secrets never shown):", ""]
    for item in measurements:
        if item.findings is not None:
            lines.append(f"- {item.tool.name}: {len(item.findings)}")
            lines += bl.findings_breakdown(item.findings, given.path)
    lines += ["", "Bars:", "", *bl.speed_bars(measurements)]
    notes = bl.notes_for(measurements) + bl.git_dir_notes(given.path)
    return lines + (["", "Notes:", "", *notes] if notes else [])


def run_tree(
    tree: Path, tools: Sequence[bl.Tool], settings: bl.Settings, mode: str = "export"
) -> list[str]:
    given = prepare_input(tree, settings.scratch, mode)
    bl.step(
        f"tree {tree}: scanning {given.path} ({given.how}): {given.files} files, "
        f"{given.bytes / 1e6:.1f} MB ({given.git_bytes / 1e6:.1f} MB inside .git)"
    )
    fresh = [bl.Tool(t.name, t.argv, t.version, t.note) for t in tools]
    measurements = bl.measure(fresh, worktree_plan(given.path), settings)
    bl.print_summary(f"results for {tree}", measurements)
    for item in measurements:
        if item.ok:
            said = scanned_bytes(item, settings.scratch)
            shown = "?" if said is None else f"{said / 1e6:.1f} MB"
            bl.step(
                f"  {item.tool.name}: given {given_bytes(item, given) / 1e6:.1f} MB, "
                f"says it scanned {shown}, median {item.median:.2f}s"
            )
        if item.findings is not None:
            bl.step(f"  {item.tool.name} findings:")
            for line in bl.findings_breakdown(item.findings, given.path):
                bl.step("  " + line)
    return tree_lines(given, measurements, settings.scratch)


def render(args: argparse.Namespace, argv: Sequence[str], body: list[str]) -> str:
    invocation = bl.display(["python", "benchmarks/bench_worktree.py", *argv])
    head = [
        "## Working-tree scan",
        "",
        f"Produced by `{invocation}`: {args.warmups} warm-up run(s), then {args.runs} "
        "measured runs per tool (round-robin). Times are wall-clock seconds; peak RSS is "
        "`ru_maxrss` of the process tree.",
        "",
        *bl.machine_info(),
        "",
    ]
    return "\n".join(head + body) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    bl.exit_on_sigterm()
    if args.prepare:
        bl.prepare_inputs(args.bench_dir, args.source_repo)
        return 0
    trees: list[Path] = args.tree or [args.bench_dir / "git", args.bench_dir / "large"]
    missing = [str(tree) for tree in trees if not tree.is_dir()]
    if missing:
        print(f"missing trees (run with --prepare first): {', '.join(missing)}", file=sys.stderr)
        return 2
    tools = probe_tools(args)
    for tool in tools:
        bl.step(f"{tool.name}: {tool.version} {bl.display(tool.argv or [])} {tool.note}")
    body: list[str] = []
    gate = bl.IdleGate(args.idle_threshold, args.max_idle_wait)
    with tempfile.TemporaryDirectory(prefix="keyguard-bench-") as tmp:
        for tree in trees:
            settings = bl.settings_from(args, Path(tmp), tree.name, gate)
            body += run_tree(tree.resolve(), tools, settings, args.input)
            body.append("")
        body += startup_lines(tools, bl.settings_from(args, Path(tmp), "startup", gate))
    if not args.no_write:
        bl.update_section(args.results, SECTION, render(args, argv, body))
        bl.step(f"wrote section '{SECTION}' of {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

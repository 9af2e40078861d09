"""Shared helpers for the keyguard side-by-side speed benchmarks.

Nothing here knows about a particular benchmark: it starts child processes and measures
them (wall time with ``time.perf_counter``, peak RSS with ``os.wait4``), resolves tool
commands, reads the tools' JSON reports, describes the machine and rewrites one delimited
section of a markdown results file.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR_DEFAULT = Path("/work/bench")
SOURCE_REPO_DEFAULT = Path("/work/.mirror/git+git/repo")
RESULTS_DEFAULT = Path(__file__).resolve().parent / "RESULTS.md"

# The "larger tree": git's HEAD plus four older releases, each exported with `git archive`
# into its own folder (no .git anywhere), about 4x the size of git's own working tree.
LARGE_TREE_LAYOUT: tuple[tuple[str, str], ...] = (
    ("head", "HEAD"),
    ("v2.45.0", "v2.45.0"),
    ("v2.40.0", "v2.40.0"),
    ("v2.30.0", "v2.30.0"),
    ("v2.20.0", "v2.20.0"),
)

# Exit codes that mean "the scan worked" for each tool (findings are not a failure).
OK_EXIT_CODES: Mapping[str, frozenset[int]] = {
    "keyguard": frozenset({0, 1}),
    "gitleaks": frozenset({0, 1}),
    "kingfisher": frozenset({0, 200, 205}),  # 200 = findings, 205 = validated findings
    "floor": frozenset({0}),
}


# --------------------------------------------------------------------------- processes


@dataclass(frozen=True)
class Run:
    """One measured execution of a child process."""

    seconds: float
    max_rss_kb: int
    exit_code: int
    timed_out: bool = False
    cpu_seconds: float = 0.0  # user + system time of the process tree
    busy_other: float = 0.0  # share of all CPUs other processes used before or during the run


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def run_measured(
    argv: Sequence[str],
    *,
    stdout: Path | None = None,
    stderr: Path | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> Run:
    """Run ``argv`` to completion; return its wall time and peak RSS (``ru_maxrss``, KB).

    The child gets its own session so a timeout kills everything it started. ``os.wait4``
    reports the largest RSS of the child and of any descendants it waited for.
    """
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
    err = open(stderr, "wb") if stderr else subprocess.DEVNULL  # noqa: SIM115
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
        fired = threading.Event()

        def on_timeout() -> None:
            fired.set()
            _kill_group(proc.pid)

        timer = threading.Timer(timeout, on_timeout) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        for handle in (out, err):
            if not isinstance(handle, int):
                handle.close()
    cpu = usage.ru_utime + usage.ru_stime
    return Run(elapsed, int(usage.ru_maxrss), proc.returncode, fired.is_set(), cpu)


def capture(argv: Sequence[str], cwd: Path | None = None, timeout: float = 60.0) -> str:
    """Run a short command and return its stdout (stripped); raise on failure."""
    done = subprocess.run(
        list(argv), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=True
    )
    return done.stdout.strip()


def resolve_command(command: str) -> list[str] | None:
    """Split ``command`` and find its executable on PATH or next to this Python.

    Returns None when the executable cannot be found.
    """
    argv = shlex.split(command)
    if not argv:
        return None
    exe = argv[0]
    if os.sep in exe:
        return argv if os.access(exe, os.X_OK) else None
    found = shutil.which(exe) or shutil.which(exe, path=str(Path(sys.executable).parent))
    return [found, *argv[1:]] if found else None


def is_script_wrapper(executable: str) -> bool:
    """True when ``executable`` is a ``#!`` script (e.g. a pip console-script wrapper)."""
    try:
        with open(executable, "rb") as handle:
            return handle.read(2) == b"#!"
    except OSError:
        return False


def tail(path: Path, limit: int = 400) -> str:
    """The last ``limit`` characters of a text file, on one line, for error notes."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return " ".join(text[-limit:].split())


# --------------------------------------------------------------------------- tools


@dataclass
class Tool:
    """A scanner (or the floor) taking part in a benchmark."""

    name: str
    argv: list[str] | None  # None: not available
    version: str
    note: str = ""
    exit_codes: frozenset[int] | None = None  # exit codes that mean success; None: by name

    @property
    def available(self) -> bool:
        return self.argv is not None

    @property
    def ok_exit_codes(self) -> frozenset[int]:
        return self.exit_codes if self.exit_codes is not None else OK_EXIT_CODES[self.name]


VERSION_ARGS: Mapping[str, tuple[str, ...]] = {
    "keyguard": ("--version",),
    "gitleaks": ("version",),
    "kingfisher": ("--version",),
}


def probe_tool(name: str, command: str) -> Tool:
    """Resolve a tool's command and ask it for its version; never raises."""
    argv = resolve_command(command)
    if argv is None:
        return Tool(name, None, "-", f"`{command}` not found")
    try:
        raw = capture([*argv, *VERSION_ARGS[name]], timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = exc.stderr if isinstance(exc, subprocess.CalledProcessError) else str(exc)
        text = " ".join(str(detail or exc).split())[-300:]
        return Tool(name, None, "-", f"`{command} {VERSION_ARGS[name][0]}` failed: {text}")
    version = raw.split()[-1] if raw else "?"
    note = f"`{argv[0]}` is a script wrapper" if is_script_wrapper(argv[0]) else ""
    return Tool(name, argv, version, note)


def floor_tool() -> Tool:
    return Tool("floor", [], "-", "")


# --------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class Finding:
    """What a report says about one finding: never the secret itself."""

    rule: str
    path: str
    line: int | None
    commit: str = ""


def _load_json_any(path: Path) -> Any:
    text = path.read_text(errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def _finding_dicts(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, list):
        return [item for item in document if isinstance(item, dict)]
    if isinstance(document, dict):
        for key in ("findings", "results", "leaks"):
            if isinstance(document.get(key), list):
                return _finding_dicts(document[key])
    return []


def _lookup(record: dict[str, Any], keys: Sequence[str]) -> Any:
    """First of ``keys`` in ``record`` or in one of its nested dicts."""
    layers = [record, *(value for value in record.values() if isinstance(value, dict))]
    for layer in layers:
        for key in keys:
            if key in layer and layer[key] not in (None, ""):
                return layer[key]
    return None


def _dig(record: Any, keys: Sequence[str]) -> Any:
    for key in keys:
        if not isinstance(record, dict):
            return None
        record = record.get(key)
    return record


def report_facts(report: Path) -> str:
    """The scan statistics a report carries about itself (keyguard, Kingfisher)."""
    try:
        document = _load_json_any(report)
    except (OSError, ValueError):
        return ""
    keyguard = _dig(document, ("scan",))
    if isinstance(keyguard, dict):
        hidden = {"kind", "targets", "errors", "ruleset", "findings", "complete"}
        return ", ".join(f"{key}={value}" for key, value in keyguard.items() if key not in hidden)
    kingfisher = _dig(document, ("metadata", "summary"))
    if isinstance(kingfisher, dict):
        keys = ("rules_applied", "blobs_scanned", "bytes_scanned")
        return ", ".join(f"{key}={kingfisher[key]}" for key in keys if key in kingfisher)
    return ""


def _describe(record: dict[str, Any]) -> Finding:
    rule = record.get("rule")
    if isinstance(rule, dict):
        rule = rule.get("id") or rule.get("name")
    rule = rule or _lookup(record, ("rule_id", "RuleID", "ruleId", "rule"))
    path = _lookup(record, ("path", "File", "file", "filename"))
    line = _lookup(record, ("line", "StartLine", "start_line", "line_number"))
    commit = _lookup(record, ("commit", "Commit", "commit_id"))
    if commit is None:  # Kingfisher: finding.git_metadata.commit.id
        commit = _dig(record, ("finding", "git_metadata", "commit", "id"))
    if isinstance(path, dict):  # some formats nest {"path": {"relative": ...}}
        path = next(iter(path.values()), "")
    return Finding(
        rule=str(rule or "?"),
        path=str(path or "?"),
        line=line if isinstance(line, int) else None,
        commit=str(commit)[:12] if isinstance(commit, str) else "",
    )


def read_findings(report: Path) -> list[Finding]:
    """Parse a JSON / JSON-lines report (gitleaks, Kingfisher or keyguard)."""
    return [_describe(record) for record in _finding_dicts(_load_json_any(report))]


def relative_to(path: str, root: Path) -> str:
    prefix = str(root).rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else path


def findings_breakdown(findings: Sequence[Finding], root: Path, limit: int = 25) -> list[str]:
    """Markdown bullet lines: counts per rule, then the first ``limit`` locations."""
    if not findings:
        return ["  - (none)"]
    lines = [
        f"  - `{rule}`: {count}"
        for rule, count in sorted(Counter(f.rule for f in findings).items())
    ]
    for item in findings[:limit]:
        where = relative_to(item.path, root)
        line = f":{item.line}" if item.line is not None else ""
        commit = f" @{item.commit}" if item.commit else ""
        lines.append(f"    - `{where}{line}`{commit} ({item.rule})")
    if len(findings) > limit:
        lines.append(f"    - ... and {len(findings) - limit} more")
    return lines


# --------------------------------------------------------------------------- results


@dataclass
class Measurement:
    """All measured runs of one tool on one target."""

    tool: Tool
    command: str
    runs: list[Run] = field(default_factory=list)
    warmup_runs: list[Run] = field(default_factory=list)
    discarded: int = 0  # measured runs repeated because other load disturbed them
    findings: list[Finding] | None = None
    error: str = ""
    facts: str = ""  # what the tool's report says about its own scan

    @property
    def ok(self) -> bool:
        return self.tool.available and not self.error and bool(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(run.seconds for run in self.runs)

    @property
    def minimum(self) -> float:
        return min(run.seconds for run in self.runs)

    @property
    def peak_rss_mb(self) -> float:
        return max(run.max_rss_kb for run in self.runs) / 1024

    @property
    def cpu_median(self) -> float:
        return statistics.median(run.cpu_seconds for run in self.runs)

    @property
    def busiest(self) -> float:
        return max(run.busy_other for run in self.runs)


def ratio(value: Measurement, base: Measurement | None) -> str:
    if base is None or not (value.ok and base.ok) or base.median <= 0:
        return "-"
    return f"{value.median / base.median:.2f}"


def measurement_row(
    item: Measurement,
    kingfisher: Measurement | None,
    gitleaks: Measurement | None,
    floor: Measurement | None,
) -> str:
    """One markdown table row."""
    name, version = item.tool.name, item.tool.version
    if not item.tool.available:
        return f"| {name} | {version} | not available | | | | | | | |"
    if not item.ok:
        return f"| {name} | {version} | failed | | | | | | | |"
    found = "-" if item.findings is None else str(len(item.findings))
    return (
        f"| {name} | {version} | {item.median:.2f} | {item.minimum:.2f} | "
        f"{item.cpu_median:.2f} | {item.peak_rss_mb:.0f} | {found} | {ratio(item, kingfisher)} | "
        f"{ratio(item, gitleaks)} | {ratio(item, floor)} |"
    )


TABLE_HEADER = (
    "| Tool | Version | Median s | Min s | CPU s | Peak RSS MB | Findings | × Kingfisher "
    "| × gitleaks | × floor |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def results_table(measurements: Sequence[Measurement]) -> str:
    by_name = {item.tool.name: item for item in measurements}
    rows = [
        measurement_row(
            item, by_name.get("kingfisher"), by_name.get("gitleaks"), by_name.get("floor")
        )
        for item in measurements
    ]
    return "\n".join([TABLE_HEADER, *rows])


def notes_for(measurements: Sequence[Measurement]) -> list[str]:
    notes: list[str] = []
    for item in measurements:
        if item.tool.note:
            notes.append(f"- {item.tool.name}: {item.tool.note}")
        if item.error:
            notes.append(f"- {item.tool.name}: {item.error}")
        if item.facts:
            notes.append(f"- {item.tool.name} report: {item.facts}")
        if item.discarded:
            notes.append(
                f"- {item.tool.name}: {item.discarded} run(s) disturbed by other load were "
                "discarded and repeated"
            )
        if item.runs and item.busiest > BUSY_NOTE:
            notes.append(
                f"- {item.tool.name}: other processes used up to {item.busiest:.0%} of the CPUs "
                "around a measured run; its times may be inflated"
            )
    return notes


BUSY_NOTE = 0.2  # mention in the results when other load was above this
DISTURBED = 0.25  # discard and repeat a measured run when other load was above this


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def others_share(before: tuple[int, int], after: tuple[int, int], own_cpu: float) -> float:
    """Share of all CPUs used by other processes between two ``_cpu_jiffies`` samples."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = (after[1] - before[1]) / ticks
    busy = (after[0] - before[0]) / ticks - own_cpu
    return max(busy, 0.0) / total if total > 0 else 0.0


def busy_fraction(interval: float = 1.0) -> float:
    """Share of all CPUs that were busy during the next ``interval`` seconds."""
    try:
        busy0, total0 = _cpu_jiffies()
        time.sleep(interval)
        busy1, total1 = _cpu_jiffies()
    except (OSError, ValueError, IndexError):
        return 0.0
    return (busy1 - busy0) / max(total1 - total0, 1)


@dataclass
class IdleGate:
    """Before a measured run, wait until other processes leave the CPUs (nearly) idle.

    ``budget`` is the total waiting allowed for a whole benchmark, so a machine that never
    settles costs minutes, not hours; the busy share seen before each run is recorded.
    """

    threshold: float = 0.15
    budget: float = 900.0

    def wait(self) -> float:
        busy = busy_fraction()
        while busy > self.threshold and self.budget > 0:
            step(f"machine busy ({busy:.0%} of CPUs), waiting ({self.budget:.0f}s budget left)")
            started = time.monotonic()
            time.sleep(4)
            busy = busy_fraction()
            self.budget -= time.monotonic() - started
        return busy


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_total_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except (OSError, ValueError):
        pass
    return "unknown"


def checkout_state(repo: Path) -> str:
    """``git describe``-like state of the keyguard checkout these scripts live in."""
    try:
        head = capture(["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"])
        dirty = capture(["git", "-C", str(repo), "status", "--porcelain", "--", "keyguard"])
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + (" + uncommitted changes under keyguard/" if dirty else "")


def machine_info() -> list[str]:
    try:
        git_version = capture(["git", "--version"])
    except (OSError, subprocess.SubprocessError):
        git_version = "git not found"
    return [
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- nproc: {len(os.sched_getaffinity(0))}",
        f"- CPU: {cpu_model()}",
        f"- memory: {memory_total_gb()}",
        f"- OS: {platform.system()} {platform.release()}",
        f"- Python: {platform.python_version()}; {git_version}",
        f"- load average when written: {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- keyguard checkout: {checkout_state(Path(__file__).resolve().parent.parent)}",
    ]


def section_markers(name: str) -> tuple[str, str]:
    return f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"


def update_section(path: Path, name: str, body: str) -> None:
    """Replace (or append) the ``name`` section of ``path``, leaving the rest intact."""
    begin, end = section_markers(name)
    block = f"{begin}\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.exists() else "# keyguard benchmark results\n"
    start, stop = text.find(begin), text.find(end)
    if start >= 0 and stop > start:
        text = text[:start] + block + text[stop + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class TreeSize:
    files: int
    bytes: int

    @property
    def megabytes(self) -> float:
        return self.bytes / 1e6


def iter_files(root: Path) -> Iterator[os.DirEntry[str]]:
    """Regular files under ``root``, skipping every ``.git`` directory."""
    stack = [str(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != ".git":
                        stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    yield entry


def tree_size(root: Path) -> TreeSize:
    files = total = 0
    for entry in iter_files(root):
        files += 1
        total += entry.stat(follow_symlinks=False).st_size
    return TreeSize(files, total)


def git_dir_notes(tree: Path) -> list[str]:
    """Warn about keyguard state inside .git, which some scanners read (Kingfisher walks .git)."""
    cache = tree / ".git" / "keyguard"
    if not cache.exists():
        return []
    return [
        f"- `{cache}` exists (keyguard's history cache, left by an earlier `keyguard history` "
        "run without --no-cache); scanners that read .git (Kingfisher does) also scan it"
    ]


def git_head(repo: Path) -> str:
    try:
        return capture(["git", "-C", str(repo), "rev-parse", "HEAD"])
    except (OSError, subprocess.SubprocessError):
        return "not a git repository"


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so temporary directories (clones) are removed."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def step(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def sh(argv: Sequence[str]) -> None:
    step("$ " + shlex.join(argv))
    subprocess.run(list(argv), check=True)


def prepare_inputs(bench_dir: Path, source: Path) -> None:
    """Build the benchmark inputs under ``bench_dir`` (idempotent).

    * ``git``: ``git clone --no-local SOURCE BENCH/git``, a normal clone with a work tree
      (only branches and tags, as users have it; a mirror's pull-request refs are dropped).
    * ``large``: ``git -C BENCH/git archive REF | tar -x -C BENCH/large/NAME`` for every
      (NAME, REF) in LARGE_TREE_LAYOUT; no .git directories.
    """
    clone = bench_dir / "git"
    bench_dir.mkdir(parents=True, exist_ok=True)
    if not (clone / ".git").exists():
        sh(["git", "clone", "--no-local", str(source), str(clone)])
    step(f"{clone}: HEAD {git_head(clone)}")
    large = bench_dir / "large"
    for name, ref in LARGE_TREE_LAYOUT:
        target = large / name
        if target.exists():
            continue
        tmp = large / f".{name}.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        commit = capture(["git", "-C", str(clone), "rev-parse", f"{ref}^{{commit}}"])
        step(f"export {ref} ({commit}) -> {target}")
        archive = subprocess.Popen(
            ["git", "-C", str(clone), "archive", "--format=tar", commit], stdout=subprocess.PIPE
        )
        subprocess.run(["tar", "-x", "-C", str(tmp)], stdin=archive.stdout, check=True)
        if archive.stdout:
            archive.stdout.close()
        if archive.wait() != 0:
            raise SystemExit(f"git archive {ref} failed")
        tmp.rename(target)
    for tree in (clone, large):
        size = tree_size(tree)
        step(f"{tree}: {size.files} files, {size.megabytes:.1f} MB (excluding .git)")


# --------------------------------------------------------------------------- running


def add_common_args(parser: argparse.ArgumentParser, timeout: float, runs: int = 3) -> None:
    """Options shared by the benchmarks."""
    add = parser.add_argument
    add("--runs", type=int, default=runs, help=f"measured runs per tool (default {runs})")
    add("--warmups", type=int, default=1, help="unmeasured runs first (default 1)")
    add("--keyguard", default="keyguard", help="keyguard command (default: keyguard)")
    add("--gitleaks", default="gitleaks", help="gitleaks command (default: gitleaks)")
    add("--kingfisher", default="kingfisher", help="Kingfisher command (default: kingfisher)")
    add("--skip", action="append", default=[], help="leave this tool out (repeatable)")
    add("--timeout", type=float, default=timeout, help=f"seconds per run (default {timeout:.0f})")
    add("--results", type=Path, default=RESULTS_DEFAULT, help="markdown file to update")
    add("--no-write", action="store_true", help="do not update --results")
    add("--keep-reports", type=Path, help="copy each tool's last JSON report into this folder")
    add(
        "--idle-threshold",
        type=float,
        default=0.15,
        help="before each measured run wait until other processes use at most this share "
        "of the CPUs (default 0.15; 1 = never wait)",
    )
    add(
        "--max-idle-wait",
        type=float,
        default=900,
        help="total seconds a whole benchmark may spend waiting for idle (default 900)",
    )
    add("--prepare", action="store_true", help="build the inputs under --bench-dir and exit")
    add("--bench-dir", type=Path, default=BENCH_DIR_DEFAULT, help="where the inputs live")
    add("--source-repo", type=Path, default=SOURCE_REPO_DEFAULT, help="git repository to clone")


def settings_from(args: argparse.Namespace, scratch: Path, tag: str, gate: IdleGate) -> Settings:
    return Settings(
        runs=args.runs,
        warmups=args.warmups,
        scratch=scratch,
        timeout=args.timeout,
        keep_reports=args.keep_reports,
        tag=tag,
        gate=gate,
    )


RunPlan = Callable[[Tool, Path], tuple[list[str], Path | None]]


def display(argv: Sequence[str]) -> str:
    """A command line as a user would type it (shell scripts shown as the script)."""
    if len(argv) == 3 and argv[0] == "bash" and argv[1] == "-c":
        return argv[2]
    return shlex.join(argv)


@dataclass(frozen=True)
class Settings:
    """How to run a benchmark: repetitions, limits and where files go."""

    runs: int
    warmups: int
    scratch: Path
    timeout: float
    keep_reports: Path | None = None  # copy each tool's last report here
    retries: int = 2  # repeat a measured run disturbed by other load, at most this often
    tag: str = ""  # prefix for kept report names (e.g. the tree's name)
    gate: IdleGate = field(default_factory=IdleGate)
    cwd: Path | None = None  # working directory of the measured commands


def measure(tools: Sequence[Tool], plan: RunPlan, settings: Settings) -> list[Measurement]:
    """Warm up every tool, then run the tools round-robin ``settings.runs`` times.

    ``plan(tool, output_path)`` returns the argv to run and the report it writes (or None).
    It is called again before each repeated (disturbed) run, so a plan may prepare fresh input
    for every run it is asked for (a new staged change, new commits to push).
    """
    results = [Measurement(tool, "") for tool in tools]
    total = settings.warmups + settings.runs
    for round_no in range(total):
        warm = round_no < settings.warmups
        for item in results:
            if not item.tool.available or item.error:
                continue
            label = "warm-up" if warm else f"run {round_no - settings.warmups + 1}/{settings.runs}"
            _run_once(item, plan, settings, label, keep=not warm)
    return results


def _run_once(
    item: Measurement, plan: RunPlan, settings: Settings, label: str, *, keep: bool
) -> None:
    name, scratch = item.tool.name, settings.scratch
    output = scratch / f"{name}.json"
    log = scratch / f"{name}.stderr"
    for attempt in range(settings.retries + 1):
        output.unlink(missing_ok=True)
        argv, report = plan(item.tool, output)
        item.command = display(argv).replace(str(output), "OUT")
        run = _run_watched(argv, settings, scratch / f"{name}.stdout", log)
        step(
            f"{name} {label}: {run.seconds:.2f}s (cpu {run.cpu_seconds:.2f}s), "
            f"{run.max_rss_kb / 1024:.0f} MB, exit {run.exit_code}"
            f"{' (timeout)' if run.timed_out else ''}, others used {run.busy_other:.0%}"
        )
        disturbed = run.busy_other > DISTURBED and settings.gate.budget > 0
        if not (keep and disturbed and attempt < settings.retries):
            break
        item.discarded += 1
        step(f"{name}: discarding that run (disturbed by other load), running it again")
    ok = run.exit_code in item.tool.ok_exit_codes and not run.timed_out
    if not ok:
        reason = "timed out" if run.timed_out else f"exit code {run.exit_code}"
        item.error = f"failed ({reason}): {tail(log)}"
        return
    (item.runs if keep else item.warmup_runs).append(run)
    if report is not None:
        _read_report(item, report, settings)


def _run_watched(argv: Sequence[str], settings: Settings, stdout: Path, stderr: Path) -> Run:
    """run_measured, plus how much of the machine other processes used around the run."""
    before_wait = settings.gate.wait()
    start = _cpu_jiffies()
    run = run_measured(
        argv, stdout=stdout, stderr=stderr, cwd=settings.cwd, timeout=settings.timeout
    )
    during = others_share(start, _cpu_jiffies(), run.cpu_seconds)
    return dataclasses.replace(run, busy_other=max(before_wait, during))


def _read_report(item: Measurement, report: Path, settings: Settings) -> None:
    try:
        findings = read_findings(report)
    except (OSError, ValueError) as exc:
        item.error = f"could not read its report {report}: {exc}"
        return
    if item.findings is not None and len(findings) != len(item.findings):
        step(f"{item.tool.name}: finding count changed ({len(item.findings)} -> {len(findings)})")
    item.findings = findings
    item.facts = report_facts(report)
    if settings.keep_reports is not None:
        settings.keep_reports.mkdir(parents=True, exist_ok=True)
        tag = f"{settings.tag}-" if settings.tag else ""
        shutil.copyfile(report, settings.keep_reports / f"{tag}{item.tool.name}.json")


def print_summary(title: str, measurements: Sequence[Measurement]) -> None:
    step(title)
    for item in measurements:
        if not item.ok:
            state = "not available" if not item.tool.available else item.error
            step(f"  {item.tool.name:10s} {state} {item.tool.note}")
            continue
        found = "-" if item.findings is None else len(item.findings)
        step(
            f"  {item.tool.name:10s} median {item.median:7.2f}s  min {item.minimum:7.2f}s  "
            f"cpu {item.cpu_median:7.2f}s  "
            f"peak {item.peak_rss_mb:6.0f} MB  findings {found}"
        )


def bar_line(label: str, passed: bool | None, detail: str) -> str:
    mark = "n/a" if passed is None else ("PASS" if passed else "FAIL")
    return f"- {label}: **{mark}** ({detail})"


def speed_bars(measurements: Sequence[Measurement]) -> list[str]:
    """keyguard median <= Kingfisher's and < half of gitleaks'; plus the floor ratio."""
    by_name = {item.tool.name: item for item in measurements}
    ours = by_name.get("keyguard")
    lines: list[str] = []
    for other, factor, text in (
        ("kingfisher", 1.0, "<= Kingfisher"),
        ("gitleaks", 0.5, "< ½ gitleaks"),
    ):
        theirs = by_name.get(other)
        if ours is None or theirs is None or not (ours.ok and theirs.ok):
            lines.append(bar_line(f"keyguard {text}", None, "not measured"))
            continue
        limit = theirs.median * factor
        passed = ours.median <= limit if factor == 1.0 else ours.median < limit
        lines.append(bar_line(f"keyguard {text}", passed, f"{ours.median:.2f}s vs {limit:.2f}s"))
    floor = by_name.get("floor")
    if ours is not None and floor is not None and ours.ok and floor.ok:
        lines.append(f"- keyguard / floor: {ours.median / floor.median:.1f}x (recorded, no bar)")
    return lines

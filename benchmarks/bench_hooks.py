#!/usr/bin/env python3
"""Git hook benchmark: keyguard's pre-commit and pre-receive hooks, beside gitleaks and Kingfisher.

* **pre-commit**: a scratch clone of git at an old tag (``--tag``, default v1.6.0: 15,649
  commits) gets a fresh staged change of 20 existing text files before every run; then, round
  robin, ``keyguard staged``, ``keyguard staged F1 ... F20`` (as the pre-commit framework calls
  it), ``gitleaks git --pre-commit --staged`` and ``kingfisher scan --staged`` are timed.
* **pre-receive**: 50 new commits on a new branch are pushed from a work clone to a bare clone
  of git (85k commits), alternately with keyguard's pre-receive hook installed and without it;
  the whole ``git push`` is timed.

Each part ends with one verification run in which a generated GitHub token (built at run time
from the ``github.pat`` rule's generator, never shown or written into this repository) is
staged or pushed, and records whether each tool caught it.

Example::

    python benchmarks/bench_hooks.py --prepare
    python benchmarks/bench_hooks.py --keyguard /work/bench/venv-default/bin/keyguard \
        --gitleaks /path/to/gitleaks --kingfisher /path/to/kingfisher
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import benchlib as bl

SECTION = "hooks"
BENCH_DIR_DEFAULT = Path("/work/bench/hooks")
SOURCE_DEFAULT = Path("/work/bench/git")
TAG_DEFAULT = "v1.6.0"
MIN_COMMITS = 10_000
STAGED_FILES = 20
PUSH_COMMITS = 50
TOKEN_COMMIT = 25  # 1-based: the verification push puts the token into this commit
STAGED_LIMIT_S = 0.5
HOOK_COST_LIMIT_S = 2.0
HOOK_OFF = "pre-receive.bench-off"  # where the hook waits while the "without" runs push
IDENTITY = ("-c", "user.name=keyguard bench", "-c", "user.email=bench@example.invalid")

# A comment for each kind of file the staged change edits: (opening, closing).
COMMENTS = {
    ".c": ("/* ", " */"),
    ".h": ("/* ", " */"),
    ".sh": ("# ", ""),
    ".perl": ("# ", ""),
    ".py": ("# ", ""),
    ".tcl": ("# ", ""),
    ".txt": ("", ""),
}
TOKEN_SCRIPT = (
    "import random\n"
    "from keyguard.examples import generate_secret\n"
    "from keyguard.signatures import load_builtin\n"
    "rule = next(r for r in load_builtin() if r.id == 'github.pat')\n"
    "print(generate_secret(rule, random.SystemRandom()))\n"
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tag",
        default=TAG_DEFAULT,
        help=f"tag of git for the pre-commit clone, >= {MIN_COMMITS} commits "
        f"(default {TAG_DEFAULT})",
    )
    parser.add_argument(
        "--only", choices=("pre-commit", "pre-receive"), help="measure only this hook"
    )
    bl.add_common_args(parser, timeout=300, runs=5)
    # Here --bench-dir holds scratch clones, and the source is a clone of git (only read).
    parser.set_defaults(bench_dir=BENCH_DIR_DEFAULT, source_repo=SOURCE_DEFAULT)
    return parser.parse_args(argv)


def git(repo: Path, *args: str, input_bytes: bytes | None = None) -> str:
    if input_bytes is None:
        return bl.capture(["git", "-C", str(repo), *args], timeout=600)
    done = subprocess.run(
        ["git", "-C", str(repo), *args], input=input_bytes, capture_output=True, check=True
    )
    return done.stdout.decode().strip()


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """The scratch repositories under ``--bench-dir``."""

    bench: Path
    source: Path
    tag: str

    @property
    def staged(self) -> Path:
        return self.bench / f"staged-{self.tag}"

    @property
    def server(self) -> Path:
        return self.bench / "server.git"

    @property
    def work(self) -> Path:
        return self.bench / "push-work"

    @property
    def hook(self) -> Path:
        return self.server / "hooks" / "pre-receive"

    @property
    def hook_off(self) -> Path:
        return self.server / "hooks" / HOOK_OFF

    def missing(self) -> list[Path]:
        wanted = (self.staged / ".git", self.server / "HEAD", self.work / ".git")
        return [path for path in wanted if not path.exists()]


def clone(argv: Sequence[str], target: Path) -> None:
    """``git clone ARGV TARGET`` via a temporary name, so an interrupted clone is redone."""
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    bl.sh(["git", "-c", "advice.detachedHead=false", "clone", "-q", *argv, str(partial)])
    partial.rename(target)


def prepare(inputs: Inputs) -> None:
    """Build the scratch clones (idempotent); the source clone is only read."""
    count = int(git(inputs.source, "rev-list", "--count", inputs.tag))
    if count < MIN_COMMITS:
        raise SystemExit(f"{inputs.tag} has {count} commits; pick a tag with >= {MIN_COMMITS}")
    inputs.bench.mkdir(parents=True, exist_ok=True)
    source = str(inputs.source)
    if not (inputs.staged / ".git").exists():
        flags = ["--no-local", "--single-branch", "--branch", inputs.tag]
        clone([*flags, source], inputs.staged)
    git(inputs.staged, "checkout", "-q", "-B", "bench", f"{inputs.tag}^{{commit}}")
    git(inputs.staged, "reset", "-q", "--hard", "HEAD")
    if not (inputs.server / "HEAD").exists():
        clone(["--bare", "--no-local", source], inputs.server)
    if not (inputs.work / ".git").exists():
        clone([str(inputs.server)], inputs.work)  # local clone: objects are hard links
    for repo in (inputs.staged, inputs.work):
        bl.step(
            f"{repo}: HEAD {bl.git_head(repo)}, {git(repo, 'rev-list', '--count', 'HEAD')} commits"
        )


def text_files(repo: Path, count: int) -> list[str]:
    """``count`` tracked text files spread evenly over the sorted file list."""
    names = sorted(
        name
        for name in git(repo, "ls-files").splitlines()
        if Path(name).suffix in COMMENTS and not name.startswith("t/t")
    )
    step = len(names) / count
    return [names[int(index * step)] for index in range(count)]


WORDS = (
    "remote", "branch", "index", "packfile", "refspec", "worktree", "submodule", "merge",
    "rebase", "object", "commit", "tree", "diff", "fetch", "reflog", "pathspec", "alias",
)  # fmt: skip
VERBS = ("clarify", "fix", "document", "mention", "describe", "simplify", "explain")


def sentence(rng: random.Random) -> str:
    """One plausible line of prose, different every time (a random serial at the end)."""
    verb, a, b, c = rng.choice(VERBS), rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS)
    return (
        f"{verb.capitalize()} how {a} handles the {b} of a {c} (change {rng.getrandbits(32):08x})."
    )


# --------------------------------------------------------------------------- pre-commit


def stage_change(repo: Path, files: Sequence[str], serial: int, extra: dict[str, str]) -> None:
    """Reset index and work tree to HEAD, append one new line to each file, stage them.

    ``extra`` maps a file name to one more line for it (the verification's token).
    """
    git(repo, "reset", "-q", "--hard", "HEAD")
    rng = random.Random()
    for name in files:
        opening, closing = COMMENTS[Path(name).suffix]
        lines = [f"bench {serial}: {sentence(rng)}"] + ([extra[name]] if name in extra else [])
        with open(repo / name, "a", encoding="utf-8") as handle:
            handle.writelines(f"{opening}{line}{closing}\n" for line in lines)
    git(repo, "add", "--", *files)


def staged_argv(tool: bl.Tool, repo: Path, files: Sequence[str], output: Path) -> list[str]:
    """The pre-commit command of each tool; run with the repository as working directory."""
    argv, out = tool.argv or [], str(output)
    if tool.name == "keyguard":
        return [*argv, "staged"]
    if tool.name == "keyguard-files":
        return [*argv, "staged", *files]
    if tool.name == "gitleaks":
        return [
            *argv, "git", "--pre-commit", "--staged", "--no-banner",
            "--report-format", "json", "--report-path", out, str(repo),
        ]  # fmt: skip
    return [
        *argv, "scan", str(repo), "--staged", "--no-validate", "--no-update-check",
        "--format", "json", "--output", out,
    ]  # fmt: skip


def staged_plan(repo: Path, files: Sequence[str], serials: Iterator[int]) -> bl.RunPlan:
    """Every run (and every repeated run) gets its own new staged change."""

    def plan(tool: bl.Tool, output: Path) -> tuple[list[str], Path | None]:
        stage_change(repo, files, next(serials), {})
        report = output if tool.name in ("gitleaks", "kingfisher") else None
        return staged_argv(tool, repo, files, output), report

    return plan


def staged_tools(keyguard: bl.Tool, others: Sequence[bl.Tool]) -> list[bl.Tool]:
    files = dataclasses.replace(keyguard, name="keyguard-files", exit_codes=frozenset({0, 1}))
    return [keyguard, files, *others]


@dataclass(frozen=True)
class Check:
    """What one tool did with the verification's token."""

    tool: str
    exit_code: int | None
    caught: bool | None  # None: not run
    detail: str


def check_staged(
    tools: Sequence[bl.Tool], repo: Path, files: Sequence[str], token: str, scratch: Path
) -> tuple[str, list[Check]]:
    """Stage a change with the token in one file; run each tool once and read its verdict."""
    target = next((name for name in files if name.endswith(".sh")), files[len(files) // 2])
    line = f"GITHUB_TOKEN={token}"
    checks: list[Check] = []
    for tool in tools:
        if not tool.available:
            checks.append(Check(tool.name, None, None, "not available"))
            continue
        stage_change(repo, files, 0, {target: line})
        report = scratch / f"verify-{tool.name}.json"
        report.unlink(missing_ok=True)
        out, err = scratch / "verify.stdout", scratch / "verify.stderr"
        argv = staged_argv(tool, repo, files, report)
        run = bl.run_measured(argv, stdout=out, stderr=err, cwd=repo, timeout=120)
        checks.append(staged_verdict(tool, run, target, report, out, err, token))
    git(repo, "reset", "-q", "--hard", "HEAD")
    git(repo, "prune", "--expire=now")  # drop the token's loose blob from the scratch clone
    return target, checks


def staged_verdict(
    tool: bl.Tool, run: bl.Run, target: str, report: Path, out: Path, err: Path, token: str
) -> Check:
    text = out.read_text(errors="replace") + err.read_text(errors="replace")
    leaked = " (it printed the secret in full!)" if token in text else ""
    if tool.name.startswith("keyguard"):
        caught = run.exit_code == 1 and "github.pat" in text and target in text
        detail = "`github.pat` named in its output" if caught else bl.tail(err, 200)
        return Check(tool.name, run.exit_code, caught, detail + leaked)
    try:
        found = bl.read_findings(report)
    except (OSError, ValueError) as exc:
        return Check(tool.name, run.exit_code, False, f"no readable report: {exc}")
    hits = [f for f in found if bl.relative_to(f.path, Path(".")).endswith(target)]
    expected = 1 if tool.name == "gitleaks" else 200
    caught = bool(hits) and run.exit_code in (expected, 205)
    shown = ", ".join(f"`{f.rule}` at line {f.line}" for f in hits) or "no finding in the file"
    return Check(tool.name, run.exit_code, caught, shown + leaked)


# --------------------------------------------------------------------------- pre-receive


@dataclass
class Pusher:
    """Makes 50 new commits on a new branch of the work clone (with git fast-import)."""

    work: Path
    base: str
    docs: dict[str, str]  # Documentation files the commits edit: path -> content at base
    scratch: Path

    @classmethod
    def at_head(cls, work: Path, scratch: Path, count: int = 10) -> Pusher:
        base = git(work, "rev-parse", "refs/remotes/origin/HEAD")
        listing = git(work, "ls-tree", "-r", "-l", base, "Documentation/").splitlines()
        small = sorted(
            fields[4]
            for fields in (line.split(maxsplit=4) for line in listing)
            if fields[1] == "blob"
            and fields[4].endswith((".txt", ".adoc"))
            and int(fields[3]) < 20_000
        )
        chosen = [small[int(i * len(small) / count)] for i in range(count)]
        docs = {path: git(work, "cat-file", "blob", f"{base}:{path}") + "\n" for path in chosen}
        return cls(work, base, docs, scratch)

    def commits(self, branch: str, token: str | None = None) -> list[str]:
        """Create ``branch`` from the base with PUSH_COMMITS new commits; return their ids.

        Odd commits append a paragraph to one of the Documentation files, even ones add a
        small new note; with ``token``, commit TOKEN_COMMIT adds a CI settings file holding it.
        """
        rng, current = random.Random(), dict(self.docs)
        stream: list[bytes] = []
        start = 1_700_000_000 + rng.randrange(10_000_000)
        for number in range(1, PUSH_COMMITS + 1):
            if token is not None and number == TOKEN_COMMIT:
                path = f"ci/{branch}/settings.env"
                content, subject = f"# CI settings\nGITHUB_TOKEN={token}\n", "ci: add settings"
            elif number % 2:
                path = list(current)[(number // 2) % len(current)]
                content = current[path] + "\n" + sentence(rng) + "\n"
                current[path], subject = content, f"doc: {sentence(rng)[:-1].lower()}"
            else:
                path = f"Documentation/notes/{branch}/note-{number:02d}.txt"
                content = "".join(sentence(rng) + "\n" for _ in range(5))
                subject = f"notes: add note {number} on {rng.choice(WORDS)}"
            parent = self.base if number == 1 else None  # later ones follow the branch
            stream.append(fast_import_commit(branch, number, start + number, subject, parent))
            stream.append(f"M 100644 inline {path}\n".encode() + fast_import_data(content))
        marks = self.scratch / "marks"
        git(
            self.work, "fast-import", "--quiet", f"--export-marks={marks}",
            input_bytes=b"".join(stream),
        )  # fmt: skip
        ids = dict(line.split() for line in marks.read_text().splitlines())
        return [ids[f":{number}"] for number in range(1, PUSH_COMMITS + 1)]


def fast_import_commit(
    branch: str, mark: int, when: int, subject: str, parent: str | None
) -> bytes:
    who = f"keyguard bench <bench@example.invalid> {when} +0000"
    head = f"commit refs/heads/{branch}\nmark :{mark}\nauthor {who}\ncommitter {who}\n"
    return (
        head.encode() + fast_import_data(subject) + (f"from {parent}\n" if parent else "").encode()
    )


def fast_import_data(content: str) -> bytes:
    data = content.encode()
    return f"data {len(data)}\n".encode() + data + b"\n"


def set_hook(inputs: Inputs, enabled: bool) -> None:
    """Move the installed hook in place, or aside (git ignores hooks/pre-receive.bench-off)."""
    source, target = (inputs.hook_off, inputs.hook) if enabled else (inputs.hook, inputs.hook_off)
    if source.exists():
        source.replace(target)
    if enabled and not inputs.hook.exists():
        raise SystemExit(f"{inputs.hook}: the hook is missing")


def push_argv(work: Path, branch: str) -> list[str]:
    return ["git", "-C", str(work), "push", "origin", branch]


def push_plan(inputs: Inputs, pusher: Pusher, serials: Iterator[int]) -> bl.RunPlan:
    def plan(tool: bl.Tool, output: Path) -> tuple[list[str], Path | None]:
        variant = "with" if tool.name == "with-hook" else "without"
        set_hook(inputs, enabled=variant == "with")
        branch = f"bench-{next(serials)}-{variant}"
        pusher.commits(branch)
        return push_argv(inputs.work, branch), None

    return plan


def install_hook(keyguard: bl.Tool, inputs: Inputs) -> tuple[str, str]:
    """``keyguard install-hook pre-receive --repo SERVER``: (the hook's exec line, error)."""
    inputs.hook_off.unlink(missing_ok=True)
    argv = [*(keyguard.argv or []), "install-hook", "pre-receive", "--repo", str(inputs.server)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not inputs.hook.exists():
        return "", f"`{bl.display(argv)}` failed: {' '.join(done.stderr.split())[-300:]}"
    lines = inputs.hook.read_text().splitlines()
    return next((line for line in lines if line.startswith("exec ")), "?"), ""


def remove_branches(inputs: Inputs) -> None:
    """Delete every bench-* branch on the server (hook aside) and in the work clone."""
    set_hook(inputs, enabled=False)
    listing = ["for-each-ref", "--format=%(refname:short)", "refs/heads/bench-*"]
    pushed = git(inputs.server, *listing).split()
    if pushed:
        git(inputs.work, "push", "-q", "origin", "--delete", *pushed)
    local = git(inputs.work, *listing).split()
    if local:
        git(inputs.work, "branch", "-q", "-D", *local)
    bl.step(f"deleted {len(pushed)} pushed branch(es), {len(local)} local one(s)")


@dataclass(frozen=True)
class PushCheck:
    exit_code: int
    names_commit: bool
    branch_created: bool
    lines: list[str]  # the hook's lines naming the commit, without the preview
    leaked: bool


def check_push(inputs: Inputs, pusher: Pusher, token: str, scratch: Path) -> PushCheck:
    set_hook(inputs, enabled=True)
    branch = "bench-verify"
    ids = pusher.commits(branch, token)
    err = scratch / "verify-push.stderr"
    run = bl.run_measured(push_argv(inputs.work, branch), stderr=err, timeout=300)
    text = err.read_text(errors="replace")
    short = ids[TOKEN_COMMIT - 1][:12]
    lines = [sanitize(line, token) for line in text.splitlines()]
    lines = [line for line in lines if short in line.split("  ")[:2]]
    created = bool(git(inputs.server, "for-each-ref", f"refs/heads/{branch}"))
    return PushCheck(run.exit_code, bool(lines), created, lines, token in text)


def sanitize(line: str, token: str) -> str:
    """A hook line with the preview cut off: ``ref  commit  path:line  rule``."""
    fields = re.split(r"\s{2,}", line.replace("remote:", "", 1).strip())
    return "  ".join(fields[:4]).replace(token, "[secret]")


# --------------------------------------------------------------------------- report


def probe(args: argparse.Namespace) -> tuple[bl.Tool, list[bl.Tool]]:
    keyguard = bl.probe_tool("keyguard", args.keyguard)
    others = [
        bl.probe_tool("gitleaks", args.gitleaks),
        bl.probe_tool("kingfisher", args.kingfisher),
    ]
    for tool in (keyguard, *others):
        if tool.name in args.skip:
            tool.argv, tool.note = None, "skipped (--skip)"
    return keyguard, others


def keyguard_python(tool: bl.Tool) -> str | None:
    """The interpreter keyguard runs with (for generating the token with its own code)."""
    argv = tool.argv or []
    if not argv:
        return None
    if bl.is_script_wrapper(argv[0]):
        shebang = shlex.split(Path(argv[0]).read_text(errors="replace").splitlines()[0][2:])
        if shebang and Path(shebang[0]).name == "env":
            shebang = shebang[1:]
        return shutil.which(shebang[0]) if shebang else None
    return argv[0] if argv[1:3] == ["-m", "keyguard"] else None


def make_token(keyguard: bl.Tool) -> tuple[str | None, str]:
    python = keyguard_python(keyguard)
    if python is None:
        return None, "cannot tell keyguard's Python interpreter"
    try:
        token = bl.capture([python, "-c", TOKEN_SCRIPT], timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"generating the token failed: {exc}"
    return token, ""


def table_commands(
    measurements: Sequence[bl.Measurement], repo: Path, files: Sequence[str]
) -> list[str]:
    """Each tool's command as run (as it would be, for a tool that did not run)."""
    lines = []
    for item in measurements:
        tool = dataclasses.replace(item.tool, argv=item.tool.argv or [item.tool.name.split("-")[0]])
        command = item.command or bl.display(staged_argv(tool, repo, files, Path("OUT")))
        lines.append(command.replace(shlex.join(files), "F1 … F20"))
    return lines


def staged_lines(
    inputs: Inputs,
    files: Sequence[str],
    measurements: Sequence[bl.Measurement],
    target: str,
    checks: Sequence[Check],
) -> list[str]:
    repo = inputs.staged
    commits = git(repo, "rev-list", "--count", "HEAD")
    tracked = len(git(repo, "ls-files").splitlines())
    lines = [
        f"### pre-commit: a staged change of {STAGED_FILES} files",
        "",
        f"- repository `{repo}`: `git clone --no-local --single-branch --branch {inputs.tag} "
        f"{inputs.source} {repo}`, HEAD {git(repo, 'rev-parse', 'HEAD')} ({inputs.tag}), "
        f"{commits} commits, {tracked} files",
        "- before every run (each command, each round): `git reset -q --hard HEAD`, one new "
        "line (random text, a comment in code files) appended to each of the 20 files, "
        "`git add -- F1 … F20`",
        "- F1 … F20: " + ", ".join(f"`{name}`" for name in files),
        "",
        bl.results_table(measurements),
        "",
        f"Commands (run in `{repo}`; OUT is a fresh temporary file per run; keyguard-files is "
        "`keyguard staged` with the file names, as the pre-commit framework passes them):",
        "",
        "```",
        *table_commands(measurements, repo, files),
        "```",
    ]
    if not checks:
        return lines
    lines += [
        "",
        f"Verification: one more change in which `{target}` also gains a line "
        "`GITHUB_TOKEN=<token>` (a `github.pat` token generated at run time, never shown):",
        "",
        "| Tool | Exit code | Caught | Detail |",
        "|---|---:|---|---|",
    ]
    for check in checks:
        caught = "-" if check.caught is None else ("yes" if check.caught else "**no**")
        code = "-" if check.exit_code is None else str(check.exit_code)
        lines.append(f"| {check.tool} | {code} | {caught} | {check.detail} |")
    return lines


def push_rows(items: Sequence[bl.Measurement]) -> list[str]:
    rows = [
        "| Variant | Runs | Median s | Min s | CPU s | Peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for item in items:
        label = "with keyguard's hook" if item.tool.name == "with-hook" else "without a hook"
        if not item.ok:
            rows.append(f"| {label} | failed | | | | |")
            continue
        rows.append(
            f"| {label} | {len(item.runs)} | {item.median:.2f} | {item.minimum:.2f} | "
            f"{item.cpu_median:.2f} | {item.peak_rss_mb:.0f} |"
        )
    cost = hook_cost(items)
    if cost is not None:
        least = items[0].minimum - items[1].minimum
        rows.append(f"| difference (with − without) | | {cost:.2f} | {least:.2f} | | |")
    return rows


def hook_cost(items: Sequence[bl.Measurement]) -> float | None:
    if len(items) != 2 or not all(item.ok for item in items):
        return None
    return items[0].median - items[1].median


def push_lines(
    inputs: Inputs, hook_line: str, items: Sequence[bl.Measurement], check: PushCheck | None
) -> list[str]:
    server = inputs.server
    lines = [
        f"### pre-receive: pushing {PUSH_COMMITS} new commits",
        "",
        f"- server `{server}`: `git clone --bare --no-local {inputs.source} {server}`, "
        f"{git(server, 'rev-list', '--all', '--count')} commits, "
        f"{len(git(server, 'for-each-ref', '--format=%(refname)').splitlines())} refs "
        "(a clone of a clone has the source's branches and tags, not its remote-tracking refs)",
        f"- work clone `{inputs.work}`: `git clone {server} {inputs.work}`",
        f"- before every run: `git fast-import` makes {PUSH_COMMITS} new commits on a new "
        "branch `bench-<run>-<variant>` from origin/HEAD (odd ones append a line to one of "
        "10 small Documentation files, even ones add a 5-line note; new random text every run)",
        f"- with: `keyguard install-hook pre-receive --repo {server}` wrote `hooks/pre-receive` "
        f"(`{hook_line}`); without: that file moved to `hooks/{HOOK_OFF}`",
        "- the pushed branches are deleted afterwards, with the hook moved aside",
        "",
        *push_rows(items),
        "",
        "Commands (timed as a whole: pack, transfer, index-pack, connectivity check and hook):",
        "",
        "```",
        shlex.join(push_argv(inputs.work, "BRANCH")).replace("BRANCH", "bench-<run>-with"),
        shlex.join(push_argv(inputs.work, "BRANCH")).replace("BRANCH", "bench-<run>-without"),
        "```",
    ]
    if check is not None:
        named = "names" if check.names_commit else "does **not** name"
        lines += [
            "",
            f"Verification push (hook installed): commit {TOKEN_COMMIT} of {PUSH_COMMITS} adds "
            "a file with a generated `github.pat` token: exit code "
            f"{check.exit_code} ({'rejected' if check.exit_code else '**accepted**'}); "
            f"the hook's output {named} commit {TOKEN_COMMIT}; branch created on the server: "
            f"{'**yes**' if check.branch_created else 'no'}"
            + ("; **the full secret appeared in the output**" if check.leaked else ""),
            *(f"- `{line}`" for line in check.lines),
        ]
    return lines


def bars(staged: Sequence[bl.Measurement], push: Sequence[bl.Measurement]) -> list[str]:
    lines: list[str] = []
    for item in staged:
        if not item.tool.name.startswith("keyguard"):
            continue
        label = f"`{item.tool.name}` median < {STAGED_LIMIT_S} s"
        if item.ok:
            lines.append(bl.bar_line(label, item.median < STAGED_LIMIT_S, f"{item.median:.2f}s"))
        else:
            lines.append(bl.bar_line(label, None, "not measured"))
    label = f"pre-receive hook cost (median with − without) < {HOOK_COST_LIMIT_S:.0f} s"
    cost = hook_cost(push)
    if cost is None:
        lines.append(bl.bar_line(label, None, "not measured"))
    else:
        lines.append(bl.bar_line(label, cost < HOOK_COST_LIMIT_S, f"{cost:.2f}s"))
    return lines


def version_note(keyguard: bl.Tool) -> list[str]:
    if keyguard.argv is None:
        return []
    try:
        text = bl.capture([*keyguard.argv, "--version", "--verbose"], timeout=60)
    except (OSError, subprocess.SubprocessError):
        return []
    return [f"- `keyguard --version --verbose`: {'; '.join(text.splitlines())}"]


# --------------------------------------------------------------------------- main


@dataclass
class Outcome:
    files: list[str] = dataclasses.field(default_factory=list)
    staged: list[bl.Measurement] = dataclasses.field(default_factory=list)
    target: str = ""
    checks: list[Check] = dataclasses.field(default_factory=list)
    hook_line: str = ""
    push: list[bl.Measurement] = dataclasses.field(default_factory=list)
    push_check: PushCheck | None = None
    notes: list[str] = dataclasses.field(default_factory=list)


def run_pre_commit(
    inputs: Inputs, keyguard: bl.Tool, others: Sequence[bl.Tool], token: str | None,
    settings: bl.Settings, outcome: Outcome,
) -> None:  # fmt: skip
    repo = inputs.staged
    git(repo, "reset", "-q", "--hard", "HEAD")
    outcome.files = text_files(repo, STAGED_FILES)
    tools = staged_tools(keyguard, others)
    plan = staged_plan(repo, outcome.files, itertools.count(1))
    outcome.staged = bl.measure(tools, plan, dataclasses.replace(settings, cwd=repo))
    bl.print_summary(f"pre-commit results for {repo}", outcome.staged)
    if token is not None:
        outcome.target, outcome.checks = check_staged(
            tools, repo, outcome.files, token, settings.scratch
        )
        for check in outcome.checks:
            bl.step(f"verification {check.tool}: exit {check.exit_code}, caught {check.caught}")
    git(repo, "reset", "-q", "--hard", "HEAD")


def run_pre_receive(
    inputs: Inputs, keyguard: bl.Tool, token: str | None, settings: bl.Settings,
    outcome: Outcome,
) -> None:  # fmt: skip
    if keyguard.argv is None:
        outcome.notes.append("- pre-receive: not measured (keyguard not available)")
        return
    pusher = Pusher.at_head(inputs.work, settings.scratch)
    remove_branches(inputs)  # leftovers of an interrupted run
    outcome.hook_line, problem = install_hook(keyguard, inputs)
    if problem:
        outcome.notes.append(f"- pre-receive: not measured ({problem})")
        return
    git_version = bl.capture(["git", "--version"]).split()[-1]
    variants = [
        bl.Tool(name, ["git"], git_version, exit_codes=frozenset({0}))
        for name in ("with-hook", "without-hook")
    ]
    try:
        outcome.push = bl.measure(variants, push_plan(inputs, pusher, itertools.count(1)), settings)
        bl.print_summary("pre-receive results (git push)", outcome.push)
        if token is not None:
            outcome.push_check = check_push(inputs, pusher, token, settings.scratch)
            bl.step(
                f"verification push: exit {outcome.push_check.exit_code}, names commit "
                f"{TOKEN_COMMIT}: {outcome.push_check.names_commit}"
            )
    finally:
        remove_branches(inputs)


def render(
    args: argparse.Namespace, argv: Sequence[str], inputs: Inputs, keyguard: bl.Tool,
    outcome: Outcome,
) -> str:  # fmt: skip
    invocation = bl.display(["python", "benchmarks/bench_hooks.py", *argv])
    lines = [
        "## Git hooks: pre-commit and pre-receive",
        "",
        f"Produced by `{invocation}`: {args.warmups} warm-up run(s), then {args.runs} measured "
        "run(s) per command, round-robin. Times are wall-clock seconds; CPU is user + system "
        "time of the process tree; peak RSS is `ru_maxrss` (largest single process).",
        "",
        *bl.machine_info(),
        "",
    ]
    if outcome.staged:
        lines += staged_lines(inputs, outcome.files, outcome.staged, outcome.target, outcome.checks)
        lines.append("")
    if outcome.push:
        lines += [*push_lines(inputs, outcome.hook_line, outcome.push, outcome.push_check), ""]
    lines += ["Bars:", "", *bars(outcome.staged, outcome.push)]
    notes = [*outcome.notes, *version_note(keyguard)]
    notes += bl.notes_for(outcome.staged) + bl.notes_for(outcome.push)
    if outcome.staged:
        notes.append(
            "- Kingfisher has a staged mode (`scan --staged`: it synthesizes a temporary commit "
            "of the index and diffs it against HEAD); it is run with `--no-validate "
            "--no-update-check`"
        )
    if outcome.push:
        notes.append(
            "- the pre-receive hook has a time budget (default 4.5 s, `keyguard.timeBudget`); "
            "past it the push is rejected, which would show as a failed run"
        )
    return "\n".join([*lines, "", "Notes:", "", *notes]) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    bl.exit_on_sigterm()
    inputs = Inputs(args.bench_dir.resolve(), args.source_repo.resolve(), args.tag)
    if args.prepare:
        prepare(inputs)
        return 0
    if inputs.missing():
        missing = ", ".join(str(path) for path in inputs.missing())
        print(f"missing inputs ({missing}); run with --prepare first", file=sys.stderr)
        return 2
    keyguard, others = probe(args)
    for tool in (keyguard, *others):
        bl.step(f"{tool.name}: {tool.version} {bl.display(tool.argv or [])} {tool.note}")
    token, problem = make_token(keyguard) if keyguard.available else (None, "no keyguard")
    outcome = Outcome()
    if token is None:
        outcome.notes.append(f"- verification runs skipped: {problem}")
    gate = bl.IdleGate(args.idle_threshold, args.max_idle_wait)
    with tempfile.TemporaryDirectory(prefix="keyguard-bench-hooks-") as tmp:
        settings = bl.settings_from(args, Path(tmp), "hooks", gate)
        if args.only != "pre-receive":
            run_pre_commit(inputs, keyguard, others, token, settings, outcome)
        if args.only != "pre-commit":
            run_pre_receive(inputs, keyguard, token, settings, outcome)
    body = render(args, argv, inputs, keyguard, outcome)
    if token is not None and token in body:
        raise SystemExit("refusing to write results that contain the generated token")
    if not args.no_write:
        bl.update_section(args.results, SECTION, body)
        bl.step(f"wrote section '{SECTION}' of {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Pre-receive load benchmark: N clients pushing into one bare repository at the same time.

A bare repository gets keyguard's pre-receive hook (``keyguard install-hook pre-receive``); N
clones of it each make one commit on a branch of their own, every other one adding a generated
GitHub token (built at run time from the ``github.pat`` rule's generator by keyguard's own
Python, never shown or written here), and all N ``git push``es over the local transport start
together. Each push's latency (``git push`` start to exit, wall clock) is recorded with its
verdict; for each N (default 1, 5 and 20) the table gives min / median / p90 / max over
``--rounds`` rounds, and counts what went wrong: a bad push accepted, a good one rejected for
no reason, a push past the time budget (``keyguard.timeBudget``, default 4.5 s) and what the
overrun policy made of it, and any push that passed past the budget without saying so.

Example::

    python benchmarks/bench_receive_load.py --python /work/venv/bin/python
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import benchlib as bl

SECTION = "receive-load"
CLIENTS_DEFAULT = "1,5,20"
OVERRAN = "did not finish within its"  # the hook's overrun message, from the scan or watchdog
IDENTITY = {
    "GIT_AUTHOR_NAME": "keyguard bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "keyguard bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}
TOKEN_SCRIPT = (
    "import random, sys\n"
    "from keyguard.examples import generate_secret\n"
    "from keyguard.signatures import load_builtin\n"
    "rule = next(r for r in load_builtin() if r.id == 'github.pat')\n"
    "rng = random.Random(int(sys.argv[1]))\n"
    "print('\\n'.join(generate_secret(rule, rng) for _ in range(int(sys.argv[2]))))\n"
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--python", default=sys.executable, help="Python with keyguard installed (default: this)")
    add("--clients", default=CLIENTS_DEFAULT, help=f"comma-separated N (default {CLIENTS_DEFAULT})")
    add("--rounds", type=int, default=3, help="concurrent rounds per N (default 3)")
    add("--overrun", choices=("fail", "pass"), default="fail", help="keyguard.overrun")
    add("--budget", type=float, help="keyguard.timeBudget (default: the hook's, 4.5 s)")
    add("--files", type=int, default=200, help="files in the server's initial commit (200)")
    add("--timeout", type=float, default=600, help="seconds one round may take (default 600)")
    add("--results", type=Path, default=bl.RESULTS_DEFAULT, help="markdown file to update")
    add("--no-write", action="store_true", help="do not update --results")
    add(
        "--idle-threshold",
        type=float,
        default=0.15,
        help="before each round wait until other processes use at most this share of the "
        "CPUs (default 0.15; 1 = never wait)",
    )
    add("--max-idle-wait", type=float, default=900, help="total seconds of waiting (900)")
    return parser.parse_args(argv)


@dataclass(frozen=True)
class Push:
    clients: int
    bad: bool
    seconds: float
    code: int
    err: str
    landed: bool

    @property
    def overran(self) -> bool:
        return OVERRAN in self.err

    @property
    def wrong(self) -> bool:
        """Judged against its content when it did not overrun (an overrun is counted apart)."""
        return not self.overran and self.landed == self.bad

    @property
    def silent_pass(self) -> bool:
        """Accepted past the budget, or with a token, without the hook's warning: must be 0."""
        return self.landed and (self.bad or self.overran) and "WARNING" not in self.err


def run(argv: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> str:
    done = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed: {shlex.join(argv)}\n{done.stderr}")
    return done.stdout.strip()


class Round:
    """A fresh server and `clients` clones with one commit each, ready to push at once."""

    def __init__(self, root: Path, args: argparse.Namespace, clients: int, tokens: list[str]):
        self.root, self.clients = root, clients
        self.bare = root / "server.git"
        home = root / "home"
        home.mkdir()
        self.env = {**os.environ, **IDENTITY, "HOME": str(home)}
        for var in ("GIT_DIR", "GIT_WORK_TREE", "GL_ID", "GL_REPOSITORY", "KEYGUARD_NO_CACHE"):
            self.env.pop(var, None)
        run(["git", "init", "-q", "--bare", "-b", "main", str(self.bare)], self.env)
        seed = root / "seed"
        run(["git", "init", "-q", "-b", "main", str(seed)], self.env)
        for n in range(args.files):
            path = seed / f"src/pkg{n % 10}/module{n}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f'"""Module {n}."""\n\nVALUE = {n}\n', encoding="utf-8")
        run(["git", "add", "-A"], self.env, seed)
        run(["git", "commit", "-q", "-m", "initial"], self.env, seed)
        run(["git", "push", "-q", str(self.bare), "main"], self.env, seed)
        install = [args.python, "-m", "keyguard", "install-hook", "pre-receive"]
        run([*install, "--repo", str(self.bare)], self.env)
        run(["git", "-C", str(self.bare), "config", "keyguard.overrun", args.overrun], self.env)
        if args.budget is not None:
            budget = f"{args.budget:g}"
            run(["git", "-C", str(self.bare), "config", "keyguard.timeBudget", budget], self.env)
        self.bad = [n % 2 == 1 for n in range(clients)]
        self.heads: list[str] = []
        for n in range(clients):
            clone = root / f"client{n}"
            run(["git", "clone", "-q", str(self.bare), str(clone)], self.env)
            name = f"client{n}/settings.env" if self.bad[n] else f"client{n}/app.py"
            text = f"GITHUB_TOKEN={tokens[n // 2]}\n" if self.bad[n] else f"VALUE = {n}\n"
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            (clone / name).write_text(text, encoding="utf-8")
            run(["git", "add", "-A"], self.env, clone)
            run(["git", "commit", "-q", "-m", f"client {n}"], self.env, clone)
            self.heads.append(run(["git", "rev-parse", "HEAD"], self.env, clone))

    def push_all(self, timeout: float) -> list[Push]:
        """All pushes released at once (a barrier); each timed from its own start."""
        barrier = threading.Barrier(self.clients)
        timed: list[tuple[float, subprocess.CompletedProcess[str]] | None] = [None] * self.clients

        def push(n: int) -> None:
            argv = ["git", "push", "--porcelain", "origin", f"HEAD:refs/heads/client{n}"]
            barrier.wait()
            started = time.perf_counter()
            done = subprocess.run(
                argv,
                cwd=self.root / f"client{n}",
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            timed[n] = (time.perf_counter() - started, done)

        threads = [threading.Thread(target=push, args=(n,)) for n in range(self.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        refs = run(
            ["git", "for-each-ref", "--format=%(refname) %(objectname)"], self.env, self.bare
        )
        on_server = dict(line.split() for line in refs.splitlines())
        out = []
        for n, item in enumerate(timed):
            if item is None:
                raise SystemExit(f"push of client {n} did not finish")
            seconds, done = item
            landed = on_server.get(f"refs/heads/client{n}") == self.heads[n]
            out.append(
                Push(self.clients, self.bad[n], seconds, done.returncode, done.stderr, landed)
            )
        return out


def make_tokens(python: str, count: int) -> list[str]:
    return bl.capture([python, "-c", TOKEN_SCRIPT, "20261202", str(count)], timeout=120).split()


def p90(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-9 * len(ordered) // 10) - 1)]  # nearest rank


def table(pushes: Sequence[Push], counts: Sequence[int]) -> list[str]:
    lines = [
        "| clients | pushes | min s | median s | p90 s | max s | bad rejected | good accepted "
        "| past budget | silent passes |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in counts:
        mine = [p for p in pushes if p.clients == n]
        seconds = [p.seconds for p in mine]
        bad = [p for p in mine if p.bad]
        good = [p for p in mine if not p.bad]
        over = [p for p in mine if p.overran]
        lines.append(
            f"| {n} | {len(mine)} | {min(seconds):.2f} | {statistics.median(seconds):.2f} "
            f"| {p90(seconds):.2f} | {max(seconds):.2f} "
            f"| {sum(not p.landed for p in bad)}/{len(bad)} "
            f"| {sum(p.landed for p in good)}/{len(good)} "
            f"| {len(over)} ({sum(p.landed for p in over)} accepted) "
            f"| {sum(p.silent_pass for p in mine)} |"
        )
    return lines


def render(argv: Sequence[str], args: argparse.Namespace, pushes: Sequence[Push]) -> str:
    counts = sorted({p.clients for p in pushes})
    invocation = bl.display(["python", "benchmarks/bench_receive_load.py", *argv])
    budget = f"{args.budget:g} s" if args.budget is not None else "the default, 4.5 s"
    wrong = [p for p in pushes if p.wrong]
    lines = [
        "## Pre-receive under load: concurrent pushes into one repository",
        "",
        f"Produced by `{invocation}`: for each N, {args.rounds} round(s) of N clones pushing "
        "one commit each to a branch of their own, all at once, over the local transport into "
        f"a bare repository ({args.files} files) with keyguard's pre-receive hook; every other "
        "push adds a generated GitHub token. Latency is each `git push`, start to exit (wall "
        f"clock). Time budget: {budget}; `keyguard.overrun = {args.overrun}`.",
        "",
        *bl.machine_info(),
        "",
        *table(pushes, counts),
        "",
        "Notes:",
        "",
        "- *bad rejected* / *good accepted*: pushes with / without a token; *past budget*: "
        "pushes the hook stopped at its time budget (the overrun policy decides them, and the "
        "hook says so); *silent passes*: accepted past the budget or with a token without the "
        "hook's warning (must be 0)",
        f"- pushes judged wrongly while within the budget: {len(wrong)}",
        "- on two cores, N hooks share two CPUs: each hook's budget counts from its own start, "
        "so past some N pushes queue for CPU and reach the overrun policy",
    ]
    if bl.busy_fraction(0.5) > bl.BUSY_NOTE:
        lines.append("- the machine was busy with other work when this was written: provisional")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    bl.exit_on_sigterm()
    counts = [int(n) for n in args.clients.split(",") if n.strip()]
    tokens = make_tokens(args.python, max(counts))
    gate = bl.IdleGate(args.idle_threshold, args.max_idle_wait)
    pushes: list[Push] = []
    with tempfile.TemporaryDirectory(prefix="keyguard-bench-receive-load-") as tmp:
        for n in counts:
            for r in range(args.rounds):
                root = Path(tmp) / f"n{n}-r{r}"
                root.mkdir()
                ready = Round(root, args, n, tokens)
                busy = gate.wait()
                got = ready.push_all(args.timeout)
                pushes += got
                seconds = sorted(p.seconds for p in got)
                bl.step(
                    f"N={n} round {r + 1}: median {statistics.median(seconds):.2f} s, max "
                    f"{seconds[-1]:.2f} s, {sum(p.overran for p in got)} past budget, "
                    f"{sum(p.wrong for p in got)} wrong, machine {busy:.0%} busy before"
                )
    body = render(argv, args, pushes)
    if any(token in body for token in tokens):
        raise SystemExit("refusing to write results that contain a generated token")
    print(body)
    if not args.no_write:
        bl.update_section(args.results, SECTION, body)
        bl.step(f"wrote section '{SECTION}' of {args.results}")
    silent = sum(p.silent_pass for p in pushes)
    return 1 if silent or any(p.wrong for p in pushes) else 0


if __name__ == "__main__":
    raise SystemExit(main())

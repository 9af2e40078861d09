"""The pre-receive hook under load: N clones pushing into one bare repository at the same time,
each push clean or adding a generated token, over the local transport with the hook installed
by `keyguard install-hook`.

Only correctness is asserted, never speed: which pushes got in and what each was told. A push
that ran out of its time budget follows `keyguard.overrun` and says so (rejected under `fail`,
accepted with a warning under `pass`); whether one does on this machine at this moment is its
business, but no push, least of all one with a secret, passes without a word. How fast the
pushes are is measured by benchmarks/bench_receive_load.py.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin
from tests.conftest import _GIT_ENV

GITHUB_PAT = next(r for r in load_builtin() if r.id == "github.pat")
OVERRAN = "did not finish within its"  # both policies' message, from the scan or the watchdog


@dataclass(frozen=True)
class Push:
    client: int
    secret: str | None  # the generated token this push adds, if it is a bad one
    code: int
    err: str
    landed: bool  # the server's ref now points at the pushed commit

    @property
    def overran(self) -> bool:
        return OVERRAN in self.err


class Fleet:
    """A bare repository with the pre-receive hook and `clients` clones of it, each with one
    new commit on its own branch (every other one adding a token), pushed all at once."""

    def __init__(self, root: Path, clients: int, cache: Path, seed: str) -> None:
        self.root = root
        self.bare = root / "server.git"
        home = root / "home"
        home.mkdir()
        self.env = {**os.environ, **_GIT_ENV, "HOME": str(home), "XDG_CACHE_HOME": str(cache)}
        for var in ("GIT_DIR", "GIT_WORK_TREE", "GL_ID", "GL_REPOSITORY", "KEYGUARD_NO_CACHE"):
            self.env.pop(var, None)
        self.run("git", "init", "-q", "--bare", "-b", "main", str(self.bare))
        seed_clone = root / "seed"
        self.run("git", "init", "-q", "-b", "main", str(seed_clone))
        (seed_clone / "README.md").write_text("shared project\n", encoding="utf-8")
        self.run("git", "add", "-A", cwd=seed_clone)
        self.run("git", "commit", "-q", "-m", "initial", cwd=seed_clone)
        self.run("git", "push", "-q", str(self.bare), "main", cwd=seed_clone)
        self.run(
            sys.executable,
            "-m",
            "keyguard",
            "install-hook",
            "pre-receive",
            "--repo",
            str(self.bare),
        )
        rng = random.Random(seed)
        self.secrets: list[str | None] = []
        self.heads: list[str] = []
        for n in range(clients):
            clone = self.clone_path(n)
            self.run("git", "clone", "-q", str(self.bare), str(clone))
            secret = generate_secret(GITHUB_PAT, rng) if n % 2 else None
            if secret is None:
                name, text = f"client{n}/app.py", f"VALUE = {n}\n"
            else:
                name, text = f"client{n}/settings.env", f"# client {n}\nGITHUB_TOKEN={secret}\n"
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            (clone / name).write_text(text, encoding="utf-8")
            self.run("git", "add", "-A", cwd=clone)
            self.run("git", "commit", "-q", "-m", f"work of client {n}", cwd=clone)
            self.heads.append(self.run("git", "rev-parse", "HEAD", cwd=clone).stdout.strip())
            self.secrets.append(secret)

    def clone_path(self, n: int) -> Path:
        return self.root / f"client{n}"

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(args, cwd=cwd, env=self.env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done

    def configure(self, key: str, value: str) -> None:
        self.run("git", "config", f"keyguard.{key}", value, cwd=self.bare)

    def push_all(self) -> list[Push]:
        """Every client pushes its branch at once (all processes started before any is
        waited for); each result with what the server's ref says afterwards."""
        processes = [
            subprocess.Popen(
                ["git", "push", "--porcelain", "origin", f"HEAD:refs/heads/client{n}"],
                cwd=self.clone_path(n),
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(len(self.heads))
        ]
        outputs = [p.communicate(timeout=600) for p in processes]
        refs = self.run("git", "for-each-ref", "--format=%(refname) %(objectname)", cwd=self.bare)
        on_server = dict(line.split() for line in refs.stdout.splitlines())
        return [
            Push(
                n,
                self.secrets[n],
                p.returncode,
                err + out,
                on_server.get(f"refs/heads/client{n}") == self.heads[n],
            )
            for n, (p, (out, err)) in enumerate(zip(processes, outputs, strict=True))
        ]


@pytest.fixture(scope="module")
def rules_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keyguard-cache")  # compiled by the first install-hook


def check(push: Push, overrun: str) -> None:
    """What every push must have been told, and what must have happened to it."""
    said = f"client {push.client}: exit {push.code}\n{push.err}"
    assert push.landed == (push.code == 0), said  # git's word and the server's refs agree
    if push.secret is not None:
        assert push.secret not in push.err, "the token is never echoed back"
    if push.overran:
        if overrun == "fail":
            assert not push.landed, said
            if "github.pat" not in push.err:  # the findings so far reject it anyway
                assert "push rejected" in push.err and "keyguard.overrun = fail" in push.err, said
        elif push.landed:
            assert "WARNING" in push.err and "accepted without a complete scan" in said, said
            assert "keyguard.overrun = pass" in push.err, said
        else:
            assert push.secret is not None and "github.pat" in push.err, said
        return
    if push.secret is None:
        assert push.landed and "push rejected" not in push.err, said
    else:
        assert not push.landed, said
        assert "github.pat" in push.err and f"client{push.client}/settings.env:2" in push.err, said


def test_five_concurrent_pushes_are_each_judged_on_their_own(
    tmp_path: Path, rules_cache: Path
) -> None:
    fleet = Fleet(tmp_path, 5, rules_cache, "load-5")
    # Here correctness must not hang on the machine's speed, so no push may overrun: the
    # default budget at N=5 is the benchmark's to measure.
    fleet.configure("timeBudget", "120")
    pushes = fleet.push_all()
    for push in pushes:
        check(push, "fail")
        assert not push.overran
    assert [p.landed for p in pushes] == [p.secret is None for p in pushes]


@pytest.mark.parametrize("overrun", ["fail", "pass"])
def test_twenty_concurrent_pushes_with_the_default_budget(
    tmp_path: Path, rules_cache: Path, overrun: str
) -> None:
    """On two cores twenty hooks may or may not fit the 4.5 s budget: each push is either
    judged on its content or follows the overrun policy, and says which."""
    fleet = Fleet(tmp_path, 20, rules_cache, f"load-20-{overrun}")
    fleet.configure("overrun", overrun)
    pushes = fleet.push_all()
    for push in pushes:
        check(push, overrun)
    on_time = [p for p in pushes if not p.overran]
    assert all(p.landed == (p.secret is None) for p in on_time)


@pytest.mark.parametrize("overrun", ["fail", "pass"])
def test_twenty_concurrent_pushes_past_the_budget_follow_the_policy(
    tmp_path: Path, rules_cache: Path, overrun: str
) -> None:
    """A budget no hook can meet: every push, clean or not, takes the overrun path, under load
    (the scan's own deadline or the watchdog), and none of them silently."""
    fleet = Fleet(tmp_path, 20, rules_cache, f"load-20-over-{overrun}")
    fleet.configure("overrun", overrun)
    fleet.configure("timeBudget", "0.001")
    pushes = fleet.push_all()
    for push in pushes:
        check(push, overrun)
        assert push.overran, f"client {push.client}: {push.err}"
    if overrun == "fail":
        assert not any(p.landed for p in pushes)
    else:
        assert all(p.landed for p in pushes)

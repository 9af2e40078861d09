"""The pre-receive hook on a real bare repository, installed with `keyguard install-hook`, driven
by real `git push`es from a clone (SHA-1 and SHA-256 repositories)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin
from tests.conftest import _GIT_ENV

GITHUB_PAT = {r.id: r for r in load_builtin()}["github.pat"]
_RNG = random.Random("pre-receive")


def token() -> str:
    return generate_secret(GITHUB_PAT, _RNG)


@dataclass
class Pushed:
    code: int
    err: str

    @property
    def accepted(self) -> bool:
        return self.code == 0


class Server:
    """A bare repository with keyguard's pre-receive hook, and a work clone that pushes to it."""

    def __init__(self, root: Path, object_format: str, cache: Path) -> None:
        self.bare = root / "server.git"
        self.work = root / "work"
        home = root / "home"
        home.mkdir()
        self.env = {
            **os.environ,
            **_GIT_ENV,
            "HOME": str(home),
            "XDG_CACHE_HOME": str(cache),  # the compiled rules stay warm across tests
        }
        for var in ("GIT_DIR", "GIT_WORK_TREE", "GL_ID", "GL_REPOSITORY"):
            self.env.pop(var, None)
        self.run(
            "git",
            "init",
            "-q",
            "--bare",
            f"--object-format={object_format}",
            "-b",
            "main",
            str(self.bare),
        )
        self.run(
            "git", "init", "-q", f"--object-format={object_format}", "-b", "main", str(self.work)
        )
        self.git("remote", "add", "origin", str(self.bare))
        self.commit("README.md", "hello\n", "initial")
        assert self.push("main").accepted  # before the hook: the server starts with history
        self.install()

    def run(
        self, *args: str, cwd: Path | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, cwd=cwd, env=self.env, capture_output=True, text=True, check=check
        )

    def install(self, *extra: str) -> subprocess.CompletedProcess[str]:
        args = ["install-hook", "pre-receive", "--repo", str(self.bare), *extra]
        return self.run(sys.executable, "-m", "keyguard", *args, check=False)

    def git(self, *args: str) -> str:
        return self.run("git", *args, cwd=self.work).stdout

    def server_git(self, *args: str) -> str:
        return self.run("git", *args, cwd=self.bare).stdout

    def commit(self, name: str, content: str, message: str) -> str:
        path = self.work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def remove(self, name: str, message: str) -> str:
        self.git("rm", "-q", name)
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def push(
        self, *refspecs: str, env: dict[str, str] | None = None, options: tuple[str, ...] = ()
    ) -> Pushed:
        args = [
            "git",
            "push",
            "--porcelain",
            *(f"--push-option={o}" for o in options),
            "origin",
            *refspecs,
        ]
        done = subprocess.run(
            args, cwd=self.work, env={**self.env, **(env or {})}, capture_output=True, text=True
        )
        return Pushed(done.returncode, done.stderr + done.stdout)

    def server_ref(self, ref: str) -> str | None:
        done = self.run("git", "rev-parse", "--verify", "--quiet", ref, cwd=self.bare, check=False)
        return done.stdout.strip() or None


@pytest.fixture(scope="session")
def rules_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keyguard-cache")


@pytest.fixture(params=["sha1", "sha256"])
def server(request: pytest.FixtureRequest, tmp_path: Path, rules_cache: Path) -> Iterator[Server]:
    yield Server(tmp_path, request.param, rules_cache)


@pytest.fixture
def sha1_server(tmp_path: Path, rules_cache: Path) -> Iterator[Server]:
    yield Server(tmp_path, "sha1", rules_cache)


def test_clean_push_is_accepted(server: Server) -> None:
    head = server.commit("app.py", "print('hello')\n", "clean change")
    pushed = server.push("main")
    assert pushed.accepted, pushed.err
    assert server.server_ref("refs/heads/main") == head


def test_secret_on_a_new_branch_is_rejected(server: Server) -> None:
    secret = token()
    server.git("checkout", "-q", "-b", "feature")
    bad = server.commit("config/app.env", f"# settings\nGITHUB_TOKEN={secret}\n", "add config")
    pushed = server.push("feature")
    assert not pushed.accepted
    assert server.server_ref("refs/heads/feature") is None
    # The rejection names ref, commit, path, line, rule and a redacted preview, never the value.
    assert "refs/heads/feature" in pushed.err
    assert bad[:12] in pushed.err
    assert "config/app.env:2" in pushed.err
    assert "github.pat" in pushed.err
    assert secret[:4] + "…" in pushed.err
    assert secret not in pushed.err
    assert "rotate" in pushed.err  # says how to fix it


def test_secret_in_the_middle_of_fifty_commits_names_its_commit(server: Server) -> None:
    secret = token()
    shas: dict[int, str] = {}
    for n in range(1, 51):
        if n == 25:
            shas[n] = server.commit("deploy/keys.env", f"GITHUB_TOKEN={secret}\n", f"commit {n}")
        elif n == 26:
            shas[n] = server.remove("deploy/keys.env", f"commit {n}")
        else:
            shas[n] = server.commit(f"src/module{n}.py", f"VALUE = {n}\n", f"commit {n}")
    pushed = server.push("main")
    assert not pushed.accepted
    assert shas[25][:12] in pushed.err
    assert shas[26][:12] not in pushed.err.split("To fix it")[0]
    assert "deploy/keys.env:1" in pushed.err


def test_force_push_rewriting_history(sha1_server: Server) -> None:
    server = sha1_server
    server.commit("a.txt", "one\n", "one")
    assert server.push("main").accepted
    # Rewrite the last commit to hold a secret: rejected.
    secret = token()
    (server.work / "a.txt").write_text(f"one\nGITHUB_TOKEN={secret}\n", encoding="utf-8")
    server.git("commit", "-q", "-a", "--amend", "-m", "one (rewritten)")
    pushed = server.push("+main")
    assert not pushed.accepted and "github.pat" in pushed.err
    # Rewrite it again without one: accepted.
    (server.work / "a.txt").write_text("one, rewritten\n", encoding="utf-8")
    server.git("commit", "-q", "-a", "--amend", "-m", "one (clean)")
    head = server.git("rev-parse", "HEAD").strip()
    pushed = server.push("+main")
    assert pushed.accepted, pushed.err
    assert server.server_ref("refs/heads/main") == head


def test_one_bad_ref_rejects_the_whole_push_and_is_named(sha1_server: Server) -> None:
    server = sha1_server
    server.git("checkout", "-q", "-b", "good")
    server.commit("good.txt", "fine\n", "good work")
    server.git("checkout", "-q", "main")
    server.git("checkout", "-q", "-b", "bad")
    server.commit("bad.env", f"GITHUB_TOKEN={token()}\n", "bad work")
    server.git("checkout", "-q", "main")
    server.commit("main.txt", "also fine\n", "main work")
    before = server.server_ref("refs/heads/main")
    pushed = server.push("good", "bad", "main")
    assert not pushed.accepted
    assert "refs/heads/bad" in pushed.err
    assert "refs/heads/good" not in pushed.err.split("\n", 3)[0]
    assert server.server_ref("refs/heads/good") is None  # every ref of the push is refused
    assert server.server_ref("refs/heads/main") == before


def test_annotated_tag_on_a_bad_commit(server: Server) -> None:
    server.git("checkout", "-q", "-b", "local-only")
    bad = server.commit("tagged.env", f"GITHUB_TOKEN={token()}\n", "release candidate")
    server.git("tag", "-a", "v1.0", "-m", "release 1.0", bad)
    pushed = server.push("refs/tags/v1.0")
    assert not pushed.accepted
    assert "refs/tags/v1.0" in pushed.err and bad[:12] in pushed.err
    assert server.server_ref("refs/tags/v1.0") is None


def test_deletion_is_accepted(server: Server) -> None:
    server.git("checkout", "-q", "-b", "topic")
    server.commit("topic.txt", "topic\n", "topic")
    assert server.push("topic").accepted
    pushed = server.push(":topic")
    assert pushed.accepted, pushed.err
    assert server.server_ref("refs/heads/topic") is None


def test_an_old_secret_does_not_block_unrelated_pushes(sha1_server: Server) -> None:
    server = sha1_server
    secret = token()
    server.commit("legacy.env", f"# old settings\nGITHUB_TOKEN={secret}\n", "legacy")
    hook = server.bare / "hooks" / "pre-receive"
    hook.rename(hook.with_suffix(".off"))  # it got in before the hook existed
    assert server.push("main").accepted
    hook.with_suffix(".off").rename(hook)
    server.commit("unrelated.py", "x = 1\n", "unrelated")
    # An edit above the old secret moves its line: not a new secret either.
    (server.work / "legacy.env").write_text(
        f"# old settings\n# more\nGITHUB_TOKEN={secret}\n", encoding="utf-8"
    )
    server.git("commit", "-q", "-a", "-m", "edit legacy")
    pushed = server.push("main")
    assert pushed.accepted, pushed.err
    # A new branch from the old history brings nothing new either.
    server.git("checkout", "-q", "-b", "from-old", "HEAD~2")
    assert server.push("from-old").accepted


def test_a_pushed_config_cannot_switch_the_scan_off(sha1_server: Server) -> None:
    server = sha1_server
    ids = " ".join(f'"{r.id}",' for r in load_builtin())
    server.commit(".keyguard.toml", f"disable = [{ids}]\n", "quiet, please")
    server.commit("leak.env", f"GITHUB_TOKEN={token()}\n", "leak")
    pushed = server.push("main")
    assert not pushed.accepted and "github.pat" in pushed.err


def test_server_config_file_applies(sha1_server: Server, tmp_path: Path) -> None:
    server = sha1_server
    rules = tmp_path / "server-rules.toml"
    rules.write_text('[allow]\npaths = ["^fixtures/"]\n', encoding="utf-8")
    server.server_git("config", "keyguard.config", str(rules))
    server.commit("fixtures/sample.env", f"GITHUB_TOKEN={token()}\n", "fixture")
    assert server.push("main").accepted
    server.commit("real.env", f"GITHUB_TOKEN={token()}\n", "real")
    assert not server.push("main").accepted


def test_time_budget_both_ways(sha1_server: Server) -> None:
    server = sha1_server
    server.commit("ok.py", "x = 1\n", "fine")
    server.server_git("config", "keyguard.timeBudget", "0.001")
    pushed = server.push("main")
    assert not pushed.accepted
    assert "budget" in pushed.err and "rejected" in pushed.err
    server.server_git("config", "keyguard.overrun", "pass")
    pushed = server.push("main")
    assert pushed.accepted, pushed.err
    assert "WARNING" in pushed.err and "budget" in pushed.err
    # ...and recorded on the server: every push nobody fully scanned can be found afterwards
    log = server.bare / "keyguard" / "bypass.log"
    assert "logged to" in pushed.err
    (entry,) = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert entry["event"] == "overrun-pass" and entry["refs"][0]["ref"] == "refs/heads/main"
    # Within a generous budget nothing is said about it.
    server.commit("ok2.py", "y = 2\n", "fine again")
    server.server_git("config", "keyguard.timeBudget", "60")
    server.server_git("config", "keyguard.overrun", "fail")
    pushed = server.push("main")
    assert pushed.accepted and "did not finish" not in pushed.err


def test_bypass_only_when_configured_and_always_logged(sha1_server: Server) -> None:
    server = sha1_server
    server.server_git("config", "receive.advertisePushOptions", "true")
    secret = token()
    server.commit("urgent.env", f"GITHUB_TOKEN={secret}\n", "hotfix")
    pushed = server.push("main", options=("keyguard-bypass",))
    assert not pushed.accepted
    assert "not allowed" in pushed.err
    server.server_git("config", "keyguard.allowBypass", "true")
    log = server.bare / "keyguard" / "bypass.log"
    pushed = server.push("main", options=("keyguard-bypass",))
    assert pushed.accepted, pushed.err
    assert "BYPASS" in pushed.err and secret not in pushed.err
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert len(entries) == 1
    assert entries[0]["findings"][0]["rule_id"] == "github.pat"
    assert secret not in log.read_text(encoding="utf-8")
    # Without the option, the same server still blocks.
    server.commit("another.env", f"GITHUB_TOKEN={token()}\n", "another")
    assert not server.push("main").accepted


def test_gitlab_lines_are_prefixed(sha1_server: Server) -> None:
    server = sha1_server
    server.commit("leak.env", f"GITHUB_TOKEN={token()}\n", "leak")
    pushed = server.push("main", env={"GL_ID": "user-1", "GL_REPOSITORY": "project-1"})
    assert not pushed.accepted
    hook_lines = [
        line for line in pushed.err.splitlines() if "keyguard" in line or "To fix" in line
    ]
    assert hook_lines and all("GL-HOOK-ERR: " in line for line in hook_lines)


def test_install_hook_refuses_a_foreign_hook(sha1_server: Server) -> None:
    server = sha1_server
    hook = server.bare / "hooks" / "pre-receive"
    assert server.install().returncode == 0  # its own hook may be reinstalled
    hook.write_text("#!/bin/sh\necho custom\n", encoding="utf-8")
    refused = server.install()
    assert refused.returncode == 2
    assert "--force" in refused.stderr
    assert hook.read_text(encoding="utf-8") == "#!/bin/sh\necho custom\n"
    forced = server.install("--force")
    assert forced.returncode == 0
    assert "keyguard-hook" in hook.read_text(encoding="utf-8")
    assert (hook.parent / "pre-receive.keyguard-backup").read_text(
        encoding="utf-8"
    ) == "#!/bin/sh\necho custom\n"


def test_malformed_input_is_an_error_not_a_pass(tmp_path: Path) -> None:
    bare = tmp_path / "x.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    done = subprocess.run(
        [sys.executable, "-m", "keyguard", "pre-receive", "--repo", str(bare)],
        input="this is not a ref update\n",
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "line 1" in done.stderr


def hook_process(
    bare: Path, stdin: str, env: dict[str, str]
) -> Callable[[], subprocess.CompletedProcess[str]]:
    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "keyguard", "pre-receive"],
            cwd=bare,
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
        )

    return run


def test_zero_ids_of_either_length(server: Server) -> None:
    # Deleting a branch: old id, zero new id, in the repository's own id length.
    server.git("checkout", "-q", "-b", "gone")
    server.commit("gone.txt", "x\n", "gone")
    assert server.push("gone").accepted
    old = server.server_ref("refs/heads/gone")
    assert old is not None
    zero = "0" * len(old)
    done = hook_process(server.bare, f"{old} {zero} refs/heads/gone\n", server.env)()
    assert done.returncode == 0, done.stderr


def test_blob_size_cap_is_applied_and_said(sha1_server: Server) -> None:
    server = sha1_server
    server.server_git("config", "keyguard.maxBlobSize", "1KB")
    server.commit("big.txt", "x" * 4096 + "\n", "big file")
    pushed = server.push("main")
    assert pushed.accepted, pushed.err
    assert "not scanned (1 too large)" in pushed.err


def test_first_push_into_an_empty_repository(tmp_path: Path, rules_cache: Path) -> None:
    bare, work = tmp_path / "empty.git", tmp_path / "w"
    env = {**os.environ, **_GIT_ENV, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(rules_cache)}
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True, env=env)
    hook = [sys.executable, "-m", "keyguard", "install-hook", "pre-receive", "--repo", str(bare)]
    assert subprocess.run(hook, env=env, capture_output=True).returncode == 0
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True, env=env)
    (work / "a.env").write_text(f"GITHUB_TOKEN={token()}\n", encoding="utf-8")
    for args in (["add", "-A"], ["commit", "-q", "-m", "first"]):
        subprocess.run(["git", *args], cwd=work, env=env, check=True)
    pushed = subprocess.run(
        ["git", "push", str(bare), "main"], cwd=work, env=env, capture_output=True, text=True
    )
    assert pushed.returncode != 0 and "github.pat" in pushed.stderr


def test_hygiene_findings_do_not_block_a_push(sha1_server: Server) -> None:
    server = sha1_server
    server.commit("deploy.sh", "#!/bin/sh\ncurl -k https://internal.example.net/health\n", "probe")
    pushed = server.push("main")
    assert pushed.accepted, pushed.err
    assert "key-hygiene finding(s), not blocking" in pushed.err
    assert "hygiene.tls-verify-disabled-curl" in pushed.err


def test_a_keyguard_directory_in_the_repository_is_never_imported(sha1_server: Server) -> None:
    """Hooks run in the repository: its keyguard/ (the bypass log's folder, or one a pusher
    planted in a work tree) must not shadow the installed keyguard."""
    server = sha1_server
    planted = server.bare / "keyguard"
    planted.mkdir(exist_ok=True)
    marker = server.bare / "planted-code-ran"
    (planted / "__init__.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n__version__ = '0'\n", encoding="utf-8"
    )
    (planted / "__main__.py").write_text("raise SystemExit(0)\n", encoding="utf-8")
    server.commit("leak.env", f"GITHUB_TOKEN={token()}\n", "leak")
    pushed = server.push("main")
    assert not pushed.accepted and "github.pat" in pushed.err
    assert not marker.exists()

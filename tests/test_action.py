"""The GitHub Action (`action.yml`) run step by step as the runner would: its steps' scripts under
bash with the inputs passed through `env`, a fabricated `GITHUB_EVENT_PATH`, `GITHUB_OUTPUT`,
`GITHUB_ENV` and `GITHUB_STEP_SUMMARY`, keyguard installed from a copy of this checkout without a
`.git` directory (as GitHub downloads an action), and real repositories to scan. Also actionlint
over the README's workflow using the action."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin
from tests.conftest import ROOT, GitRepo, copy_checkout

yaml = pytest.importorskip("yaml")

GITHUB_PAT = {r.id: r for r in load_builtin()}["github.pat"]
_RNG = random.Random("action")
_EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def token() -> str:
    return generate_secret(GITHUB_PAT, _RNG)


def load_action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return loaded


def expand(value: str, inputs: Mapping[str, str], action_path: Path) -> str:
    def one(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression.startswith("inputs."):
            return inputs[expression.removeprefix("inputs.")]
        if expression == "github.action_path":
            return str(action_path)
        raise AssertionError(f"unexpected expression in action.yml: {expression}")

    return _EXPRESSION.sub(one, value)


@dataclass
class StepRun:
    code: int
    out: str
    err: str
    outputs: dict[str, str]
    summary: str


class Runner:
    """Runs action.yml's steps the way a GitHub runner does (bash -eo pipefail, GITHUB_ENV)."""

    def __init__(self, action_path: Path, runner_temp: Path) -> None:
        self.action_path = action_path
        self.runner_temp = runner_temp
        self.action = load_action()
        self.persisted: dict[str, str] = {}  # what earlier steps wrote to GITHUB_ENV

    def inputs(self, given: Mapping[str, str]) -> dict[str, str]:
        declared = self.action["inputs"]
        unknown = set(given) - set(declared)
        assert not unknown, f"not inputs of the action: {unknown}"
        return {
            name: given.get(name, str(spec.get("default", ""))) for name, spec in declared.items()
        }

    def run(
        self,
        steps: list[dict[str, Any]],
        env: Mapping[str, str],
        inputs: Mapping[str, str],
        cwd: Path,
    ) -> StepRun:
        scratch = Path(env["RUNNER_TEMP"]) / "files"
        scratch.mkdir(parents=True, exist_ok=True)
        files = {name: scratch / name for name in ("output", "env", "summary")}
        for path in files.values():
            path.write_text("", encoding="utf-8")
        resolved = self.inputs(inputs)
        done = subprocess.CompletedProcess[str]([], 0, "", "")
        out = err = ""
        for step in steps:
            script = step["run"]
            assert "${{" not in script, "values reach scripts through env only (no injection)"
            step_env = {
                **env,
                **self.persisted,
                "GITHUB_OUTPUT": str(files["output"]),
                "GITHUB_ENV": str(files["env"]),
                "GITHUB_STEP_SUMMARY": str(files["summary"]),
                "GITHUB_ACTION_PATH": str(self.action_path),
                **{
                    k: expand(str(v), resolved, self.action_path)
                    for k, v in step.get("env", {}).items()
                },
            }
            assert step["shell"] == "bash"
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                cwd=cwd,
                env=step_env,
                capture_output=True,
                text=True,
            )
            out, err = out + done.stdout, err + done.stderr
            for line in files["env"].read_text(encoding="utf-8").splitlines():
                name, _, value = line.partition("=")
                self.persisted[name] = value
            if done.returncode != 0:
                break
        outputs = dict(
            line.partition("=")[::2]
            for line in files["output"].read_text(encoding="utf-8").splitlines()
            if "=" in line
        )
        return StepRun(
            done.returncode, out, err, outputs, files["summary"].read_text(encoding="utf-8")
        )


@pytest.fixture(scope="session")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """The action's files as GitHub downloads them (no .git), installed once by its first step."""
    action_path = tmp_path_factory.mktemp("action")
    copy_checkout(action_path)
    assert not (action_path / ".git").exists()
    runner_temp = tmp_path_factory.mktemp("runner-temp")
    made = Runner(action_path, runner_temp)
    install = [s for s in made.action["runs"]["steps"] if s.get("id") != "scan"]
    env = {**os.environ, "RUNNER_TEMP": str(runner_temp)}
    done = made.run(install, env, {}, action_path)
    assert done.code == 0, done.out + done.err
    assert "KEYGUARD_PYTHON" in made.persisted
    return made


@pytest.fixture
def git_repo(git_repo: Callable[..., GitRepo]) -> Callable[..., GitRepo]:
    """Repositories whose commits are made now: a pull request's commits are recent (the
    default fixture dates them 2024, which would add rotation-overdue findings)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")

    def make(name: str = "repo") -> GitRepo:
        repo = git_repo(name)
        repo.env["GIT_AUTHOR_DATE"] = repo.env["GIT_COMMITTER_DATE"] = now
        return repo

    return make


@dataclass
class Event:
    name: str
    payload: dict[str, Any]


def scan(runner: Runner, repo: GitRepo, event: Event, tmp_path: Path, **inputs: str) -> StepRun:
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event.payload), encoding="utf-8")
    temp = tmp_path / "runner"
    temp.mkdir(exist_ok=True)
    env = {
        **repo.env,
        "RUNNER_TEMP": str(temp),
        "GITHUB_EVENT_NAME": event.name,
        "GITHUB_EVENT_PATH": str(event_file),
        "GITHUB_WORKSPACE": str(repo.path),
        "GITHUB_ACTIONS": "true",
    }
    steps = [s for s in runner.action["runs"]["steps"] if s.get("id") == "scan"]
    return runner.run(steps, env, inputs, repo.path)


def pull_request(base: str, head: str) -> Event:
    return Event("pull_request", {"pull_request": {"base": {"sha": base}, "head": {"sha": head}}})


def commands(done: StepRun) -> list[str]:
    """The lines the runner takes for workflow commands (none while commands are stopped)."""
    found: list[str] = []
    paused: str | None = None
    for line in done.out.splitlines():
        text = line.strip()
        if paused is not None:
            if text == f"::{paused}::":
                paused = None
            continue
        if text.startswith("::stop-commands::"):
            paused = text.removeprefix("::stop-commands::")
        elif text.startswith("::"):
            found.append(text)
    return found


def annotations(done: StepRun) -> list[str]:
    return [line for line in commands(done) if line.startswith("::error")]


@pytest.fixture
def project(git_repo: Callable[..., GitRepo]) -> tuple[GitRepo, str, str]:
    """main holds an old secret (before the PR's base); returns (repo, base, old secret)."""
    repo = git_repo()
    old = token()
    repo.write("legacy/settings.env", f"GITHUB_TOKEN={old}\n")
    repo.write("README.md", "project\n")
    base = repo.commit("the past")
    return repo, base, old


def test_pull_request_reports_only_what_it_adds(
    runner: Runner, project: tuple[GitRepo, str, str], tmp_path: Path
) -> None:
    repo, base, old = project
    repo.git("checkout", "-q", "-b", "feature")
    added = token()
    repo.write("app/config.env", f"GITHUB_TOKEN={added}\n")
    adding = repo.commit("add a key")
    (repo.path / "app" / "config.env").unlink()
    repo.write("app/config.env", "GITHUB_TOKEN=${GITHUB_TOKEN}\n")
    head = repo.commit("take it out again")
    done = scan(runner, repo, pull_request(base, head), tmp_path)
    assert done.code == 1, done.out + done.err
    assert done.outputs["findings"] == "1"
    # Added and removed inside the PR: still reported (it was pushed), never the old secret.
    lines = annotations(done)
    assert len(lines) == 1 and "file=app/config.env" in lines[0] and "line=1" in lines[0]
    assert adding[:12] in done.summary
    sarif = json.loads(Path(done.outputs["sarif"]).read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    ] == ["app/config.env"]
    for text in (done.out, done.err, done.summary, Path(done.outputs["sarif"]).read_text()):
        assert added not in text and old not in text


def test_hostile_file_names_cannot_forge_workflow_commands(
    runner: Runner, project: tuple[GitRepo, str, str], tmp_path: Path
) -> None:
    repo, base, _ = project
    repo.git("checkout", "-q", "-b", "hostile")
    repo.write("a\n::warning title=forged::x\n.env", f"GITHUB_TOKEN={token()}\n")
    head = repo.commit("hostile name")
    done = scan(runner, repo, pull_request(base, head), tmp_path)
    assert done.code == 1, done.out + done.err
    found = commands(done)
    assert len(found) == 1 and found[0].startswith("::error file=a%0A%3A%3Awarning")
    assert not any("forged" in line and not line.startswith("::error") for line in found)


def test_pull_request_cannot_switch_off_its_own_scan(
    runner: Runner, project: tuple[GitRepo, str, str], tmp_path: Path
) -> None:
    repo, base, _ = project
    repo.git("checkout", "-q", "-b", "sneaky")
    ids = ", ".join(f'"{r.id}"' for r in load_builtin())
    repo.write(".keyguard.toml", f"disable = [{ids}]\n[allow]\npaths = ['.*']\n")
    repo.write("leak.env", f"GITHUB_TOKEN={token()}\n")
    head = repo.commit("quiet, please")
    done = scan(runner, repo, pull_request(base, head), tmp_path)
    assert done.code == 1, done.out + done.err
    assert done.outputs["findings"] == "1"


def test_the_base_commits_configuration_applies(
    runner: Runner, git_repo: Callable[..., GitRepo], tmp_path: Path
) -> None:
    repo = git_repo()
    repo.write(".keyguard.toml", "[allow]\npaths = ['^fixtures/']\n")
    base = repo.commit("allow fixtures")
    repo.git("checkout", "-q", "-b", "f")
    repo.write("fixtures/sample.env", f"GITHUB_TOKEN={token()}\n")
    head = repo.commit("fixture")
    done = scan(runner, repo, pull_request(base, head), tmp_path)
    assert done.code == 0, done.out + done.err
    assert done.outputs["findings"] == "0"


def test_push_before_after(
    runner: Runner, project: tuple[GitRepo, str, str], tmp_path: Path
) -> None:
    repo, before, _ = project
    repo.write("deploy.env", f"GITHUB_TOKEN={token()}\n")
    after = repo.commit("pushed secret")
    event = Event(
        "push", {"before": before, "after": after, "repository": {"default_branch": "main"}}
    )
    done = scan(runner, repo, event, tmp_path)
    assert done.code == 1 and done.outputs["findings"] == "1"
    repo.write("clean.txt", "ok\n")
    clean = repo.commit("clean")
    event = Event(
        "push", {"before": after, "after": clean, "repository": {"default_branch": "main"}}
    )
    done = scan(runner, repo, event, tmp_path)
    assert done.code == 0 and done.outputs["findings"] == "0", done.out + done.err


def test_push_of_a_new_branch(
    runner: Runner, project: tuple[GitRepo, str, str], tmp_path: Path
) -> None:
    repo, _, _ = project
    repo.git("checkout", "-q", "-b", "fresh")
    repo.write("new.env", f"GITHUB_TOKEN={token()}\n")
    after = repo.commit("new branch work")
    event = Event(
        "push", {"before": "0" * 40, "after": after, "repository": {"default_branch": "main"}}
    )
    done = scan(runner, repo, event, tmp_path)
    # Relative to the default branch: the branch's own secret, not main's old one.
    assert done.code == 1 and done.outputs["findings"] == "1", done.out + done.err
    assert "file=new.env" in annotations(done)[0]


def test_base_equal_to_head(
    runner: Runner, project: tuple[GitRepo, str, str], tmp_path: Path
) -> None:
    repo, base, _ = project
    done = scan(runner, repo, pull_request(base, base), tmp_path)
    assert done.code == 0, done.out + done.err
    assert done.outputs["findings"] == "0"
    assert json.loads(Path(done.outputs["sarif"]).read_text())["runs"][0]["results"] == []


def test_workflow_dispatch_scans_the_full_history(
    runner: Runner, project: tuple[GitRepo, str, str], tmp_path: Path
) -> None:
    repo, _, _ = project
    done = scan(runner, repo, Event("workflow_dispatch", {}), tmp_path)
    assert done.code == 1 and done.outputs["findings"] == "1"
    assert "legacy/settings.env" in done.summary
    report_only = scan(
        runner, repo, Event("schedule", {}), tmp_path, **{"fail-on-findings": "false"}
    )
    assert report_only.code == 0 and report_only.outputs["findings"] == "1"


def test_shallow_checkout_says_fetch_depth_zero(
    runner: Runner,
    project: tuple[GitRepo, str, str],
    tmp_path: Path,
    git_repo: Callable[..., GitRepo],
) -> None:
    repo, base, _ = project
    repo.write("more.txt", "more\n")
    head = repo.commit("more")
    shallow = git_repo("shallow")
    shutil.rmtree(shallow.path)
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(shallow.path)],
        check=True,
        env=repo.env,
    )
    done = scan(runner, shallow, pull_request(base, head), tmp_path)
    assert done.code == 2
    assert "fetch-depth: 0" in done.out
    assert annotations(done)


def test_action_and_readme_workflow_pass_actionlint(tmp_path: Path) -> None:
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint not installed")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    workflows = [b for b in blocks if re.search(r"uses: \S+/keyguard@", b)]
    assert workflows, "the README shows a workflow using the action"
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(ROOT / "action.yml", tmp_path / "action.yml")
    for n, block in enumerate(workflows):
        # The README names the published action; lint it against this checkout's action.yml.
        local = re.sub(r"uses: \S+/keyguard@\S+", "uses: ./", block)
        (tmp_path / ".github" / "workflows" / f"w{n}.yml").write_text(local, encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    done = subprocess.run([actionlint], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr

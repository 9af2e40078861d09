"""benchmarks/quality.py's report: the provenance header, the section it owns, transform counts."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from .labels import Label
from .scoring import Finding, score

SCRIPT = Path(__file__).resolve().parent.parent.parent / "benchmarks" / "quality.py"


@pytest.fixture(scope="module")
def quality() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmarks_quality", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _info(quality: ModuleType, **changes: object) -> object:
    fields = {
        "date": "2026-12-02 06:00 UTC",
        "commit": "abc1234+dirty",
        "versions": {"keyguard": "0.1.0", "gitleaks": "8.30.1", "kingfisher": "not available"},
        "command": "python benchmarks/quality.py --seed 1 --seed 2 --write benchmarks/QUALITY.md",
        "seeds": (1, 2),
        "unseen_seeds": (1000, 1001),
        "machine": "2 cores (Some CPU), Linux 6.1, Python 3.11.7",
        "tool_commands": ("python -m keyguard scan CORPUS --format json --output OUT",),
    }
    fields.update(changes)
    return quality.RunInfo(**fields)


def test_header_names_date_commit_versions_command_seeds_and_machine(quality: ModuleType) -> None:
    text = "\n".join(quality.format_header(_info(quality)))
    assert "- date: 2026-12-02 06:00 UTC" in text
    assert "- keyguard commit: abc1234+dirty" in text
    assert "keyguard 0.1.0; gitleaks 8.30.1; kingfisher not available" in text
    assert "`python benchmarks/quality.py --seed 1 --seed 2 --write benchmarks/QUALITY.md`" in text
    assert "seeds: 1, 2" in text and "held-out seeds: 1000, 1001" in text
    assert "- machine: 2 cores" in text
    assert "python -m keyguard scan CORPUS --format json --output OUT" in text


def test_header_without_unseen_seeds_says_none(quality: ModuleType) -> None:
    text = "\n".join(quality.format_header(_info(quality, unseen_seeds=(), tool_commands=())))
    assert "held-out seeds: none" in text
    assert "tool commands" not in text


def _git(repo: Path, *args: str) -> None:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


def test_commit_is_short_sha_and_dirty_when_the_tree_changed(
    quality: ModuleType, tmp_path: Path
) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "commit", "-q", "-m", "one")
    clean = quality.keyguard_commit(tmp_path)
    assert re.fullmatch(r"[0-9a-f]{7,12}", clean)
    (tmp_path / "a.txt").write_text("two\n")
    assert quality.keyguard_commit(tmp_path) == clean + "+dirty"
    assert quality.keyguard_commit(tmp_path / "missing").startswith("unknown")


def test_collected_info_has_every_field(quality: ModuleType) -> None:
    info = quality.collect_run_info(["--seed", "1"], ["keyguard"], [1], [1000])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", info.date)
    assert info.commit
    assert set(info.versions) == {"keyguard"} and info.versions["keyguard"]
    assert info.command == "python benchmarks/quality.py --seed 1"
    assert (info.seeds, info.unseen_seeds) == ((1,), (1000,))
    assert "cores" in info.machine


def test_write_section_keeps_the_history_section(quality: ModuleType, tmp_path: Path) -> None:
    target = tmp_path / "QUALITY.md"
    history = f"{quality.HISTORY_BEGIN} (generated) -->\n## History\n<!-- history-quality:end -->\n"
    target.write_text("# old hand-written figures\n\n" + history)
    quality.write_section(target, ["# Detection quality", "first"])
    quality.write_section(target, ["# Detection quality", "second"])
    text = target.read_text()
    assert "old hand-written" not in text and "first" not in text
    assert text.count(quality.BEGIN) == 1 and "second" in text
    assert text.endswith(history)


def test_transform_counts_count_a_label_under_each_of_its_transforms(quality: ModuleType) -> None:
    a = Label("a.env", 1, 1, "k", True)
    b = Label("a.env", 2, 2, "k", True)
    neg = Label("a.env", 3, 3, "placeholder", False)
    s = score([a, b, neg], [Finding("a.env", 1)], "t")
    transforms = {a: ("rename", "quote"), b: ("rename",), neg: ("rename",)}
    counts = quality.transform_counts(s, [a, b, neg], transforms)
    assert counts == {"quote": (1, 1), "rename": (1, 2)}

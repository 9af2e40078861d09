"""Hostile configuration, rule files and caches, through the real CLI.

A `.keyguard.toml` comes with the repository being scanned, so it is untrusted input: whatever it
holds, keyguard answers with exit 2 and one line naming the file and the problem (never a
traceback), never runs code and never reads a file outside the repository. The user cache is
data only: a tampered, truncated or unwritable cache entry costs the cache, nothing else.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import random
import resource
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import keyguard
from keyguard import safety
from keyguard.cli import main
from keyguard.examples import generate, generate_secret
from keyguard.signatures import MAX_FILE_BYTES, MAX_KEYWORD, MAX_LIST, load_builtin

GITHUB = next(r for r in load_builtin() if r.id == "github.pat")


def token(seed: int = 0) -> str:
    return generate_secret(GITHUB, random.Random(seed))


def rule_toml(
    rule_id: str = "acme.key",
    pattern: str = r"\b(?P<secret>acme_[a-z0-9]{24})\b",
    extra: str = "",
    table: str = "rule",
) -> str:
    return (
        f"[[{table}]]\n"
        f'id = "{rule_id}"\ntitle = "Acme key"\nprovider = "Acme"\ncategory = "secret"\n'
        f'severity = "low"\nkeywords = ["acme_"]\n'
        f"pattern = '''{pattern}'''\nexamples = ['acme_0123456789abcdefghijklmn']\n{extra}"
    )


SLOW = r"acme_(a+)+$"  # the textbook catastrophic pattern (superlinear even in `regex`)


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own user cache: the cases below write into it and tamper with it."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    monkeypatch.delenv("KEYGUARD_NO_CACHE", raising=False)
    return folder / "keyguard"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository (a .git folder is what marks its root) with one leaked token."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "app.env").write_text(f"GITHUB_TOKEN={token()}\n", encoding="utf-8")
    monkeypatch.chdir(root)
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The command exits 2 with one line of error (no traceback); that line."""
    code, out, err = run(capsys, *args)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and "internal error" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("keyguard: error: "), err
    return lines[0]


# --- malformed TOML, unknown keys, wrong types ------------------------------------------------


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("disable = [\n", ["invalid TOML"]),
        ("a = 1\na = 2\n", ["invalid TOML"]),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", ["invalid TOML"]),
        ('[allow]\npaths = ["\\q"]\n', ["invalid TOML"]),
        ("disabel = []\n", ["unknown setting(s): disabel (did you mean `disable`?)"]),
        ("max_filesize = '1MB'\n", ["max_filesize (did you mean `max_file_size`?)"]),
        ("[alow]\npaths = []\n", ["alow (did you mean `allow`?)"]),
        ("[allow]\npahts = []\n", ["[allow]", "pahts (did you mean `paths`?)"]),
        ("zzz = 1\n", ["unknown setting(s): zzz"]),
        ("max_file_size = true\n", ["max_file_size must be a size"]),
        (f"max_file_size = '{'9' * 400}GB'\n", ["max_file_size must be a size"]),
        ("max_file_size = -1\n", ["max_file_size must be a size"]),
        ("rotation_days = 'soon'\n", ["`rotation_days` must be"]),
        ("extend_default = 'no'\n", ["`extend_default` must be true or false"]),
        ("disable = [1]\n", ["`disable` must be a list"]),
        ("allow = 3\n", ["[allow] must be a table"]),
        ("rule = 'x'\n", ["`rule` must be an array"]),
        ("rule = [1]\n", ["rule #1 is not a table"]),
        ("rule_files = 'r.toml'\n", ["`rule_files` must be a list"]),
        ("rule_files = ['']\n", ["`rule_files` must be a list"]),
        ("[allow]\nvalues = ['a{99999999999999999999}']\n", ["[allow] values", "compile"]),
        ("[allow]\nvalues = ['(a|a)+$']\n", ["[allow] values pattern #1 backtracks"]),
        (
            '[allow.rules."github.pat"]\npaths = ["(x+x+)+y|(a|a)+$"]\n',
            ["[allow.rules.'github.pat'] paths", "backtracks catastrophically"],
        ),
        ("[allow]\npaths = [" + "'x', " * 1001 + "]\n", ["1001 patterns; at most 1000"]),
    ],
)
def test_bad_config_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], repo: Path, content: str, fragments: list[str]
) -> None:
    config = repo / ".keyguard.toml"
    config.write_text(content, encoding="utf-8")
    line = refused(capsys, "scan", str(repo))
    assert ".keyguard.toml" in line
    for fragment in fragments:
        assert fragment in line


def test_config_that_is_not_utf8(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    (repo / ".keyguard.toml").write_bytes(b"disable = ['\xff\xfe']\n")
    assert "not UTF-8" in refused(capsys, "scan", str(repo))


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        ("keyword = ['x']\n", ["unknown field(s): keyword (did you mean `keywords`?)"]),
        ("severty = 'low'\n", ["severty (did you mean `severity`?)"]),
        ("validator = ['crc32']\n", ["unknown validator"]),
        ("validator = 'nope'\n", ["unknown validator"]),
        ("remediation = 5\n", ["`remediation` must be a non-empty string"]),
        ("description = []\n", ["`description` must be a non-empty string"]),
        ("example_path = {}\n", ["`example_path` must be"]),
        ("entropy = true\n", ["entropy must be a number"]),
        ("entropy = nan\n", ["entropy must be a number"]),
        ("min_length = 2.5\n", ["`min_length` must be a non-negative integer"]),
        ("multiline = 'yes'\n", ["`multiline` must be true or false"]),
        ("filters = ['no-such-filter']\n", ["unknown filter(s) no-such-filter"]),
        ("paths = ['(']\n", ["path pattern", "does not compile"]),
        ("file_contains = '('\n", ["`file_contains` does not compile"]),
        ("tags = 'x'\n", ["`tags` must be a list of strings"]),
    ],
)
def test_bad_rule_field_names_the_rule_and_file(
    capsys: pytest.CaptureFixture[str], repo: Path, tmp_path: Path, extra: str, fragments: list[str]
) -> None:
    rules = tmp_path / "mine.toml"
    rules.write_text(rule_toml(extra=extra), encoding="utf-8")
    line = refused(capsys, "scan", "--rules", str(rules), str(repo))
    assert f"{rules}: rule 'acme.key'" in line
    for fragment in fragments:
        assert fragment in line


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("(unclosed", "does not compile"),
        ("a{99999999999999999999}", "does not compile"),
        ("(" * 2000 + "a" + ")" * 2000, ""),
        ("x" * 70000, "longer than"),
    ],
)
def test_bad_pattern(
    capsys: pytest.CaptureFixture[str], repo: Path, tmp_path: Path, pattern: str, fragment: str
) -> None:
    rules = tmp_path / "mine.toml"
    rules.write_text(rule_toml(pattern=pattern), encoding="utf-8")
    code, _, err = run(capsys, "scan", "--rules", str(rules), str(repo))
    # Two thousand nested groups may be a legal pattern; either way, never a crash.
    assert code in ((2,) if fragment else (1, 2)), err
    assert "Traceback" not in err and "internal error" not in err
    assert fragment in err


def test_unknown_table_in_a_rule_file(
    capsys: pytest.CaptureFixture[str], repo: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "mine.toml"
    rules.write_text(rule_toml(table="rules"), encoding="utf-8")
    line = refused(capsys, "scan", "--rules", str(rules), str(repo))
    assert str(rules) in line and "rules (did you mean `rule`?)" in line


def test_missing_rule_file(capsys: pytest.CaptureFixture[str], repo: Path, tmp_path: Path) -> None:
    line = refused(capsys, "scan", "--rules", str(tmp_path / "nope.toml"), str(repo))
    assert "nope.toml: cannot read rule file" in line


# --- duplicate ids ----------------------------------------------------------------------------


def test_duplicate_id_within_a_file(
    capsys: pytest.CaptureFixture[str], repo: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "mine.toml"
    rules.write_text(rule_toml() + rule_toml(), encoding="utf-8")
    line = refused(capsys, "scan", "--rules", str(rules), str(repo))
    assert f"{rules}: rule 'acme.key': duplicate id" in line


def test_duplicate_id_across_user_files(
    capsys: pytest.CaptureFixture[str], repo: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "one.toml", tmp_path / "two.toml"
    first.write_text(rule_toml(), encoding="utf-8")
    second.write_text(rule_toml(), encoding="utf-8")
    line = refused(capsys, "scan", "--rules", str(first), "--rules", str(second), str(repo))
    assert f"{second}: rule 'acme.key': duplicate id (already defined in {first})" in line
    # ...and between a configuration's own rules and a rule file it names.
    (repo / "more.toml").write_text(rule_toml(), encoding="utf-8")
    (repo / ".keyguard.toml").write_text(
        "rule_files = ['more.toml']\n" + rule_toml(), encoding="utf-8"
    )
    line = refused(capsys, "scan", str(repo))
    assert "more.toml: rule 'acme.key': duplicate id (already defined in" in line


def test_a_builtin_id_is_overridden_not_duplicated(
    capsys: pytest.CaptureFixture[str], repo: Path, tmp_path: Path
) -> None:
    """Documented: a user rule with a built-in's id replaces it (README, Configuration)."""
    rules = tmp_path / "mine.toml"
    rules.write_text(
        rule_toml(rule_id="github.pat", pattern=GITHUB.pattern)
        .replace('["acme_"]', '["ghp_"]')
        .replace("Acme key", "Our token"),
        encoding="utf-8",
    )
    code, out, err = run(capsys, "scan", "-f", "json", "--rules", str(rules), str(repo))
    assert code == 1, err
    assert {f["title"] for f in json.loads(out)["findings"]} == {"Our token"}


# --- limits -----------------------------------------------------------------------------------


def test_huge_keyword_list(capsys: pytest.CaptureFixture[str], repo: Path, tmp_path: Path) -> None:
    rules = tmp_path / "mine.toml"
    words = ", ".join(f'"kw{n:06d}"' for n in range(100_000))
    rules.write_text(rule_toml().replace('["acme_"]', f"[{words}]"), encoding="utf-8")
    line = refused(capsys, "scan", "--rules", str(rules), str(repo))
    assert f"`keywords` has 100000 entries; at most {MAX_LIST}" in line


def test_huge_keyword(capsys: pytest.CaptureFixture[str], repo: Path, tmp_path: Path) -> None:
    rules = tmp_path / "mine.toml"
    rules.write_text(rule_toml().replace('["acme_"]', f'["{"k" * (1 << 20)}"]'), encoding="utf-8")
    line = refused(capsys, "scan", "--rules", str(rules), str(repo))
    assert "`keywords` has an entry longer than" in line
    rules.write_text(rule_toml().replace('["acme_"]', f'["{"k" * 300}"]'), encoding="utf-8")
    line = refused(capsys, "scan", "--rules", str(rules), str(repo))
    assert f"keywords must be at most {MAX_KEYWORD} characters" in line


def test_huge_rule_file_and_config(
    capsys: pytest.CaptureFixture[str], repo: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "mine.toml"
    rules.write_text(rule_toml() + "#" * MAX_FILE_BYTES, encoding="utf-8")
    assert "larger than 4 MB" in refused(capsys, "scan", "--rules", str(rules), str(repo))
    (repo / ".keyguard.toml").write_text("#" * (MAX_FILE_BYTES + 1), encoding="utf-8")
    assert "larger than 4 MB" in refused(capsys, "scan", str(repo))


# --- patterns `signatures check` rejects --------------------------------------------------------


def test_scan_refuses_a_rule_signatures_check_rejects(
    capsys: pytest.CaptureFixture[str], repo: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "slow.toml"
    rules.write_text(rule_toml(rule_id="acme.slow", pattern=SLOW), encoding="utf-8")
    code, _, err = run(capsys, "signatures", "check", str(rules))
    assert code == 1 and f"{rules}: rule 'acme.slow': pattern backtracks" in err
    line = refused(capsys, "scan", "--rules", str(rules), str(repo))
    assert f"{rules}: rule 'acme.slow': pattern backtracks catastrophically" in line
    # The same rule inside the configuration, or in a rule file the configuration names.
    (repo / ".keyguard.toml").write_text(
        rule_toml(rule_id="acme.slow", pattern=SLOW), encoding="utf-8"
    )
    line = refused(capsys, "scan", str(repo))
    assert ".keyguard.toml: rule 'acme.slow': pattern backtracks" in line
    (repo / "slow.toml").write_text(rules.read_text(encoding="utf-8"), encoding="utf-8")
    (repo / ".keyguard.toml").write_text("rule_files = ['slow.toml']\n", encoding="utf-8")
    line = refused(capsys, "scan", str(repo))
    assert "slow.toml: rule 'acme.slow': pattern backtracks" in line


@pytest.mark.parametrize(
    "extra", ["file_contains = '''(x+x+)+y|(a|a)+$'''\n", "paths = ['''(a|a)+$''']\n"]
)
def test_other_user_regexes_are_probed_too(
    capsys: pytest.CaptureFixture[str], repo: Path, tmp_path: Path, extra: str
) -> None:
    rules = tmp_path / "slow.toml"
    rules.write_text(rule_toml(extra=extra), encoding="utf-8")
    assert "backtracks catastrophically" in refused(capsys, "scan", "--rules", str(rules), ".")


def test_the_verdict_is_cached_by_content(
    capsys: pytest.CaptureFixture[str],
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rules = tmp_path / "mine.toml"
    rules.write_text(rule_toml(), encoding="utf-8")
    calls: list[str] = []
    probe = safety.rule_problem

    def counting(rule: keyguard.signatures.Rule) -> str | None:
        calls.append(rule.id)
        return probe(rule)

    monkeypatch.setattr(safety, "rule_problem", counting)
    for _ in range(3):
        code, _, err = run(capsys, "scan", "--rules", str(rules), str(repo))
        assert code == 1, err
    assert calls == ["acme.key"]
    rules.write_text(rule_toml() + "# changed\n", encoding="utf-8")
    assert run(capsys, "scan", "--rules", str(rules), str(repo))[0] == 1
    assert calls == ["acme.key", "acme.key"]


# --- paths in a configuration stay inside the repository ------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "elsewhere" / "rules.toml"
    path.parent.mkdir()
    path.write_text(rule_toml(), encoding="utf-8")
    return path


@pytest.mark.parametrize("how", ["relative", "absolute", "symlink", "symlinked-folder"])
def test_config_paths_outside_the_repository_are_refused(
    capsys: pytest.CaptureFixture[str], repo: Path, outside: Path, how: str
) -> None:
    if how == "relative":
        named = "../elsewhere/rules.toml"
    elif how == "absolute":
        named = str(outside)
    elif how == "symlink":
        (repo / "rules.toml").symlink_to(outside)
        named = "rules.toml"
    else:
        (repo / "shared").symlink_to(outside.parent, target_is_directory=True)
        named = "shared/rules.toml"
    (repo / ".keyguard.toml").write_text(f"rule_files = [{named!r}]\n", encoding="utf-8")
    line = refused(capsys, "scan", str(repo))
    assert ".keyguard.toml: `rule_files` entry" in line and "outside the repository" in line
    # The same file named by the user on the command line is theirs to choose.
    (repo / ".keyguard.toml").unlink()
    code, _, err = run(capsys, "scan", "--rules", str(outside), str(repo))
    assert code == 1, err


def test_config_paths_inside_the_repository(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    (repo / "rules").mkdir()
    (repo / "rules" / "acme.toml").write_text(rule_toml(), encoding="utf-8")
    acme = generate("acme_[a-z0-9]{24}", random.Random(1))
    (repo / "app.env").write_text(f"ACME={acme}\n", encoding="utf-8")
    (repo / "sub").mkdir()
    # Relative to the configuration file; `..` is fine while it stays inside the repository.
    (repo / "sub" / "cfg.toml").write_text(
        "rule_files = ['../rules/acme.toml']\n", encoding="utf-8"
    )
    code, out, err = run(capsys, "scan", "-f", "json", "-c", "sub/cfg.toml", str(repo))
    assert code == 1, err
    assert {f["rule_id"] for f in json.loads(out)["findings"]} == {"acme.key"}


def test_config_path_with_a_nul(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    (repo / ".keyguard.toml").write_text('rule_files = ["a\\u0000b"]\n', encoding="utf-8")
    assert "`rule_files` entry" in refused(capsys, "scan", str(repo))


# --- the user cache: data only, validated, atomic -----------------------------------------------


def test_no_pickle_in_keyguard() -> None:
    package = Path(keyguard.__file__).parent
    users = [p for p in package.rglob("*.py") if "import pickle" in p.read_text(encoding="utf-8")]
    assert users == []


class _Marker:
    """Unpickling this creates a folder: proof that a cache entry was executed."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.path),))


def _cache_entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("safe-"))


@pytest.fixture
def warm_cache(
    capsys: pytest.CaptureFixture[str], repo: Path, private_cache: Path
) -> Iterator[list[Path]]:
    code, _, err = run(capsys, "scan", str(repo))
    assert code == 1, err
    entries = _cache_entries(private_cache)
    assert any(p.name.startswith("rules-") for p in entries)
    yield entries


def test_a_tampered_cache_is_never_executed(
    capsys: pytest.CaptureFixture[str], repo: Path, tmp_path: Path, warm_cache: list[Path]
) -> None:
    marker = tmp_path / "executed"
    payload = pickle.dumps(_Marker(marker))
    pickle.loads(payload)  # the payload is live: loading it does create the marker
    assert marker.is_dir()
    marker.rmdir()
    for entry in warm_cache:
        entry.write_bytes(payload)
        # ...and under the names the pickle cache used before.
        entry.with_suffix(".pickle").write_bytes(payload)
    for matcher in ("hyperscan", "pyahocorasick"):
        code, _, err = run(capsys, "scan", "--matcher", matcher, str(repo))
        assert code == 1, err
    assert not marker.exists()
    rules_entry = next(p for p in warm_cache if p.name.startswith("rules-"))
    assert json.loads(rules_entry.read_text(encoding="utf-8"))["rules"]  # rebuilt


def test_a_truncated_or_edited_cache_is_rebuilt(
    capsys: pytest.CaptureFixture[str], repo: Path, warm_cache: list[Path]
) -> None:
    originals = {p: p.read_bytes() for p in warm_cache}
    for entry, data in originals.items():
        entry.write_bytes(data[: len(data) // 2])
    code, _, err = run(capsys, "scan", "--matcher", "hyperscan", str(repo))
    assert code == 1, err
    assert {p: p.read_bytes() for p in warm_cache} == originals
    # Well-formed JSON that names a validator the engine does not have would crash a scan.
    rules_entry = next(p for p in warm_cache if p.name.startswith("rules-"))
    data = json.loads(originals[rules_entry])
    validator = data["fields"].index("validator")
    for row in data["rules"]:
        row[validator] = "no-such-validator"
    rules_entry.write_text(json.dumps(data), encoding="utf-8")
    code, _, err = run(capsys, "scan", str(repo))
    assert code == 1, err
    assert rules_entry.read_bytes() == originals[rules_entry]


def test_a_cache_entry_that_cannot_be_created(
    capsys: pytest.CaptureFixture[str], repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk can refuse even an empty file (was an UnboundLocalError: exit 4)."""

    def full(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "mkstemp", full)
    code, _, err = run(capsys, "scan", "--matcher", "hyperscan", str(repo))
    assert code == 1, err


def _scan_with_file_size_limit(repo: Path, cache_home: Path, limit: int | None) -> int:
    def limited() -> None:
        # What a full disk does to a writer, without filling a disk: writes past the limit
        # fail with EFBIG (SIGXFSZ ignored, as it would otherwise kill the process).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-m", "keyguard", "scan", "--matcher", "hyperscan", str(repo)],
        env={**os.environ, "XDG_CACHE_HOME": str(cache_home)},
        preexec_fn=limited,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "internal error" not in done.stderr, done.stderr
    return done.returncode


@pytest.mark.parametrize("limit", [0, 1000, 64 << 10])
def test_a_full_disk_costs_only_the_cache(repo: Path, tmp_path: Path, limit: int) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "readme.txt").write_text("nothing here\n", encoding="utf-8")
    for target, expected in ((repo, 1), (clean, 0)):
        assert _scan_with_file_size_limit(target, tmp_path / f"free-{limit}", None) == expected
        home = tmp_path / f"full-{limit}-{expected}"
        assert _scan_with_file_size_limit(target, home, limit) == expected
        folder = home / "keyguard"
        # Nothing half-written is left behind: entries are whole or absent.
        assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]
        for entry in folder.glob("*.json"):
            json.loads(entry.read_text(encoding="utf-8"))


def test_the_rules_cache_round_trips_every_builtin_rule() -> None:
    """A Rule field of a type the codec does not know would make every run rebuild silently."""
    from keyguard.rule_codec import decode_rules, encode_rules

    rules = load_builtin()
    assert decode_rules(json.loads(json.dumps(encode_rules(rules)))) == rules

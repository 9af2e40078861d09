"""`keyguard purge-plan`: a keyguard JSON report -> the replacements file for
`git filter-repo --replace-text`, and the steps around the rewrite.

A redacted report holds only hashes, so the values are re-read where the report says they are (a
history finding: the blob at commit:path; a working-tree finding: the file) and found again by the
engine, keeping each value whose rule and hash match. A finding whose value cannot be recovered is
named and makes the plan incomplete (exit 3); it is never dropped in silence.

The replacements file is the only place a value goes: nothing printed holds one. Its format is
filter-repo's own: one `literal:VALUE==>REPLACEMENT` line per value. filter-repo splits a line at
its *last* `==>`, so a value may hold any character but a line break, and the replacement may hold
no `==>`. It has no comment syntax; an empty expression is skipped, so the header lines start with
`==>` and are no-ops.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keyguard import digest
from keyguard.engine import CompiledRuleset, scan
from keyguard.errors import ExitCode, UsageError
from keyguard.history.messages import is_message_path
from keyguard.model import Blob, Finding, secret_hash
from keyguard.report.model import SCHEMA, printable
from keyguard.sources import git

DEFAULT_OUTPUT = Path("keyguard-replacements.txt")
DEFAULT_REPLACEMENT = "***REMOVED-BY-KEYGUARD***"
MIN_KEY_LINE = 16  # characters: a shorter line of a key carries too little of it to matter
# A line of key material: base64 (PEM, OpenSSH, PGP, PuTTY) or hex (OpenVPN static keys).
_KEY_LINE = re.compile(rf"[A-Za-z0-9+/=]{{{MIN_KEY_LINE},}}")
_ARMOUR = re.compile(r"-----(?:BEGIN|END) [^-\r\n\\]*-----")
# Between the lines of a key: real line breaks, escaped ones (`\n` in JSON or .env), indentation.
_KEY_SEPARATOR = re.compile(r"(?:\s|\\+[rnt])+")
_LINE_BREAK = re.compile(r"[\r\n]")
_GITHUB_DOCS = (
    "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/"
    "removing-sensitive-data-from-a-repository"
)
_GITLAB_DOCS = "https://docs.gitlab.com/user/project/repository/repository_size/#remove-blobs"


@dataclass(frozen=True, slots=True)
class Leak:
    """One finding of the report, as far as a purge needs it."""

    rule_id: str
    title: str
    category: str
    path: str
    line: int
    commit: str | None
    secret_hash: str
    preview: str
    decoded: str | None = None
    secret: str | None = None  # only in a --show-secrets report

    @property
    def where(self) -> str:
        at = f"{printable(self.path)}:{self.line}"
        return f"{at} (commit {self.commit[:12]})" if self.commit else at

    @property
    def name(self) -> str:
        return f"{self.rule_id} {self.preview} at {self.where}"


@dataclass(frozen=True, slots=True)
class ReportInput:
    kind: str
    leaks: tuple[Leak, ...]


@dataclass(frozen=True, slots=True)
class Lost:
    leak: Leak
    reason: str


@dataclass(frozen=True, slots=True)
class Recovered:
    leak: Leak
    values: tuple[str, ...]  # the text as it stands in the blob (encoded, for a decoded finding)


def parse_report(text: str, name: str) -> ReportInput:
    """The findings of a `--format json` report; anything else is a UsageError (exit 2)."""
    hint = (
        f"{name}: not a keyguard JSON report ({SCHEMA}); write one with "
        "`keyguard history --format json -o report.json`"
    )
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{hint}: invalid JSON ({exc})") from None
    if not isinstance(doc, dict) or "schema" not in doc:
        raise UsageError(hint)
    if doc["schema"] != SCHEMA:
        raise UsageError(f"{hint}: its schema is {printable(str(doc['schema']))!r}")
    scan_info, findings = doc.get("scan"), doc.get("findings")
    if not isinstance(scan_info, dict) or not isinstance(findings, list):
        raise UsageError(f"{hint}: `scan` or `findings` is missing")
    leaks: list[Leak] = []
    for index, entry in enumerate(findings, 1):
        # Hygiene findings (an overdue rotation...) are settings to change: no value to purge.
        if not (isinstance(entry, dict) and entry.get("category") == "hygiene"):
            leaks.append(_leak(entry, f"{name}: finding #{index}"))
    if (
        any(leak.secret is None for leak in leaks)
        and scan_info.get("digest_key") != digest.current().id
    ):
        # Values are found again by their keyed digests: another key matches none of them.
        raise UsageError(
            f"{name}: its digests were made with another key (digest_key "
            f"{printable(str(scan_info.get('digest_key')))!r}, this machine's is "
            f"{digest.current().id!r}): set {digest.ENV} to the key that wrote the report, "
            "or write the report with --show-secrets"
        )
    return ReportInput(str(scan_info.get("kind", "")), tuple(leaks))


def _leak(entry: object, where: str) -> Leak:
    if not isinstance(entry, dict):
        raise UsageError(f"{where} is not an object")

    def field(key: str, kind: type, required: bool = True) -> Any:
        value = entry.get(key)
        if (value is None and not required) or isinstance(value, kind):
            return value
        raise UsageError(f"{where}: `{key}` is missing or not a {kind.__name__}")

    commit = field("commit", str, required=False)
    hashed = field("secret_hash", str)
    if commit is not None and not git.is_object_id(commit):
        raise UsageError(f"{where}: `commit` is not a commit id")
    if not re.fullmatch(r"[0-9a-f]{64}", hashed):
        raise UsageError(f"{where}: `secret_hash` is not a SHA-256 digest")
    return Leak(
        rule_id=field("rule_id", str),
        title=field("title", str, required=False) or "",
        category=field("category", str, required=False) or "secret",
        path=field("path", str),
        line=field("line", int),
        commit=commit,
        secret_hash=hashed,
        preview=field("preview", str),
        decoded=field("decoded", str, required=False),
        secret=field("secret", str, required=False),
    )


def literals_for(value: str, category: str) -> tuple[str, ...]:
    """What to replace for one value. A value with line breaks (a private key) cannot be one
    replace-text line: each of its lines of key material instead, so the key body is gone."""
    multiline = _LINE_BREAK.search(value) or (category == "private-key" and "\\n" in value)
    if not multiline:
        return (value,) if value else ()
    parts = _KEY_SEPARATOR.split(_ARMOUR.sub("\n", value))
    return tuple(dict.fromkeys(p for p in parts if _KEY_LINE.fullmatch(p)))


def locate(data: bytes, path: str, leak: Leak, compiled: CompiledRuleset) -> tuple[str, ...]:
    """The leak's value in a blob, found again by the engine at its path: the exact text to
    replace. For a value found decoded (base64, percent-encoding) that is the encoded text."""
    found: dict[str, None] = {}
    for finding in scan(data, path, compiled).findings:
        if finding.rule_id != leak.rule_id or finding.secret_hash != leak.secret_hash:
            continue
        raw = finding.secret.encode("utf-8", "surrogateescape")
        if finding.decoded is None and raw in data:
            found[finding.secret] = None
        else:
            found[_span(data, finding)] = None
    return tuple(found)


def _span(data: bytes, finding: Finding) -> str:
    start = _offset(data, finding.line, finding.column)
    end = _offset(data, finding.end_line, finding.end_column)
    return data[start:end].decode("utf-8", "surrogateescape")


def _offset(data: bytes, line: int, column: int) -> int:
    """The byte offset of a 1-based (line, character column), as the engine counts them."""
    start = 0
    for _ in range(line - 1):
        start = data.index(b"\n", start) + 1
    wanted = column - 1
    for size in range(wanted, 4 * wanted + 1):
        prefix = data[start : start + size]
        at_boundary = start + size >= len(data) or data[start + size] & 0xC0 != 0x80
        if at_boundary and len(prefix.decode("utf-8", "replace")) == wanted:
            return start + size
    return start + wanted


Rules = Callable[[], CompiledRuleset]


def recover(report: ReportInput, repo: Path, rules: Rules) -> tuple[list[Recovered], list[Lost]]:
    """Every leak's value: from the report when it holds them, else re-read from `repo`.

    A value found once is replaced everywhere, so the other places of its hash need no reading;
    but a decoded finding's `secret` is the decoded value, which is in no blob: its encoded text
    is always read.
    """
    plain = {
        x.secret_hash: x.secret
        for x in report.leaks
        if x.secret and x.decoded is None and secret_hash(x.secret) == x.secret_hash
    }
    reader = _Reader(repo, report.kind, rules) if git.is_repository(repo) else None
    recovered: list[Recovered] = []
    lost: list[Lost] = []
    for leak in report.leaks:
        if leak.decoded is None and leak.secret_hash in plain:
            recovered.append(Recovered(leak, (plain[leak.secret_hash],)))
            continue
        values, reason = reader.find(leak) if reader else ((), f"{repo}: not a git repository")
        if not values:
            lost.append(Lost(leak, reason))
            continue
        recovered.append(Recovered(leak, values))
        if leak.decoded is None:
            plain[leak.secret_hash] = values[0]
    # A place read in vain whose value turned up at a later place is covered all the same.
    covered = [x for x in lost if x.leak.decoded is None and x.leak.secret_hash in plain]
    recovered += [Recovered(x.leak, (plain[x.leak.secret_hash],)) for x in covered]
    return recovered, [x for x in lost if x not in covered]


class _Reader:
    """Reads a leak's bytes where it may be (git objects by commit and path, the index, files)
    and finds its value there with the rules `keyguard history` would run."""

    def __init__(self, repo: Path, kind: str, rules: Rules) -> None:
        self._repo = repo
        self._kind = kind
        self._rules = rules
        self._compiled: CompiledRuleset | None = None
        self._top = git.toplevel(repo)
        self._blobs: dict[str, bytes | None] = {}

    def find(self, leak: Leak) -> tuple[tuple[str, ...], str]:
        """The leak's values, or () and why not."""
        if self._compiled is None:
            self._compiled = self._rules()
        if leak.rule_id not in self._compiled.rules_by_id:
            return (), "its rule is not among the rules in use (see --config)"
        reasons: list[str] = []
        for data, where in self._contents(leak):
            if data is None:
                reasons.append(where)
                continue
            values = locate(data, leak.path, leak, self._compiled)
            if values:
                return values, ""
            reasons.append(f"{where}: no {leak.rule_id} value with this hash there")
        return (), "; ".join(reasons)

    def _contents(self, leak: Leak) -> Iterator[tuple[bytes | None, str]]:
        """(content, where) candidates in order; content None when `where` says why not."""
        if leak.commit is not None and is_message_path(leak.path):
            # A commit's (or tag's) message: the object itself holds it.
            if not git.object_exists(self._repo, leak.commit):
                yield None, f"{leak.commit[:12]} is not in {self._repo} (rewritten or pruned?)"
            else:
                yield self._read(leak.commit), f"the message of {leak.commit[:12]}"
            return
        if leak.commit is not None:
            yield self._at_commit(leak.commit, leak.path)
            return
        if self._kind == "staged":
            yield self._in_index(leak.path)
            yield self._at_commit("HEAD", leak.path)
        root = self._top or self._repo
        for candidate in dict.fromkeys([root / leak.path, Path(leak.path)]):
            try:
                yield candidate.read_bytes(), f"file {candidate}"
            except OSError as exc:
                yield None, f"{candidate}: {exc.strerror or exc}"

    def _at_commit(self, commit: str, path: str) -> tuple[bytes | None, str]:
        if commit != "HEAD" and not git.object_exists(self._repo, commit):
            return None, f"commit {commit[:12]} is not in {self._repo} (rewritten or pruned?)"
        for raw in _raw_paths(path):
            sha = git.tree_entry(self._repo, commit, raw)
            if sha is not None:
                return self._read(sha), f"{commit[:12]}:{printable(path)}"
        return None, f"{printable(path)} is not in {commit[:12]}"

    def _in_index(self, path: str) -> tuple[bytes | None, str]:
        for raw in _raw_paths(path):
            out = git.run_git(
                self._top or self._repo,
                "--literal-pathspecs",
                "ls-files",
                "-s",
                "-z",
                "--",
                os.fsdecode(raw),
                check=False,
            )
            fields = out.split(b"\t", 1)[0].split(b" ")
            if len(fields) == 3 and git.is_object_id(fields[1]):
                return self._read(fields[1].decode()), f"the index entry of {printable(path)}"
        return None, f"{printable(path)} is not in the index"

    def _read(self, sha: str) -> bytes | None:
        if sha not in self._blobs:
            for _, data, _ in git.GitStore(self._repo).read([Blob(sha, None)]):
                self._blobs[sha] = data
        return self._blobs.get(sha)


def _raw_paths(path: str) -> list[bytes]:
    """A reported path as git may store it: UTF-8, or with the `\\xNN` escapes a report uses
    for bytes that are not UTF-8 (git.decode_path) turned back into those bytes."""
    raw = path.encode("utf-8", "surrogateescape")
    unescaped = re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)
    return list(dict.fromkeys([raw, unescaped]))


def header(source: str, findings: int, literals: int) -> list[str]:
    source = printable(source)
    return [
        f"keyguard purge-plan: {literals} replacements for `git filter-repo --replace-text`,",
        f"from {findings} findings of {source}.",
        "THIS FILE HOLDS THE LEAKED VALUES: keep it out of every repository, delete it after use.",
        "Each line below is literal:VALUE, the arrow, the replacement. filter-repo skips a",
        "line that starts with the arrow (an empty expression), so these lines are comments.",
        "A multi-line value (a private key) cannot be one line: each of its lines of",
        f"{MIN_KEY_LINE} or more base64 or hex characters is listed on its own, so the key body is",
        "gone after the rewrite (its BEGIN/END lines and a short last line stay).",
        "Longer values come first, so a value inside another is replaced after it.",
    ]


def format_replacements(literals: Sequence[str], replacement: str, head: Sequence[str]) -> bytes:
    # A comment may hold no other arrow: filter-repo splits a line at its last one.
    lines = [f"==> {text.replace('==>', '=>')}" for text in head]
    lines += [f"literal:{value}==>{replacement}" for value in literals]
    return "\n".join(lines).encode("utf-8", "surrogateescape") + b"\n"


def order(values: Iterable[str]) -> list[str]:
    """Distinct values, longest first: filter-repo replaces in file order."""
    return sorted(set(values), key=lambda v: (-len(v), v))


def check_replacement(text: str) -> None:
    if "==>" in text or _LINE_BREAK.search(text):
        raise UsageError("--replacement may hold neither `==>` nor a line break")


def write_private(path: Path, content: bytes, force: bool) -> None:
    """Create the file readable by its owner only from the start (never chmod after writing)."""
    if force:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise UsageError(f"{path}: cannot replace it: {exc.strerror or exc}") from None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise UsageError(f"{path} already exists: delete it, or pass --force") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot create it: {exc.strerror or exc}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)


@dataclass(frozen=True, slots=True)
class Plan:
    """What the command did, for the steps it prints (values only as previews)."""

    output: Path  # absolute
    replacement: str
    literals: tuple[str, ...]
    values: int  # distinct values recovered
    leaks: tuple[Leak, ...]
    lost: tuple[Lost, ...]
    remote: str
    clone: str
    report_has_secrets: bool


def format_plan(plan: Plan) -> str:
    file = shlex.quote(str(plan.output))
    also = " and the report (--show-secrets: it holds them too)" if plan.report_has_secrets else ""
    # Values in commit or tag messages: filter-repo rewrites messages with the same file.
    in_messages = any(is_message_path(leak.path) for leak in plan.leaks)
    messages = f" --replace-message {file}" if in_messages else ""
    lines = [
        f"keyguard purge-plan: wrote {printable(str(plan.output))} (mode 0600): "
        f"{len(plan.literals)} replacements for {plan.values} leaked values.",
        "  That file holds the leaked values themselves: keep it out of every repository and "
        "delete it after use (step 8).",
    ]
    if plan.lost:
        lines.append(
            f"  INCOMPLETE: {len(plan.lost)} findings could not be recovered (named on stderr); "
            "their values are not in the file."
        )
    short = sum(1 for value in plan.literals if len(value) < 8)
    if short:
        lines.append(
            f"  {short} short values will be replaced wherever they occur, in unrelated text "
            "too: review the file before the rewrite."
        )
    lines += [
        "",
        "1. Rotate or revoke every credential first. The rewrite does not un-leak anything: "
        "whoever cloned, forked or fetched the repository, and every CI log and cache, keeps "
        "the values.",
        *_by_rule(plan.leaks),
        "2. Ask everyone to stop pushing, then make a fresh mirror clone (not your working clone):",
        f"     git clone --mirror {shlex.quote(plan.remote)} {shlex.quote(plan.clone)}",
        f"     cd {shlex.quote(plan.clone)}",
        "3. Replace every value in every commit (git filter-repo 2.47 or later; with an older one "
        "leave out --sensitive-data-removal, and re-add the origin remote it removes):",
        f"     git filter-repo --sensitive-data-removal --replace-text {file}{messages}",
        f"   Each value becomes {plan.replacement}. Note the first changed commits it prints.",
        "4. Check that nothing is left (exit code 0 when clean; a mirror has no work tree, so "
        "pass your .keyguard.toml with --config if the repository has one). If something is "
        "left, purge-plan its report and rewrite again before pushing:",
        "     keyguard history --no-cache .",
        "5. Force-push every branch and tag:",
        "     git push --force --mirror origin",
        "   This overwrites anything pushed since the clone and deletes remote refs the clone "
        "lacks; protected branches must allow force pushes meanwhile. The host refuses to "
        "update its own refs (refs/pull/*, refs/merge-requests/*): expected, see step 7. "
        "Without --mirror:",
        "     git push --force --all origin && git push --force --tags origin",
        "6. Everyone with a clone or fork deletes it and clones again: an old clone "
        "re-introduces the values on its next push. On a server you run, a pre-receive hook "
        "stops that: keyguard install-hook pre-receive.",
        "7. What the host keeps: pull-request refs (refs/pull/*) and cached views of commits "
        "and diffs keep the old commits until the host's support purges them; send them the "
        "first changed commits.",
        f"     GitHub: {_GITHUB_DOCS}",
        f"     GitLab: {_GITLAB_DOCS}",
        f"8. Delete the replacements file{also}:",
        f"     rm {file}",
    ]
    return "\n".join(lines) + "\n"


def _by_rule(leaks: Sequence[Leak]) -> list[str]:
    groups: dict[str, dict[str, str]] = {}
    titles: dict[str, str] = {}
    for leak in leaks:
        groups.setdefault(leak.rule_id, {})[leak.secret_hash] = leak.preview
        titles.setdefault(leak.rule_id, leak.title)
    out: list[str] = []
    for rule_id, previews in sorted(groups.items()):
        shown = ", ".join(sorted(set(previews.values()))[:5])
        count = f"{len(previews)} value{'s' * (len(previews) != 1)}"
        title = f" ({printable(titles[rule_id])})" if titles[rule_id] else ""
        out.append(f"   - {printable(rule_id)}{title}: {count} ({printable(shown)})")
        out.append(f"       keyguard explain {shlex.quote(rule_id)}")
    return out


def public_url(url: str | None) -> str:
    """The remote's URL without credentials (`https://user:token@host/...` is common)."""
    if not url:
        return "URL"
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", r"\1", url)


def read_report(source: str) -> tuple[str, str]:
    """The report's text and how to name it; `-` reads stdin."""
    if source == "-":
        data = sys.stdin.buffer.read()
        name = "<stdin>"
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise UsageError(f"{source}: cannot read the report: {exc.strerror or exc}") from None
        name = source
    try:
        return data.decode("utf-8"), name
    except UnicodeDecodeError:
        raise UsageError(f"{name}: not a keyguard JSON report (not UTF-8)") from None


def run_purge_plan(
    source: str,
    repo: Path,
    output: Path,
    replacement: str,
    force: bool,
    rules: Rules,
) -> int:
    check_replacement(replacement)
    if str(output) == "-":
        raise UsageError("--output must be a file: the values go nowhere else")
    if output.exists() and not force:
        raise UsageError(f"{output} already exists: delete it, or pass --force")
    text, name = read_report(source)
    report = parse_report(text, name)
    if not report.leaks:
        print(f"keyguard: {name} has no findings with a value to purge: nothing to do")
        return ExitCode.CLEAN
    recovered, lost = recover(report, repo, rules)
    literals: list[str] = []
    for found in recovered:
        parts = [p for value in found.values for p in literals_for(value, found.leak.category)]
        if parts:
            literals += parts
        else:
            lost.append(Lost(found.leak, "no line of the value is long enough to replace safely"))
    for missing in lost:
        print(f"keyguard: cannot recover {missing.leak.name}: {missing.reason}", file=sys.stderr)
    if not literals:
        print(
            "keyguard: no value could be recovered: no replacements file written", file=sys.stderr
        )
        return ExitCode.INCOMPLETE
    ordered = order(literals)
    head = header(name, len(report.leaks), len(ordered))
    write_private(output, format_replacements(ordered, replacement, head), force)
    is_repo = git.is_repository(repo)
    top = (git.toplevel(repo) if is_repo else None) or repo
    remote = git.config_value(repo, "remote.origin.url") if is_repo else None
    plan = Plan(
        output=output.resolve(),
        replacement=replacement,
        literals=tuple(ordered),
        values=len({x.leak.secret_hash for x in recovered}),
        leaks=report.leaks,
        lost=tuple(lost),
        remote=public_url(remote),
        clone=f"{top.resolve().name or 'repo'}-purge.git",
        report_has_secrets=any(leak.secret is not None for leak in report.leaks),
    )
    sys.stdout.write(format_plan(plan))
    if is_repo and plan.output.is_relative_to(top.resolve()):
        print(
            f"keyguard: warning: {printable(str(output))} is inside the work tree of {top}: "
            "never commit it (move it out, or list it in .git/info/exclude)",
            file=sys.stderr,
        )
    return ExitCode.INCOMPLETE if lost else ExitCode.CLEAN

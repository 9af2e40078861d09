"""The pure core: bytes + a compiled ruleset -> findings. No files, git, printing or globals.

Pipeline for one blob: keyword prefilter (one automaton pass) -> each candidate rule's pattern in
windows around its hits -> length, entropy and checksum checks -> false-positive filters ->
overlap resolution (the most specific rule wins a span). Base64 runs that hold a derived keyword,
and percent-encoded lines, are decoded and scanned again (bounded depth).
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from keyguard.context import EXAMPLE, documentation_strings, embedded_context
from keyguard.controls import controls
from keyguard.entropy import random_floor, shannon
from keyguard.filters import Candidate, rejecting_filter
from keyguard.hints import FileHint
from keyguard.keyinfo import describe as describe_key
from keyguard.matcher import Backend, Hit, Keyword, build_keywords, make_backend
from keyguard.model import Finding
from keyguard.pathmatch import PathMatcher
from keyguard.signatures import Rule, Ruleset
from keyguard.validators import VALIDATORS

BEFORE = 256  # bytes of context a window reaches back from a keyword hit (same line)
AFTER = 1024  # bytes it reaches forward (same line)
MAX_DEPTH = 2  # nested decodings (base64 inside percent-encoding, ...)
MAX_DECODE = 1 << 20  # longest encoded run we decode
REGEX_TIMEOUT = (
    2.0  # seconds one window may take: a catastrophic pattern ends the rule, not the scan
)
# Our own fixed patterns use the stdlib engine: ~4x less overhead per call than `regex`, which
# is kept for rule patterns (user-supplied, so they need its timeout).
_PERCENT = re.compile(rb"%[0-9A-Fa-f]{2}")
_NOT_B64 = re.compile(rb"[^A-Za-z0-9+/_-]")
_PRINTABLE = bytes(range(32, 127)) + b"\t\n\r"
_K8S_SECRET = re.compile(rb"(?im)^kind:\s*[\"']?secret\b")
_B64_RUN = re.compile(rb"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,4096}={0,2}(?![A-Za-z0-9+/_-])")
_CONFIDENCE_RANK = {"high": 2, "medium": 1, "low": 0}


@dataclass(frozen=True, slots=True)
class CompiledRuleset:
    ruleset: Ruleset
    keywords: tuple[Keyword, ...]
    backend: Backend
    path_patterns: tuple[tuple[str, ...], ...]  # per rule: its `paths` (compiled by path_matcher)
    path_only: tuple[int, ...]  # rules without keywords: run on every file their paths match
    # path_only plus the `path_first` rules: not run at "any path" (a history's blob pass); the
    # history scans the blobs at their paths instead (history.plan.file_rule_test).
    path_first: tuple[int, ...]
    specificity: tuple[int, ...]
    multiline: tuple[int, ...]  # per rule: max_span for multiline rules, 0 otherwise
    path_restricted: tuple[int, ...]  # rules with `paths`
    # Which path-limited rules a path meets (keyguard.pathmatch: one hyperscan scan per path).
    path_matcher: PathMatcher
    # Rules with `file_contains` (keyguard.hints): (rule, hint, the keywords that lead to the
    # rule, or None for a keyword-less rule).
    file_hints: tuple[tuple[int, FileHint, frozenset[int] | None], ...]
    # Per rule: could an encoded value on its keyword's line be its secret? Not for rules whose
    # keyword is the token's own prefix (ghp_...): decoding their lines would find nothing new.
    needs_context: tuple[bool, ...]
    rules_by_id: dict[str, Rule] = field(default_factory=dict, compare=False)
    # Rules whose pattern hit REGEX_TIMEOUT in this process: the first timeout costs 2 s and
    # every later window would cost the same (a 10-line file took 25 s), so the rule is off for
    # the rest of the run and the scan says so (incomplete: the rule did not see everything).
    timed_out: set[str] = field(default_factory=set, compare=False)
    _blocked: dict[str, frozenset[int]] = field(default_factory=dict, compare=False)
    _plans: dict[frozenset[int], list[tuple[tuple[int, ...] | None, bool]]] = field(
        default_factory=dict, compare=False
    )

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self.ruleset.rules

    def plan_for(self, blocked: frozenset[int]) -> list[tuple[tuple[int, ...] | None, bool]]:
        """Per keyword: the rules it leads to that are not blocked (None for a derived base64
        keyword), and whether any of them wants its line decoded. Cached per blocked set."""
        plan = self._plans.get(blocked)
        if plan is None:
            plan = []
            for keyword in self.keywords:
                if keyword.derived:
                    plan.append((None, False))
                    continue
                active = tuple(r for r in keyword.rules if r not in blocked)
                plan.append((active, any(self.needs_context[r] for r in active)))
            if len(self._plans) > 256:
                self._plans.clear()
            self._plans[blocked] = plan
        return plan

    def blocked_for(self, path: str) -> frozenset[int]:
        """Rules whose `paths` do not match this path (cached: history scans use one path)."""
        blocked = self._blocked.get(path)
        if blocked is None:
            blocked = frozenset(self.path_restricted) - self.path_matcher.matching(path)
            if len(self._blocked) > 4096:
                self._blocked.clear()
            self._blocked[path] = blocked
        return blocked


def compile_ruleset(ruleset: Ruleset, matcher: str = "auto") -> CompiledRuleset:
    rules = ruleset.rules
    keywords = tuple(
        build_keywords(
            [r.keywords for r in rules],
            [r.exact_keywords for r in rules],
            [r.category != "hygiene" for r in rules],
        )
    )
    backend = make_backend(keywords, matcher)
    return CompiledRuleset(
        ruleset=ruleset,
        keywords=keywords,
        backend=backend,
        path_patterns=tuple(r.paths for r in rules),
        path_only=tuple(i for i, r in enumerate(rules) if not r.keywords),
        path_first=tuple(i for i, r in enumerate(rules) if not r.keywords or r.path_first),
        specificity=tuple(_specificity(r) for r in rules),
        multiline=tuple(r.max_span if r.multiline else 0 for r in rules),
        path_restricted=tuple(i for i, r in enumerate(rules) if r.paths),
        path_matcher=PathMatcher(
            [(i, p) for i, r in enumerate(rules) for p in r.paths], backend.name == "hyperscan"
        ),
        file_hints=tuple(
            (
                i,
                FileHint.of(r.file_contains),
                frozenset(k for k, kw in enumerate(keywords) if i in kw.rules)
                if r.keywords
                else None,
            )
            for i, r in enumerate(rules)
            if r.file_contains
        ),
        # A setting (verify=False, md5(password)) is never base64-encoded: hygiene rules'
        # keyword lines are not decoded (a cost on every hit in code-heavy history).
        needs_context=tuple(not _keyword_is_prefix(r) and r.category != "hygiene" for r in rules),
        rules_by_id=ruleset.by_id(),
    )


def _keyword_is_prefix(rule: Rule) -> bool:
    """Does every generated secret of the rule start with one of its keywords (ghp_...)?"""
    return bool(rule.generate) and any(
        _literal_prefix(rule.generate or "").lower().startswith(k.lower()) for k in rule.keywords
    )


def _literal_prefix(expression: str) -> str:
    """The fixed text a generator expression starts with: `SG\\.[A-Z]{22}` -> `SG.`."""
    out: list[str] = []
    i = 0
    while i < len(expression):
        char = expression[i]
        escaped = char == "\\" and i + 1 < len(expression)
        if escaped and expression[i + 1].isalnum():
            break  # a class shorthand such as \\d
        if not escaped and char in "[(|{?":
            break
        following = i + (2 if escaped else 1)
        if following < len(expression) and expression[following] in "{?":
            break  # a counted or optional character is not fixed
        out.append(expression[i + 1] if escaped else char)
        i = following
    return "".join(out)


def _specificity(rule: Rule) -> int:
    if rule.generic:
        return 0
    return 1 + (rule.validator is not None) + bool(rule.paths) + (rule.category == "root-key")


@dataclass(slots=True)
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # non-fatal problems: the scan is incomplete


@dataclass(frozen=True, slots=True)
class _Raw:
    rule: int
    start: int  # match span in the scanned buffer
    end: int
    secret_start: int
    secret_end: int
    secret: str
    confidence: str
    decoded: str | None


def scan(data: bytes, path: str | None, compiled: CompiledRuleset) -> ScanResult:
    """All findings in one blob of bytes (any bytes: invalid UTF-8, CRLF, NULs are fine).

    `path` None means "at any path": rules limited to some paths all apply (a history audit
    scans a blob once, then keeps each such finding only at the paths its rule allows).
    """
    result = ScanResult()
    raws = _scan_buffer(data, path, compiled, 0, result.errors)
    raws = _resolve_overlaps(raws, compiled.specificity)
    shown = "" if path is None else path
    result.findings = _pair(_locate(data, shown, raws, compiled.rules), compiled.rules_by_id)
    return result


def _scan_buffer(
    data: bytes, path: str | None, compiled: CompiledRuleset, depth: int, errors: list[str]
) -> list[_Raw]:
    rules = compiled.rules
    multiline = compiled.multiline
    # At "any path", rules limited to some paths that have keywords still run (their findings
    # are kept later only where the path fits), but keyword-less file-format rules (.pgpass)
    # would have to read every blob whole, and `path_first` ones would run on every keyword
    # hit for files that rarely exist: they wait for a real path.
    blocked = compiled.blocked_for(path) if path is not None else frozenset(compiled.path_first)
    hits = compiled.backend.hits(data)
    if compiled.file_hints:
        blocked = _apply_hints(data, hits, compiled, blocked)
    plan = compiled.plan_for(blocked)
    windows: dict[int, list[list[int]]] = {}
    decode_runs: set[tuple[int, int]] = set()
    percent_lines: set[tuple[int, int]] = set()
    encoded_lines: set[tuple[int, int]] = set()
    size = len(data)
    line_start = line_end = -1
    run_end = -1  # end of the last base64 run queued for decoding
    decoding = depth < MAX_DEPTH
    # Hits arrive sorted, so each rule's windows arrive in order and merge on the fly.
    marked = False  # whether this line's context was queued for decoding
    for start, end, kw_index in hits:
        active, context_rule = plan[kw_index]
        if active is None:  # a derived (base64) keyword
            if decoding and start >= run_end:  # hits are sorted: one lookup per run
                run = _base64_run(data, start, end)
                run_end = run[1]
                decode_runs.add(run)
            continue
        if not active:
            continue
        if start >= line_end or start < line_start:
            line_start = data.rfind(b"\n", 0, start) + 1
            line_end = data.find(b"\n", end)
            if line_end < 0:
                line_end = size
            marked = False
        if context_rule and decoding and not marked:
            marked = True
            context = (max(line_start, start - AFTER), min(line_end, end + AFTER))
            if data.find(b"%", line_start, line_end) >= 0:
                percent_lines.add(context)
            encoded_lines.add(context)
        w_start = start - BEFORE if start - BEFORE > line_start else line_start
        for rule_index in active:
            span = multiline[rule_index]
            if span:
                w_end = min(size, w_start + span)  # from the hit: long (minified) lines too
            else:
                w_end = end + AFTER if end + AFTER < line_end else line_end
            spans = windows.get(rule_index)
            if spans is None:
                windows[rule_index] = [[w_start, w_end]]
            elif w_start <= spans[-1][1]:
                if w_end > spans[-1][1]:
                    spans[-1][1] = w_end
            else:
                spans.append([w_start, w_end])
    for rule_index in compiled.path_only:
        if rule_index not in blocked:
            windows.setdefault(rule_index, []).append([0, size])
    if depth == 0 and data.find(b"kind:", 0, 4096) >= 0 and _K8S_SECRET.search(data, 0, 4096):
        # Every value of a Kubernetes Secret's `data:` is base64: decode them all, whatever
        # their key is called.
        encoded_lines.update(_lines(data, size))

    raws: list[_Raw] = []
    for rule_index, spans in windows.items():
        if rules[rule_index].id not in compiled.timed_out:
            raws.extend(
                _run_rule(data, rule_index, rules[rule_index], spans, errors, compiled.timed_out)
            )
    for run_start, run_end in sorted(decode_runs):
        raws.extend(_scan_decoded_base64(data, run_start, run_end, path, compiled, depth, errors))
    for p_start, p_end in sorted(percent_lines):
        raws.extend(_scan_percent(data, p_start, p_end, path, compiled, depth, errors))
    for l_start, l_end in sorted(encoded_lines):
        raws.extend(_scan_base64_in_line(data, l_start, l_end, path, compiled, depth, errors))
    return raws


def _apply_hints(
    data: bytes, hits: list[Hit], compiled: CompiledRuleset, blocked: frozenset[int]
) -> frozenset[int]:
    """`blocked` plus the rules whose document hint (a Kubernetes Secret...) is not in the
    blob's first 4 KB. The hint is read only where its rule could run: a rule none of whose
    keywords hit has nothing to run on (blocked or not, the plan for the hits is the same), and
    that is almost every blob of a history (three hints on each cost 1 s of git.git's)."""
    missing: set[int] = set()
    hit_keywords: set[int] | None = None
    head = data[:4096]
    for rule_index, hint, keywords in compiled.file_hints:
        if rule_index in blocked:
            continue
        if keywords is not None:
            if hit_keywords is None:
                hit_keywords = {kw_index for _, _, kw_index in hits}
            if hit_keywords.isdisjoint(keywords):
                continue
        if not hint.found_in(head):
            missing.add(rule_index)
    return blocked | missing if missing else blocked


def _run_rule(
    data: bytes,
    rule_index: int,
    rule: Rule,
    spans: list[list[int]],
    errors: list[str],
    timed_out: set[str],
) -> list[_Raw]:
    pattern = rule.compiled()
    has_group = "secret" in pattern.groupindex
    found: list[_Raw] = []
    seen: set[tuple[int, int]] = set()
    head: str | None = None
    # User-supplied patterns run under a timeout, so a catastrophic one ends that rule's window,
    # not the scan. Built-in patterns are vetted against pathological input by the test suite
    # (tests/test_signatures.py) and skip it: the timer costs more than most window searches.
    guarded = not rule.builtin
    required = rule.guard()
    for w_start, w_end in spans:
        if required is not None and required.search(data, w_start, w_end) is None:
            continue
        try:
            if guarded:
                matches = list(pattern.finditer(data, w_start, w_end, timeout=REGEX_TIMEOUT))
            else:
                matches = list(pattern.finditer(data, w_start, w_end))
        except TimeoutError:
            timed_out.add(rule.id)
            errors.append(
                f"rule {rule.id}: pattern timed out after {REGEX_TIMEOUT:g} s on one window "
                "(catastrophic backtracking?); the rule is off for the rest of this run"
            )
            break
        for match in matches:
            s_start, s_end = match.span("secret") if has_group else match.span()
            if s_start < 0 or (s_start, s_end) in seen:
                continue
            seen.add((s_start, s_end))
            secret = data[s_start:s_end].decode("utf-8", "replace")
            confidence = _check(rule, secret)
            if confidence is None:
                continue
            if head is None:
                head = data[:4096].lower().decode("utf-8", "replace")
            line_start = data.rfind(b"\n", 0, match.start()) + 1
            line_end = data.find(b"\n", match.start(), match.start() + 4096)
            line = data[line_start : line_end if line_end >= 0 else line_start + 4096]
            if b"keyguard:allow" in line or b"gitleaks:allow" in line:
                # An inline allow comment suppresses the line (gitleaks' own too, so a team
                # that switches keeps the lines it already marked).
                continue
            candidate = Candidate(
                secret=secret,
                match=match.group().decode("utf-8", "replace"),
                line=line.decode("utf-8", "replace"),
                head=head,
            )
            if rejecting_filter(candidate, rule.active_filters()) is not None:
                continue
            if rule.downgrade and rejecting_filter(candidate, rule.downgrade) is not None:
                confidence = "low"
            found.append(
                _Raw(
                    rule_index, match.start(), match.end(), s_start, s_end, secret, confidence, None
                )
            )
    return found


def _check(rule: Rule, secret: str) -> str | None:
    """The finding's confidence after the rule's checks, or None when a check rejects it."""
    if len(secret) < rule.min_length:
        return None
    # The rule's threshold, or lower where chance alone takes a random value of this shape
    # below it (a real key must not be missed once in 10,000 draws).
    if rule.entropy is not None and shannon(secret) < random_floor(secret, rule.entropy):
        return None
    if rule.validator is not None and not VALIDATORS[rule.validator].check(secret):
        # A failed checksum lowers confidence instead of hiding the value: random data in a
        # provider's shape is usually test data, but worth a look.
        return "low"
    return rule.confidence


def _base64_run(data: bytes, start: int, end: int) -> tuple[int, int]:
    """The whole base64 run around a derived keyword hit (bounded), found at C speed."""
    floor = max(0, start - MAX_DECODE)
    before = _NOT_B64.search(data[floor:start][::-1])
    lo = start - before.start() if before else floor
    after = _NOT_B64.search(data, end, min(len(data), end + MAX_DECODE))
    hi = after.start() if after else min(len(data), end + MAX_DECODE)
    return lo, hi


def _decode_base64(encoded: bytes) -> bytes | None:
    text = encoded.replace(b"-", b"+").replace(b"_", b"/")
    text = text[: len(text) - len(text) % 4 if len(text) % 4 == 1 else len(text)]
    try:
        decoded = base64.b64decode(text + b"=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    head = decoded[:512]
    # Decoded text, not binary: at most 10% of the first 512 bytes outside printable ASCII.
    unprintable = len(head.translate(None, _PRINTABLE))
    return decoded if decoded and unprintable * 10 <= len(head) else None


def _scan_decoded_base64(
    data: bytes,
    run_start: int,
    run_end: int,
    path: str | None,
    compiled: CompiledRuleset,
    depth: int,
    errors: list[str],
) -> list[_Raw]:
    decoded = _decode_base64(data[run_start:run_end])
    if decoded is None:
        return []
    inner = _scan_buffer(decoded, path, compiled, depth + 1, errors)
    return [_relocate(r, run_start, run_end, "base64") for r in inner]


def _scan_percent(
    data: bytes,
    start: int,
    end: int,
    path: str | None,
    compiled: CompiledRuleset,
    depth: int,
    errors: list[str],
) -> list[_Raw]:
    chunk = data[start:end]
    if not _PERCENT.search(chunk):
        return []
    decoded = urllib.parse.unquote_to_bytes(chunk)
    inner = _scan_buffer(decoded, path, compiled, depth + 1, errors)
    return [_relocate(r, start, end, "percent") for r in inner]


def _lines(data: bytes, size: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    while start < size and len(spans) < 10000:
        end = data.find(b"\n", start)
        if end < 0:
            end = size
        if end - start >= 16:
            spans.append((start, min(end, start + 8192)))
        start = end + 1
    return spans


def _scan_base64_in_line(
    data: bytes,
    start: int,
    end: int,
    path: str | None,
    compiled: CompiledRuleset,
    depth: int,
    errors: list[str],
) -> list[_Raw]:
    """Base64 values on a keyword's line, decoded in place: `datadog_key_b64: <base64>` reads as
    `datadog_key_b64: <decoded>`, so a rule that needs the line's context still sees it."""
    found: list[_Raw] = []
    for count, run in enumerate(_B64_RUN.finditer(data, start, end)):
        if count >= 8:
            break
        encoded = run.group()
        # Base64 of text mixes upper case, lower case and digits; identifiers, words and hex
        # digests rarely do, and are not worth a decoding attempt.
        if encoded.lower() == encoded or encoded.upper() == encoded:
            continue
        if encoded.translate(None, b"0123456789") == encoded:
            continue
        decoded = _decode_base64(encoded)
        if decoded is None or len(decoded) < 8:
            continue
        r_start, r_end = run.span()
        line = data[start:r_start] + decoded + data[r_end:end]
        inside = (r_start - start, r_start - start + len(decoded))
        for raw in _scan_buffer(line, path, compiled, depth + 1, errors):
            # Only what the decoding revealed: the rest of the line was scanned as it is.
            if raw.secret_start < inside[1] and inside[0] < raw.secret_end:
                found.append(_relocate(raw, r_start, r_end, "base64"))
    return found


def _relocate(raw: _Raw, start: int, end: int, how: str) -> _Raw:
    """A finding inside decoded content is reported at the encoded span it came from."""
    decoded = how if raw.decoded is None else f"{how}+{raw.decoded}"
    return _Raw(raw.rule, start, end, start, end, raw.secret, raw.confidence, decoded)


def _resolve_overlaps(raws: list[_Raw], specificity: Sequence[int]) -> list[_Raw]:
    """One finding per secret span: the most specific rule, then the surest, then the longest."""
    if len(raws) < 2:
        return raws

    def score(r: _Raw) -> tuple[int, int, int, int, int]:
        plain = r.decoded is None
        return (
            specificity[r.rule],
            _CONFIDENCE_RANK[r.confidence],
            plain,
            r.end - r.start,
            -r.rule,
        )

    kept: list[_Raw] = []
    for raw in sorted(raws, key=score, reverse=True):
        if any(raw.secret_start < k.secret_end and k.secret_start < raw.secret_end for k in kept):
            continue
        kept.append(raw)
    kept.sort(key=lambda r: (r.secret_start, r.rule))
    return kept


def _locate(data: bytes, path: str, raws: list[_Raw], rules: Sequence[Rule]) -> list[Finding]:
    findings: list[Finding] = []
    documentation = documentation_strings(data) if raws else []
    for raw in raws:
        rule = rules[raw.rule]
        embedded = embedded_context(documentation, raw.secret_start)
        if embedded == EXAMPLE and "docs" in rule.active_filters():
            # A setting shown in a module's documentation string is an instruction for people,
            # as on a Markdown page: what the `docs` filter drops (hygiene rules); a credential
            # there is still reported, ranked as an example.
            continue
        line, column = _line_col(data, raw.secret_start)
        end_line, end_column = _line_col(data, raw.secret_end)
        findings.append(
            Finding(
                rule_id=rule.id,
                title=rule.title,
                category=rule.category,
                severity=rule.severity,
                confidence=raw.confidence,
                path=path,
                line=line,
                column=column,
                end_line=end_line,
                end_column=end_column,
                secret=raw.secret,
                decoded=raw.decoded,
                remediation=rule.remediation,
                tags=controls(rule),
                provider=rule.provider,
                key_info=describe_key(raw.secret) if rule.category == "private-key" else None,
                content_context=embedded,
            )
        )
    return findings


PAIR_LINES = 5  # how far apart the two halves of a credential may be


def _pair(findings: list[Finding], rules: dict[str, Rule]) -> list[Finding]:
    """Link the halves of a credential found near each other (an AWS key id and its secret):
    both findings name the other's secret hash, so a report can say the pair is usable."""
    if len(findings) < 2:
        return findings
    partner: dict[int, int] = {}
    for i, finding in enumerate(findings):
        rule = rules.get(finding.rule_id)
        if rule is None or not rule.pairs_with or i in partner:
            continue
        near = [
            j
            for j, other in enumerate(findings)
            if j != i
            and j not in partner
            and other.rule_id in rule.pairs_with
            and abs(other.line - finding.line) <= PAIR_LINES
        ]
        if near:
            j = min(near, key=lambda k: abs(findings[k].line - finding.line))
            partner[i], partner[j] = j, i
    if not partner:
        return findings
    return [
        replace(f, paired_with=findings[partner[i]].secret_hash) if i in partner else f
        for i, f in enumerate(findings)
    ]


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def compile_default(matcher: str = "auto") -> CompiledRuleset:
    from keyguard.signatures import load_builtin

    return compile_ruleset(Ruleset.of(load_builtin()), matcher)

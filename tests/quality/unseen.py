"""The unseen-variants corpus: the standard corpus rewritten in ways no rule was fitted to.

The standard corpus has the same kinds, variable names and templates for every seed, and the rules
were tuned on its misses, so its score no longer measures how keyguard does on code it has not
seen. ``transform(corpus, seed, root)`` takes the assignment-style files of a built corpus (the
``hosts.py`` files; dedicated files such as key files and dotfiles are left out) and rewrites them:

Each label's transforms are named ``family:kind`` (``UnseenCorpus.transforms``):

* ``rename:credential|password|neutral``: a credential's variable name becomes an unseen synonym (``DB_PASSWORD`` ->
  ``BILLING_PASSPHRASE``, ``stripeSecretKey`` -> ``svcCredential``), spelled in the same case
  style. A kind recognised only by its name (32 hex digits under ``DD_API_KEY``) keeps a name
  that still says "credential" (credential, passphrase, creds, pw, ...), so it stays legitimately
  detectable, though no longer as its provider; a kind that identifies itself (a prefix, a URL
  scheme, a common suffix) may get a neutral name (``conn``, ``setting``). Hard negatives are
  renamed only where what makes them safe is the value (placeholders, templates, documented
  examples, encrypted values, password hashes, references), never where it is the name.
* ``quote:*`` / ``assign:*`` / ``continuation:*`` (unseen_shapes.py): other quoting (single quotes, backticks, triple
  quotes, ``$'...'``, ``@"..."``, raw strings), other assignment syntax (``: `` for ``=`` in
  properties and INI, ``ENV N v``, ``set "N=v"``, ``declare -x``, annotated Python, attribute
  order), and values moved onto the next line (YAML block scalars, a Terraform heredoc, a
  backslash, ``^`` or parenthesised continuation, a value after ``=`` / ``:`` on its own line).
* ``comment`` / ``tabs``: trailing comments where the syntax allows them, tabs for indentation.
* ``rehost:<format>``: about a quarter of the credentials move to files in formats the standard
  corpus never uses (unseen_formats.py), among fresh hard negatives of the usual kinds.

Labels stay exact: every positive still holds its whole value, unescaped, on its labelled line
(or within its labelled block); ``Doc.pos`` refuses a line without it. Nothing a transform does
removes a credential, so no label is ever dropped. Seeds from ``HELD_OUT_SEEDS`` are a promise: nobody tunes
rules on them (benchmarks/QUALITY.md says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .corpus import Corpus
from .gen import Gen
from .hosts import HOSTS, HostSpec, neutral
from .kinds import KINDS
from .labels import Doc, Label, Secret
from .negatives import NEGATIVE_MAKERS, make_negative
from .unseen_formats import FORMATS, Format
from .unseen_names import find_name, is_self_identifying, rename, spell, synonym, synonym_class
from .unseen_shapes import SHAPES, TRAILING_COMMENT, Parts

HELD_OUT_SEEDS = range(1000, 2000)  # never tune on these
MOVE_SHARE = 0.25
# Negatives whose safety lies in the value, so that a new name leaves them negative.
RENAMEABLE_NEGATIVES = frozenset(
    {"placeholder", "template", "example_key", "encrypted_value", "password_hash"}
)
_REFERENCE_KINDS = frozenset({"env_reference", "template", "placeholder"})

_HOST_BY_PATH: dict[str, HostSpec] = {h.path: h for h in HOSTS}
_REMARKS = (
    "owner: payments team",
    "rotated by hand",
    "see runbook",
    "prod only",
    "per ticket 4821",
)
_TABBABLE = frozenset({"java", "csharp", "php", "ruby", "js_obj", "groovy", "xml_add"})


@dataclass(frozen=True)
class UnseenCorpus:
    corpus: Corpus
    transforms: dict[Label, tuple[str, ...]]
    base_seed: int

    @property
    def labels(self) -> tuple[Label, ...]:
        return self.corpus.labels


def _retab(line: str, unit: int) -> str:
    """Leading spaces as tabs, one tab per ``unit`` spaces."""
    body = line.lstrip(" ")
    depth = len(line) - len(body)
    return "\t" * max(1, round(depth / unit)) + body if depth else line


def _indent_unit(lines: list[str]) -> int:
    depths = [len(t) - len(t.lstrip(" ")) for t in lines if t.startswith(" ")]
    return max(2, min(depths, default=4))


def _note(into: list[tuple[str, ...]], parts: tuple[str, ...]) -> tuple[str, ...]:
    into.append(parts)
    return parts


# -- the driver -----------------------------------------------------------------------------------
@dataclass
class _Moved:
    label: Label
    value: str
    name: str  # UPPER_SNAKE
    tags: tuple[str, ...]


class _Rewriter:
    def __init__(self, g: Gen, secrets: dict[Label, str]) -> None:
        self.g = g
        self.secrets = secrets
        self.moved: list[_Moved] = []
        self.tags: dict[Label, tuple[str, ...]] = {}

    def host(self, doc: Doc, spec: HostSpec) -> Doc:
        g = self.g
        new = Doc(doc.path, doc.fmt, crlf=doc.crlf, bom=doc.bom)
        tabs = spec.syntax in _TABBABLE and bool(spec.indent) and g.chance(0.5)
        unit = _indent_unit(doc.lines)
        starts = {lab.line: lab for lab in doc.labels}
        i = 1
        while i <= len(doc.lines):
            lab = starts.get(i)
            if lab is None or lab.end_line != lab.line:
                end = lab.end_line if lab else i
                for text in doc.lines[i - 1 : end]:
                    new.add(_retab(text, unit) if tabs else text)
                if lab is not None:  # a block label: kept as it was (no host writes one today)
                    self._copy_block(new, doc, lab)
                i = end + 1
                continue
            i += 1
            line = doc.lines[lab.line - 1]
            tags: list[str] = []
            if lab.positive:
                lines = self._positive(lab, line, spec, tags)
                if lines is None:
                    continue
            else:
                lines = [self._negative(lab, line, spec, tags)]
            if tabs and lines[0][:1] == " ":
                lines = [_retab(text, unit) for text in lines]
                tags.append("tabs")
            self._emit(new, lab, lines, tags)
        return new

    def _copy_block(self, new: Doc, doc: Doc, lab: Label) -> None:
        del new.lines[len(new.lines) - (lab.end_line - lab.line + 1) :]
        block = doc.lines[lab.line - 1 : lab.end_line]
        self._emit(new, lab, block, [])

    def _emit(self, new: Doc, lab: Label, lines: list[str], tags: list[str]) -> None:
        if lab.positive:
            value = self.secrets[lab]
            if len(lines) == 1:
                new.pos(lines[0], lab.kind, value, lab.variant)
            else:
                new.pos_block(lines, lab.kind, value, lab.variant or "multiline")
        elif len(lines) == 1:
            new.neg(lines[0], lab.kind)
        else:
            new.neg_block(lines, lab.kind)
        self.tags[new.labels[-1]] = tuple(tags) or ("unchanged",)

    def _positive(self, lab: Label, line: str, spec: HostSpec, tags: list[str]) -> list[str] | None:
        g, value = self.g, self.secrets[lab]
        at = line.find(value)
        parts = Parts(line[:at], value, line[at + len(value) :])
        name = find_name(parts.head)
        neutral_ok = lab.variant != "base64" and is_self_identifying(lab.kind)
        if name is not None and g.chance(MOVE_SHARE):
            if g.chance(0.5):
                name = synonym(g, name, neutral_ok)
                tags.append("rename:" + synonym_class(name))
            self.moved.append(_Moved(lab, value, spell(name, "upper"), tuple(tags)))
            return None
        if name is not None and g.chance(0.6):
            chosen: list[tuple[str, ...]] = []
            head = rename(parts.head, lambda key: _note(chosen, synonym(g, key, neutral_ok)))
            parts = Parts(head, value, parts.tail)
            tags.append("rename:" + synonym_class(chosen[0]))
        lines = [parts.line()]
        shapes = list(SHAPES.get(spec.syntax, ()))
        g.shuffle(shapes)
        if g.chance(0.75) or not tags:
            for tag, shape in shapes:
                out = shape(parts)
                if out:
                    lines = out
                    tags.append(tag)
                    break
        comment = TRAILING_COMMENT.get(spec.syntax)
        if comment and len(lines) == 1 and (g.chance(0.35) or not tags):
            lines = [lines[0] + comment + g.pick(_REMARKS)]
            tags.append("comment")
        return lines

    def _negative(self, lab: Label, line: str, spec: HostSpec, tags: list[str]) -> str:
        g = self.g
        if (lab.kind in RENAMEABLE_NEGATIVES or lab.kind in _REFERENCE_KINDS) and g.chance(0.6):
            chosen: list[tuple[str, ...]] = []
            renamed = rename(line, lambda key: _note(chosen, synonym(g, key, False)))
            if renamed != line:
                line = renamed
                tags.append("rename:" + synonym_class(chosen[0]))
        comment = TRAILING_COMMENT.get(spec.syntax)
        if comment and g.chance(0.3):
            line += comment + g.pick(_REMARKS)
            tags.append("comment")
        return line

    def rehosted(self) -> list[Doc]:
        g = self.g
        by_format: dict[str, list[tuple[str, str, str | None, bool, Label | None]]] = {}
        for item in self.moved:
            fits = [f for f in FORMATS if f.fits(item.value)]
            fmt = g.pick(fits) if fits else None
            if fmt is None:
                raise ValueError(f"no unseen format can hold a value of {item.label.kind}")
            by_format.setdefault(fmt.path, []).append(
                (item.label.kind, item.name, item.value, True, item.label)
            )
        docs = []
        negative_kinds = sorted(NEGATIVE_MAKERS)
        for fmt in FORMATS:
            items = by_format.get(fmt.path, [])
            if not items:
                continue
            for _ in range(3):
                neg = make_negative(g, g.pick(negative_kinds))
                if fmt.fits(neg.value):
                    items.append((neg.kind, neg.name, neg.value, False, None))
            name = g.pick(g.pick(KINDS).names)
            items.append((fmt.ref_kind, name, None, False, None))
            g.shuffle(items)
            docs.append(self._rehost(fmt, items))
        return docs

    def _rehost(
        self, fmt: Format, items: list[tuple[str, str, str | None, bool, Label | None]]
    ) -> Doc:
        g = self.g
        doc = Doc(fmt.path, fmt.fmt)
        doc.add(*fmt.header)
        moved = {item.label: item for item in self.moved}
        for kind, name, value, positive, origin in items:
            if g.chance(0.35):
                plain_name, plain_value = neutral(g)
                if fmt.fits(plain_value):
                    doc.add(*fmt.render(plain_name, plain_value))
            if value is None:
                doc.neg(fmt.ref(name), kind)
                self.tags[doc.labels[-1]] = (f"rehost:{fmt.fmt}",)
                continue
            lines = fmt.render(name, value)
            if positive and origin is not None:
                variant = origin.variant if origin.variant != "crlf" else ""
                if len(lines) == 1:
                    doc.pos(lines[0], kind, value, variant)
                else:
                    doc.pos_block(lines, kind, value, variant or "multiline")
                tags = (*moved[origin].tags, f"rehost:{fmt.fmt}")
            else:
                if len(lines) == 1:
                    doc.neg(lines[0], kind)
                else:
                    doc.neg_block(lines, kind)
                tags = (f"rehost:{fmt.fmt}",)
            self.tags[doc.labels[-1]] = tags
        doc.add(*fmt.footer)
        return doc


def transform(corpus: Corpus, seed: int, root: Path) -> UnseenCorpus:
    """Rewrite the assignment-style files of ``corpus`` into ``root`` (see the module docstring)."""
    g = Gen(seed * 7919 + 17)
    secrets = {s.label: s.value for s in corpus.secrets}
    rewriter = _Rewriter(g, secrets)
    docs = [
        rewriter.host(doc, _HOST_BY_PATH[doc.path])
        for doc in corpus.docs
        if doc.path in _HOST_BY_PATH
    ]
    docs += rewriter.rehosted()
    paths = [d.path for d in docs]
    if len(paths) != len(set(paths)):
        raise ValueError("an unseen format's path collides with a host file")
    root.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        doc.write(root)
    labels = tuple(label for doc in docs for label in doc.labels)
    out_secrets = tuple(secret for doc in docs for secret in doc.secrets)
    unseen = Corpus(root, tuple(docs), labels, out_secrets)
    return UnseenCorpus(unseen, rewriter.tags, seed)


def build_unseen(root: Path, seed: int, scratch: Path) -> UnseenCorpus:
    """Build the standard corpus for ``seed`` under ``scratch``, then its unseen variant in ``root``."""
    from .corpus import build

    return transform(build(scratch, seed), seed, root)


def secret_of(unseen: UnseenCorpus) -> dict[Label, Secret]:
    return {s.label: s for s in unseen.corpus.secrets}

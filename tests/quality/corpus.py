"""Build the labelled detection-quality corpus.

``build_corpus(root, seed)`` writes some 90 files in about 40 formats into ``root`` and returns one
``Label`` per credential (positive) and per hard-negative line. All values are random; a seed makes
a build reproducible.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .files_dotfiles import write_dotfiles
from .files_infra import write_infra
from .files_keys import write_key_files
from .files_ops import write_ops
from .files_stores import write_stores
from .files_web import write_bundle, write_html, write_lockfiles, write_notebook
from .gen import Gen, b64
from .hosts import HOSTS, HostSpec, Item, render_host
from .kinds import KINDS
from .labels import Doc, Label, Secret
from .negatives import NEGATIVE_WEIGHTS, make_negative
from .syntax import SYNTAXES

__all__ = ["Corpus", "Label", "build", "build_corpus"]

# Characters a value must not contain to be written unescaped in a syntax.
_FORBIDDEN: dict[str, str] = {
    "python": '"',
    "python_get": '"',
    "js_obj": '"',
    "ts": '"',
    "go": '"',
    "java": '"',
    "csharp": '"',
    "toml": '"',
    "hcl": '"',
    "yaml_camel": '"',
    "compose_map": '"',
    "js_const": "'",
    "ruby": "'",
    "php": "'",
    "groovy": "'",
    "xml_add": '"&<>',
    "bat": "%&^<>|!",
    "export": "'\"",
    "md_shell": "'\"",
}

N_BASE64 = 9
N_K8S_PLAIN = 4
N_NOTEBOOK = 5
N_MINIFIED = 6
N_ENV_REFS = 34


@dataclass(frozen=True)
class Corpus:
    root: Path
    docs: tuple[Doc, ...]
    labels: tuple[Label, ...]
    secrets: tuple[Secret, ...]

    @property
    def positives(self) -> list[Label]:
        return [label for label in self.labels if label.positive]

    @property
    def negatives(self) -> list[Label]:
        return [label for label in self.labels if not label.positive]


def fits(spec: HostSpec, value: str | None) -> bool:
    if value is None:
        return SYNTAXES[spec.syntax].ref is not None
    return not any(c in value for c in _FORBIDDEN.get(spec.syntax, ""))


def _pick_host(g: Gen, value: str | None, hosts: tuple[HostSpec, ...] = HOSTS) -> HostSpec:
    candidates = [h for h in hosts if fits(h, value)]
    total = sum(h.weight for h in candidates)
    point = g.num(1, total)
    for host in candidates:
        point -= host.weight
        if point <= 0:
            return host
    return candidates[-1]


def _positives(g: Gen) -> list[Item]:
    items: list[Item] = []
    for kind in KINDS:
        count = kind.weight + (1 if g.chance(0.1) else 0)
        for _ in range(count):
            items.append(Item(kind.name, g.pick(kind.names), kind.make(g), True))
    g.shuffle(items)
    return items


def _route(g: Gen, items: list[Item]) -> dict[str, list[Item]]:
    """Assign every item to a sink: a host path, or one of the special writers."""
    routes: dict[str, list[Item]] = defaultdict(list)
    rest = list(items)
    # Base64-encoded copies: Kubernetes Secret data, or *_B64 variables.
    for _ in range(N_BASE64):
        item = rest.pop()
        assert item.value is not None
        encoded = Item(item.kind, item.name + "_B64", b64(item.value.encode()), True, "base64")
        if g.chance(0.6):
            routes["@k8s"].append(encoded)
        else:
            host = g.pick([h for h in HOSTS if h.base64_ok])
            routes[host.path].append(encoded)
    for sink, count in (
        ("@k8s", N_K8S_PLAIN),
        ("@notebook", N_NOTEBOOK),
        ("@minified", N_MINIFIED),
    ):
        for _ in range(count):
            routes[sink].append(rest.pop())
    for item in rest:
        routes[_pick_host(g, item.value).path].append(item)
    return routes


def _negatives(g: Gen, routes: dict[str, list[Item]]) -> None:
    for kind, count in NEGATIVE_WEIGHTS.items():
        for _ in range(count):
            neg = make_negative(g, kind)
            routes[_pick_host(g, neg.value).path].append(Item(neg.kind, neg.name, neg.value, False))
    for _ in range(N_ENV_REFS):
        host = _pick_host(g, None)
        name = g.pick(g.pick(KINDS).names)
        routes[host.path].append(Item(SYNTAXES[host.syntax].ref_kind, name, None, False))
    # A few negatives inside the Kubernetes Secret, one of them base64-encoded like the real values.
    routes["@k8s"].append(Item("placeholder", "SMTP_PASSWORD", b64(b"changeme"), False, "base64"))
    routes["@k8s"].append(Item("placeholder", "API_TOKEN", "REPLACE_ME", False))
    routes["@k8s"].append(Item("uuid", "TENANT_ID", g.uuid(), False))


def build(root: Path, seed: int) -> Corpus:
    g = Gen(seed)
    routes = _route(g, _positives(g))
    _negatives(g, routes)
    docs: list[Doc] = []
    for spec in HOSTS:
        items = routes.get(spec.path, [])
        g.shuffle(items)
        docs.append(render_host(g, spec, items))
    docs.append(write_bundle(g, routes["@minified"]))
    docs.append(write_notebook(g, routes["@notebook"]))
    docs.extend(write_infra(g, routes["@k8s"]))
    docs.extend(write_key_files(g))
    docs.extend(write_dotfiles(g))
    docs.extend(write_ops(g))
    docs.extend(write_stores(g))
    docs.append(write_html(g))
    docs.extend(write_lockfiles(g))

    paths = [d.path for d in docs]
    if len(paths) != len(set(paths)):
        raise ValueError("two writers produced the same file")
    root.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        doc.write(root)
    labels = tuple(label for doc in docs for label in doc.labels)
    secrets = tuple(secret for doc in docs for secret in doc.secrets)
    return Corpus(root, tuple(docs), labels, secrets)


def build_corpus(root: Path, seed: int) -> list[Label]:
    """Write the corpus into ``root`` and return its labels."""
    return list(build(root, seed).labels)

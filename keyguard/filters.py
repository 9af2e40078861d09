"""Named false-positive predicates.

Each filter takes a Candidate and returns True when the candidate is *not* a secret. Universal
filters apply to every rule; shape filters (hash, uuid, ...) only to generic rules, because many
provider formats are themselves hex strings or UUIDs. A rule may list its filters explicitly.

| filter             | rejects                                                              |
|--------------------|----------------------------------------------------------------------|
| placeholder        | your-api-key-here, <TOKEN>, xxxx, changeme, ****, ...                |
| template           | ${VAR}, {{ .Values.x }}, %(name)s, #{x}, <%= x %>, $VAR, %VAR%       |
| reference          | os.environ[...], process.env.X, getenv(...), secrets.X, vault refs   |
| documented-example | providers' documented example keys and well-known sample tokens     |
| low-diversity      | aaaaaaaa, 12345678, abcdefgh: too few distinct characters            |
| encrypted          | sops ENC[...], ansible-vault, sealed secrets, encrypted PEM, age, PGP |
| hash               | md5/sha1/sha256/sha512 hex digests, git SHAs (generic rules)          |
| uuid               | UUIDs (generic rules)                                                |
| encoded-data       | data: URIs, SRI / lockfile integrity strings (generic rules)          |
| password-hash      | bcrypt, argon2, crypt(3), pbkdf2 hashes (generic rules)               |
| public             | public keys, certificates, publishable keys (generic rules)          |
| path-like          | file paths and plain URLs (generic rules)                            |
| identifier         | code identifiers and attribute chains: self.password (generic rules) |
| weak-password      | defaults (admin, root, guest), user == password, values naming       |
|                    | themselves (password1, mysecret), one character class (generic rules)|
| pem-body           | key blocks whose body is truncated, repetitive or too short (opt-in) |
| k8s-secret         | base64 values outside a `kind: Secret`, or decoding to a placeholder |
|                    | (opt-in)                                                             |
| basic-auth         | base64 `auth` values that do not decode to user:password (opt-in)    |

Universal filters run for every rule, shape filters for generic rules; opt-in filters only when a
rule lists them in `filters`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import regex

from keyguard.entropy import char_classes, shannon


@dataclass(frozen=True, slots=True)
class Candidate:
    secret: str  # the value the rule captured
    match: str  # the whole match
    line: str  # the line the match starts on (bounded length)
    head: str  # the first few KB of the file, lowercased, for document-level hints


_PLACEHOLDER_WORDS = regex.compile(
    r"""(?ix)
    x{4,} | \*{3,} | \.{3} | \#{4,} | _{4,} | -{5,}
    | \byour | your[_-]?(?:own|api|key|secret|token|pass) | yourkey | yoursecret
    | example | sample | dummy | placeholder | changeme | change[_-]me | replace[_-]?me
    | redacted | \bfake | insert[_-]?(?:your|key|token|here) | _here\b | -here\b | here$
    | ^<[^<>]+>$ | ^\[[^\[\]]+\]$ | \bnull\b | \bnone\b | \bundefined\b | \bfoo\b | \bbar\b
    | \btodo\b | \bfixme\b | \bnotset\b | secret[_-]?key[_-]?here | ^test$ | ^password$
    """
)
_TEMPLATE = regex.compile(
    r"""(?x)
    \$\{[^}]*\}? | \{\{.*?\}\}? | \{%.*?%\} | %\([\w.-]+\)[sd] | \#\{[^}]*\} | <%=? .*? %>
    | ^\$[A-Za-z_][A-Za-z0-9_]*$ | ^%[A-Za-z_][A-Za-z0-9_]*%$ | ^@[\w.-]+@$ | ^__[A-Z0-9_]+__$
    | ^\$\([^)]*\)$ | ^\$[A-Za-z_{(] | ^\{[A-Za-z_][\w.-]*\}$ | ^:[a-z_]+$ | ^\$(?:\d|[@*?!\#])$
    """
)
_REFERENCE = regex.compile(
    r"""(?ix)
    os\.environ | os\.getenv | getenv\( | process\.env | \benv\[ | \benv\. | ENV\[ | \$env:
    | System\.getenv | Environment\.GetEnvironmentVariable | secrets\.[A-Z_] | \bvault: | ref\+
    | !Ref\b | !Sub\b | !GetAtt | valueFrom | secretKeyRef | \bvar\.[a-z_] | \blocal\.[a-z_]
    | config\[ | settings\. | \bparams\. | \bargs\. | \bopts\. | ^\$\{\{
    """
)
_ENCRYPTED = regex.compile(
    r"""(?x)
    ENC\[(?:AES256_GCM|PGP|KMS) | \$ANSIBLE_VAULT; | Proc-Type:\s*4,ENCRYPTED
    | BEGIN\ ENCRYPTED\ PRIVATE\ KEY | BEGIN\ AGE\ ENCRYPTED | BEGIN\ PGP\ MESSAGE | !vault\b
    | ^age1[0-9a-z]{58}$ | ^AgB[A-Za-z0-9+/=]{100,}$
    | ^\{[A-Za-z0-9+/]{16,}={0,2}\}$  # maven settings-security encrypted password
    """
)
_DOCUMENTED_SUFFIX = regex.compile(r"(?i)(?:EXAMPLE(?:KEY)?|EXAMPLE[0-9A-Z]{0,6})$")
# sha256 of well-known sample tokens from providers' documentation; kept as hashes so this
# repository holds no token-shaped literal.
_DOCUMENTED_HASHES: frozenset[str] = frozenset()

_HEX_DIGEST = regex.compile(
    r"^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{56}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$", regex.I
)
_UUID = regex.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", regex.I)
_ENCODED_DATA = regex.compile(r"(?i)^(?:data:|sha(?:1|256|384|512)-[A-Za-z0-9+/=]{20,}$)")
_PASSWORD_HASH = regex.compile(
    r"^(?:\$(?:2[abxy]?|1|5|6|y|gy|7|argon2(?:id|i|d)|scrypt|pbkdf2[\w-]*|sha1|md5)\$"
    r"|(?:pbkdf2_sha\d+|bcrypt_sha256|sha1|md5|argon2)\$|\{(?:SSHA|SHA|SSHA256|SSHA512|CRYPT|MD5)\})"
)
_PUBLIC = regex.compile(
    r"^(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-|-----BEGIN (?:PUBLIC KEY|CERTIFICATE|RSA PUBLIC)"
    r"|pk_(?:live|test)_|MII[BC][A-Za-z0-9+/]{10,}IDAQAB$)"
)
_PATH_LIKE = regex.compile(
    r"^(?:[./~]|[A-Za-z]:\\|https?://[^@\s]*$|file:)|^[\w.-]+/[\w./-]+\.\w{1,5}$"
)
_IDENTIFIER = regex.compile(
    r"^(?:[A-Za-z_$][A-Za-z_$]*(?:[.:\->]+[A-Za-z_$][\w$]*)+(?:\(\)?)?"  # a.b.c, a->b, A::b
    r"|[a-z]+(?:_[a-z]+)+|[A-Z]+(?:_[A-Z]+)+|[a-z]+(?:[A-Z][a-z]+)+|[A-Za-z_]\w*\(.*\)?"
    r"|[A-Za-z_][A-Za-z_.]*(?:[-+*/%|&^]+[A-Za-z_][A-Za-z_.]*)+)$"  # expressions: prefix+name
)


def is_placeholder(c: Candidate) -> bool:
    return bool(_PLACEHOLDER_WORDS.search(c.secret))


def is_template(c: Candidate) -> bool:
    return bool(_TEMPLATE.search(c.secret))


def is_reference(c: Candidate) -> bool:
    return bool(_REFERENCE.search(c.secret))


def is_documented_example(c: Candidate) -> bool:
    if _DOCUMENTED_SUFFIX.search(c.secret):
        return True
    if c.secret.startswith("eyJ") and _is_sample_jwt(c.secret):
        return True
    return hashlib.sha256(c.secret.encode()).hexdigest() in _DOCUMENTED_HASHES


# The claims of the token on jwt.io and in countless tutorials ("John Doe", sub 1234567890).
_SAMPLE_CLAIMS = (("sub", "1234567890"), ("name", "John Doe"))


def _is_sample_jwt(token: str) -> bool:
    parts = token.split(".")
    if len(parts) < 2:
        return False
    raw = _b64(parts[1], urlsafe=True)
    if raw is None:
        return False
    try:
        claims = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(claims, dict) and any(claims.get(k) == v for k, v in _SAMPLE_CLAIMS)


def _b64(text: str, urlsafe: bool = False) -> bytes | None:
    padded = text + "=" * (-len(text) % 4)
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def is_low_diversity(c: Candidate) -> bool:
    core = c.secret
    if len(core) < 8:
        return len(set(core)) <= 2
    if len(set(core)) <= 3:
        return True
    # long runs of one character make a value that is mostly padding
    return shannon(core) < 1.5


def is_encrypted(c: Candidate) -> bool:
    if _ENCRYPTED.search(c.secret) or _ENCRYPTED.search(c.match):
        return True
    return "kind: sealedsecret" in c.head or ("$ansible_vault;" in c.head and len(c.secret) > 40)


def is_hash(c: Candidate) -> bool:
    return bool(_HEX_DIGEST.match(c.secret))


def is_uuid(c: Candidate) -> bool:
    return bool(_UUID.match(c.secret))


def is_encoded_data(c: Candidate) -> bool:
    return bool(_ENCODED_DATA.match(c.secret))


def is_password_hash(c: Candidate) -> bool:
    return bool(_PASSWORD_HASH.match(c.secret))


def is_public(c: Candidate) -> bool:
    return bool(_PUBLIC.match(c.secret))


def is_path_like(c: Candidate) -> bool:
    return bool(_PATH_LIKE.match(c.secret))


def is_identifier(c: Candidate) -> bool:
    return bool(_IDENTIFIER.match(c.secret))


# Values that announce what they are, and the defaults every installation guide shows.
_SELF_NAMING = regex.compile(
    r"(?i)p[a@]ss?w[o0@]rd|passwd|secret|s3cr3t|token|insecure|\bmock|demo|test|letmein|qwerty"
    r"|changeit|admin|hunter2"
)
_DEFAULTS = frozenset(
    "root toor guest pass default user username postgres mysql mariadb redis rabbitmq mongo "  # noqa: SIM905
    "mongodb oracle tiger scott sa pwd passw0rd welcome welcome1 trustno1 123456 12345678 "
    "123456789 1234567890 abc123 azerty".split()
)
# lowercase words joined by punctuation: secret-passwd, pass@host, to-be-stolen
_WORDS_JOINED = regex.compile(r"^[a-z]+(?:[^A-Za-z0-9\s]+[a-z]+)+$")
_PERCENT_ESCAPE = regex.compile(r"%[0-9A-Fa-f]{2}")
_BASE64_TEXT = regex.compile(r"^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")


def is_weak_password(c: Candidate) -> bool:
    value = c.secret
    if f"{value}:{value}@" in c.match:  # postgres://app:app@db
        return True
    if _PERCENT_ESCAPE.search(value):
        value = urllib.parse.unquote(value)
        if len(value) < 6:
            return True
    if _is_weak_text(value):
        return True
    if len(value) >= 12 and _BASE64_TEXT.match(value):
        # base64 of readable text (alice:secret-passwd) is judged by what it says
        raw = _b64(value)
        if raw is not None and raw.isascii():
            text = raw.decode("ascii")
            if text.isprintable():
                return _is_weak_text(text.partition(":")[2] or text)
    return False


def _is_weak_text(value: str) -> bool:
    if value.lower() in _DEFAULTS or _SELF_NAMING.search(value) or _WORDS_JOINED.match(value):
        return True
    # identifier punctuation (-_.) does not make a value random: count only the other symbols
    return char_classes(value.replace("-", "").replace("_", "").replace(".", "")) < 2


_PEM_BODY = regex.compile(r"[A-Za-z0-9+/=]+")


def has_bad_key_body(c: Candidate) -> bool:
    """A key block whose body is a stand-in: too short, repetitive, or a run of one character."""
    lines = c.secret.replace("\\r", "").replace("\\n", "\n").splitlines()
    body = "".join(
        "".join(_PEM_BODY.findall(line))
        for line in lines
        if "-----" not in line and ":" not in line and not line.lstrip().startswith("=")
    )
    if len(body) < 40:
        return True
    return shannon(body) < 3.5 or bool(regex.search(r"(.)\1{19,}", body))


def is_outside_k8s_secret(c: Candidate) -> bool:
    """Base64 values count only inside a Kubernetes Secret, and only if they decode to a value."""
    if "kind: secret" not in c.head and '"kind": "secret"' not in c.head:
        return True
    raw = _b64(c.secret)
    if raw is None:
        return True
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False  # binary key material
    inner = Candidate(secret=text.strip(), match=text, line=c.line, head=c.head)
    return (
        len(inner.secret) < 6
        or any(
            check(inner) for check in (is_placeholder, is_template, is_reference, is_low_diversity)
        )
        or is_weak_password(inner)
    )


def is_not_basic_auth(c: Candidate) -> bool:
    """Docker `auth` values and Basic headers are base64 of `user:password` with a real password."""
    raw = _b64(c.secret)
    if raw is None:
        return True
    try:
        user, sep, password = raw.decode("utf-8").partition(":")
    except UnicodeDecodeError:
        return True
    if not sep or not user or not password.isprintable():
        return True
    inner = Candidate(secret=password, match=f"{user}:{password}@", line=c.line, head=c.head)
    return any(
        check(inner) for check in (is_placeholder, is_template, is_reference, is_low_diversity)
    ) or (password.lower() in _DEFAULTS or password == user)


Predicate = Callable[[Candidate], bool]

FILTERS: dict[str, Predicate] = {
    "placeholder": is_placeholder,
    "template": is_template,
    "reference": is_reference,
    "documented-example": is_documented_example,
    "low-diversity": is_low_diversity,
    "encrypted": is_encrypted,
    "hash": is_hash,
    "uuid": is_uuid,
    "encoded-data": is_encoded_data,
    "password-hash": is_password_hash,
    "public": is_public,
    "path-like": is_path_like,
    "identifier": is_identifier,
    "weak-password": is_weak_password,
    "pem-body": has_bad_key_body,
    "k8s-secret": is_outside_k8s_secret,
    "basic-auth": is_not_basic_auth,
}
UNIVERSAL = (
    "placeholder",
    "template",
    "reference",
    "documented-example",
    "low-diversity",
    "encrypted",
)
SHAPE = (
    "hash",
    "uuid",
    "encoded-data",
    "password-hash",
    "public",
    "path-like",
    "identifier",
    "weak-password",
)
OPT_IN = tuple(name for name in FILTERS if name not in UNIVERSAL + SHAPE)


def rejecting_filter(candidate: Candidate, names: tuple[str, ...]) -> str | None:
    """The name of the first filter that rejects the candidate, or None."""
    for name in names:
        if FILTERS[name](candidate):
            return name
    return None

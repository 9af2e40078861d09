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
| default-password   | installation defaults and user == password (opt-in: for rules that   |
|                    | only lower a weak password's confidence, `downgrade`)                |
| pem-body           | key blocks whose body is truncated, repetitive or too short (opt-in) |
| k8s-secret         | base64 values outside a `kind: Secret`, or decoding to a placeholder |
|                    | (opt-in)                                                             |
| basic-auth         | base64 `auth` values that do not decode to user:password (opt-in)    |
| declared-base64    | values a format marks as base64 (FileZilla `encoding="base64"`) that |
|                    | do not decode to text, or decode to a placeholder or weak password   |
|                    | (opt-in)                                                             |
| comment            | matches inside a comment: `# never use verify=False`, `x  // curl -k` |
|                    | (opt-in, hygiene rules)                                              |
| prose              | sentences about a setting: plain-text docs, docstrings, help and log |
|                    | messages, `inline code` in a sentence (plain words with a function   |
|                    | word; not command lines such as `helm repo add x`) (opt-in, hygiene) |
| docs               | Markdown, reStructuredText and AsciiDoc files, judged by their first |
|                    | 4 KB (fences, links, directives, title underlines) (opt-in, hygiene) |
| test-code          | test files by content: pytest/unittest, Go testing, JUnit, Jest,     |
|                    | RSpec, PHPUnit, xUnit, git-style shell tests, bats: *not reported*.  |
|                    | Candidates carry no path, so tests/, *_test.go... are judged by what |
|                    | they import; test *data* (an htpasswd file in tests/) is reported    |
|                    | (opt-in, hygiene)                                                    |
| linter             | linter rules quoting insecure code: quoted rule ids (S501, B501,     |
|                    | G402, CA5359), semgrep/ESLint fields (pattern:, message:, selector:),|
|                    | ESLint configs; lines a security linter's suppression marks reviewed |
|                    | (`# nosec B501`, `# noqa: S501`, `//nolint:gosec`) (opt-in, hygiene) |
| rule-file          | scanner rule files: keyguard/gitleaks [[rule]]/[[rules]]/[[playbook]]|
|                    | TOML, semgrep rules YAML (opt-in, hygiene)                           |
| loopback           | settings aimed only at this machine: localhost, 127.0.0.0/8, ::1     |
|                    | (opt-in, hygiene)                                                    |
| url-userinfo       | URLs whose user:password is a placeholder, template, default or the  |
|                    | user name again (opt-in, hygiene)                                    |

Universal filters run for every rule, shape filters for generic rules; opt-in filters only when a
rule lists them in `filters`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import itertools
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
    <[a-z][a-z_ -]{2,}>
    | \byour | your[_-]?(?:own|api|key|secret|token|pass) | yourkey | yoursecret
    | example | sample | dummy | placeholder | changeme | change[_-]me | replace[_-]?me
    | redacted | \bfake | insert[_-]?(?:your|key|token|here) | _here\b | -here\b | here$
    | ^<[^<>]+>$ | ^\[[^\[\]]+\]$ | \bnull\b | \bnone\b | \bundefined\b | \bfoo\b | \bbar\b
    | \btodo\b | \bfixme\b | foobar | \bnotset\b | secret[_-]?key[_-]?here | ^test$ | ^password$
    | replace[_-]?with | change[_-]?this | generate[_-]?(?:one|me|your|a[_-]|new|random|with|it)
    | random[_-]?char | fill[_-]?(?:in|me) | \bset[_-]?me\b | put[_-]?your | (?:add|enter)[_-]?your
    | ^(?:my|the|some)[_-]?(?:secret[_-]?)?(?:password|passwd|pass|pwd|secret|token|key|apikey)\d{0,3}$
    | ^(?:secret|passwd|pass|pwd|token|apikey|api[_-]key)$
    """
)
_TEMPLATE = regex.compile(
    r"""(?x)
    \$\{[\w.:@\[\]'"()|,/+*?=!\#%\ -]*(?:\}|$) | \{\{.*?\}\}? | \{%.*?%\} | %\([\w.-]+\)[sd]
    | \#\{[\w.:@\[\]'"()|,/+*?=!\ -]*\} | <%=? .*? %>
    | ^\$[A-Za-z_][A-Za-z0-9_]*$ | ^%[A-Za-z_][A-Za-z0-9_]*%$ | ^@[\w.-]+@$ | ^__[A-Z0-9_]+__$
    | ^\$\([^)]*\)$ | ^\$[A-Za-z_{(] | ^\{[A-Za-z_][\w.-]*\}$ | ^:[a-z_]+$ | ^\$(?:\d|[@*?!\#])$
    | ^@@[\w.-]+@@$
    | \{[A-Za-z_][\w.]*![rsa]\} | \{[A-Za-z_][\w.]*\}[^{}]*\{[A-Za-z_][\w.]*\}   # format fields
    | \{\{ | \}\} | \{gen: | \{secret\}               # unclosed/nested templates, keyguard's own
    | \\[dhHwsS](?:\{\d|[*+]) | \[[A-Za-z0-9]-[A-Za-z0-9]  # pattern syntax: \h{32}, [A-Z
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
    | \{cipher\}  # Spring Cloud Config encrypted value
    | ^ENC\([A-Za-z0-9+/=_-]{16,}\)$  # jasypt
    """
)
_DOCUMENTED_SUFFIX = regex.compile(r"(?i)(?:EXAMPLE(?:KEY)?|EXAMPLE[0-9A-Z]{0,6})$")
# sha256 of well-known sample tokens from providers' documentation; kept as hashes so this
# repository holds no token-shaped literal.
_DOCUMENTED_HASHES: frozenset[str] = frozenset(
    {
        # Azurite / Azure Storage Emulator account key (devstoreaccount1)
        "0011cc25eb4320717494d2703e8cba85743e71b500283c21c8b88147992f9059",
        # Azure Cosmos DB emulator key
        "aa6547439583c3a275d4542a0df6c1ad6a863971be9f2a2220f027cc02aef615",
        # Stripe API reference test keys
        "2cafc0970149a84f3b9e62eaf169f36f59907a3b3e31f7b82e68c69cd27f7326",
        "f2d6ca16515033e5dce14eba840b979d27b5cbae24bb3e5bf484339667f86397",
        "7e8de44ea9ecf6d53415c90f5b249a8591f7abafbf7d65a2c0d855afeca3ec09",
        # Mailgun API reference sample key
        "9c846fdf0fa8955c377d0301542ee20ecd4585c5f359aa0a4cf15d44424f573d",
        # GitHub docs' sample personal access token
        "3543c50b0cb9cea8e55eb1f529b79f043cb250d485fde7b66cabbb5183add7da",
        # UUIDs from RFC 4122 / Wikipedia / Microsoft docs, compared lowercased
        "d1bfaf4aff653cb27984b7d978e51a7d406d1572df95d205c254beb18dc134d3",
        "16362f566387b3cf5a6e92fb0a986c76ca20eb3a0c12cbdfbd0b29501e0c18df",
        "986c0dc956dc822b5d8f698661b9eb1ef880786ff9043c16744d2a420e99e9bb",
        "a3a9e1ed9732cab28868127be00f1ce921acaefdd5c3b23a6e9e0072bd9c1a34",
    }
)
# Emulator / development-storage connection settings: their keys are published.
_EMULATOR = regex.compile(r"(?i)devstoreaccount1|UseDevelopmentStorage\s*=\s*true")

_HEX_DIGEST = regex.compile(
    r"^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{56}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$", regex.I
)
_UUID = regex.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", regex.I)
_ENCODED_DATA = regex.compile(r"(?i)^(?:data:|sha(?:1|256|384|512)-[A-Za-z0-9+/=]{20,}$)")
# a JWT with one part decoded in place ({"alg":...}.eyJ..., eyJ....{"sub":...}): the token itself
# is judged by the JWT rule
_HALF_DECODED_JWT = regex.compile(r"\}\.eyJ|eyJ[\w-]*\.\{|\.\{\"|\"\}\.")
_PASSWORD_HASH = regex.compile(
    r"^(?:\$(?:2[abxy]?|1|5|6|y|gy|7|P|H|apr1|argon2(?:id|i|d)|scrypt|pbkdf2[\w-]*|sha1|md5)\$"
    r"|(?:pbkdf2_sha\d+|bcrypt_sha256|sha1|md5|argon2)\$|\{(?:SSHA|SHA|SSHA256|SSHA512|CRYPT|MD5)\}"
    r"|SCRAM-SHA-(?:1|256)\$|md5[0-9a-f]{32}$|\*[0-9A-F]{40}$)"  # postgres / mysql stored forms
)
_PUBLIC = regex.compile(
    r"^(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-|-----BEGIN (?:PUBLIC KEY|CERTIFICATE|RSA PUBLIC)"
    r"|pk_(?:live|test)_|pk\.eyJ|MII[BC][A-Za-z0-9+/]{10,}IDAQAB$)"
)
_PATH_LIKE = regex.compile(
    r"^(?:[./~]|[A-Za-z]:\\|https?://[^@\s]*$|file:)|^[\w.-]+/[\w./-]+\.\w{1,5}$"
)
_IDENTIFIER = regex.compile(
    # a.b.c, a->b, A::b (a lone "-" is no member access: Lznfqjavd-SUNO1C is a password)
    r"^(?:[A-Za-z_$][A-Za-z_$]*(?:(?:[.:]+|->)[A-Za-z_$][\w$]*)+(?:\(\)?)?"
    r"|[a-z]+(?:_[a-z0-9]+)+|[A-Z]+(?:_[A-Z]+)+|[a-z]+(?:[A-Z][a-z]+)+|[A-Za-z_]\w*\(.*\)?"
    r"|[a-z]+(?:-[a-z]+)+\[[a-z]+\]"  # bot accounts: github-actions[bot]
    # expressions: prefix+name (not "^" or "-" between names: an xor of two names is no string
    # value, and random passwords have one between letters: Igglmjv^GwmA, Ildjulmyet-QUD)
    r"|[A-Za-z_][A-Za-z_.]*(?:[+*/%|&]+[A-Za-z_][A-Za-z_.]*)+"
    # kebab-case names join words in one case (base-url, API-KEY), unlike Ildjulmyet-QUD
    r"|[a-z_.]+(?:-[a-z_.]+)+|[A-Z_.]+(?:-[A-Z_.]+)+)$"
)


# A run of filler stands for the value (AKIAXXXXXXXXXXXXXXXX, sk-****, dt0c01.ABC123...) when it
# opens or ends the value, is long, or is much of it; inside a random token it happens by chance
# (four X in an 88-character token, *** in a Django key drawn from "...%^&*(-_=+)").
_FILLER_RUN = regex.compile(r"x{4,}|X{4,}|\*{3,}|\.{3,}|\#{4,}|_{4,}|-{5,}")


# A placeholder word is written in one case (dummy, DUMMY, Dummy, changeMe): in a random
# mixed-case token "dUMmY" or "+fOo/" is chance, not a word.
_ONE_CASE = regex.compile(r"^(?:[a-z]*|[A-Z]*|[A-Z]?[a-z]{2,}(?:[A-Z][a-z]+)*[A-Z]?)$")


def _written_as_word(text: str) -> bool:
    return bool(_ONE_CASE.match("".join(ch for ch in text if ch.isalpha())))


# A value cut short where the rest is described: pypi-AgEIcHlwaS5vcmc<rest-of-token>, ghp_...
_TRUNCATED = regex.compile(r"(?:<[A-Za-z][\w -]{2,}>|\.{3}|…|\[\.\.\.\])")


def _cut_short(c: Candidate) -> bool:
    at = c.line.find(c.secret)
    return at >= 0 and _TRUNCATED.match(c.line, at + len(c.secret)) is not None


def is_placeholder(c: Candidate) -> bool:
    # In a random printable salt (WordPress's) a "<diY>" inside is chance, not a <placeholder>.
    salt = _salt_like(c.secret)
    if any(
        _written_as_word(m.group())
        and not (salt and m.group()[:1] == "<" and m.group() != c.secret)
        for m in _PLACEHOLDER_WORDS.finditer(c.secret)
    ):
        return True
    if _cut_short(c):
        return True
    value = c.secret
    return any(
        m.start() == 0
        or m.end() == len(value)
        or len(m.group()) >= 8
        or len(m.group()) * 4 >= len(value)
        for m in _FILLER_RUN.finditer(value)
    )


# Random printable salts (WordPress's, Django's) hold "{{", "}}" or "#{...}" by chance; in
# them only a template whose braces hold names counts.
_STRICT_TEMPLATE = regex.compile(
    r"""(?x)\{\{\s*[\w.$|:'"()\[\]\ -]+\s*\}\} | \$\{[\w.:?!\#%/+=-]+\} | \{%[\w\s.|:'"()-]+%\}
    | %\([\w.-]+\)[sd] | <%=?[\w\s.@:'"()\[\]-]+%> | \#\{[\w.@:\[\]'"()]+\}
    | \{gen: | \{secret\}                                     # keyguard's own example templates"""
)


def _salt_like(value: str) -> bool:
    punctuation = sum(1 for ch in value if not ch.isalnum() and ch not in "{}")
    # a sixth: WordPress's 64-character salts average 21 symbols, and fall under 13 in 2 %
    return len(value) >= 32 and punctuation * 6 >= len(value)


def is_template(c: Candidate) -> bool:
    found = [m.group() for m in _TEMPLATE.finditer(c.secret)]
    if not found:
        return False
    if not _salt_like(c.secret):
        return True
    # in a salt only braces and class-like runs ("[N-M") can be chance: $HTTPD_PROTO://... is
    # still a template
    return any("{" not in t and "}" not in t and t[:1] != "[" for t in found) or bool(
        _STRICT_TEMPLATE.search(c.secret)
    )


_ARN = regex.compile(r"arn:aws[\w-]*:[\w-]+:[\w-]*:\d*:[^\s\"'`,;]+")


# A YAML alias (`password: *db_password`) names an anchor defined elsewhere: a reference, not a
# value (seen in ansible's history).
_YAML_ALIAS = regex.compile(r"^\*[A-Za-z_][\w.-]*$")
_YAML_ALIAS_LINE = regex.compile(r":\s+\*[A-Za-z_][\w.-]*\s*(?:#.*)?$")


# A PowerShell command's result assigned (`$password = Get-AnsibleParam -obj $params ...`): the
# value is a cmdlet named Verb-Noun with one of PowerShell's approved verbs (seen in ansible's
# Windows modules); a password spelled that way would need the `$var = ` in front as well.
_CMDLET = regex.compile(
    r"^(?:Get|Set|New|Remove|Add|Clear|Copy|Convert|ConvertTo|ConvertFrom|Read|Write|Test|Invoke|"
    r"Import|Export|Select|Out|Format|Start|Stop|Join|Split|Resolve|Update|Find|Install|Enable|"
    r"Disable|Register|Unregister|Protect|Unprotect|Request|Send|Receive|Expand|Compress|Wait)"
    r"-[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*$"
)
_CMDLET_ASSIGNMENT = regex.compile(r"\$[\w:]+\s*=\s*(?:\(\s*)?[A-Z][a-z]+-[A-Z]")


def is_reference(c: Candidate) -> bool:
    if _REFERENCE.search(c.secret):
        return True
    if _YAML_ALIAS.match(c.secret) and _YAML_ALIAS_LINE.search(c.line):
        return True
    if _CMDLET.match(c.secret) and _CMDLET_ASSIGNMENT.search(c.line):
        return True
    # arn:aws:secretsmanager:...:secret:prod/db names a secret, it does not hold one
    return "arn:aws" in c.line and any(c.secret in m.group() for m in _ARN.finditer(c.line))


def is_documented_example(c: Candidate) -> bool:
    if _DOCUMENTED_SUFFIX.search(c.secret):
        return True
    if c.secret.startswith("eyJ") and _is_sample_jwt(c.secret):
        return True
    if _EMULATOR.search(c.line) or _EMULATOR.search(c.match):
        return True
    for value in {c.secret, c.secret.lower()}:
        if hashlib.sha256(value.encode()).hexdigest() in _DOCUMENTED_HASHES:
            return True
    return False


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
    # 123456, abcdef: typed, not generated; in a long random token a run of six happens by
    # chance (CCIPAT_..._d613093456789f), so there it must be a fifth of the value
    if _has_sequence(core.lower(), max(6, len(core) // 5)):
        return True
    # long runs of one character make a value that is mostly padding
    return shannon(core) < 1.5


_SEALED_VALUE = regex.compile(r"[A-Za-z0-9+/]{100,}={0,2}")  # kubeseal output: long base64


def is_encrypted(c: Candidate) -> bool:
    if _ENCRYPTED.search(c.secret) or _ENCRYPTED.search(c.match):
        return True
    if "kind: sealedsecret" in c.head:
        # Only its ciphertext: a token that merely sits in the same file is still a token.
        return _SEALED_VALUE.fullmatch(c.secret) is not None
    return "$ansible_vault;" in c.head and len(c.secret) > 40


def _has_sequence(value: str, run: int) -> bool:
    count = 1
    for a, b in itertools.pairwise(value):
        if ord(b) == ord(a) + 1 and (a.isdigit() == b.isdigit()) and a.isalnum():
            count += 1
            if count >= run:
                return True
        else:
            count = 1
    return False


# The name a value is assigned to: `API_KEY=`, `"apiKey": "`, `-H "X-Auth-Token: `,
# `getenv("API_KEY", "`, `<add key="ApiKey" value="`, `Bearer `, `https://__token__:`.
_NAME_AT_END = regex.compile(r"([A-Za-z_][\w.-]*)[^\w]*$")
_XML_KEY = regex.compile(r"""(?i)\b(?:key|name)\s*=\s*["']([\w.:-]+)["'][^<>]*$""")
_CAMEL = regex.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SECRET_WORDS = frozenset(
    "secret secrets token tokens password passwd pwd pass passphrase apikey accesskey authtoken "  # noqa: SIM905
    "bearer credential credentials privatekey secretkey signingkey".split()
)
# `<word> key` names that hold credentials (API, access, signing, license... keys)
_KEY_QUALIFIERS = frozenset(
    "api access auth private signing encryption master app license service account storage "  # noqa: SIM905
    "admin subscription cipher aes hmac write ingest ingestion rest server secret speech "
    "client hec integration routing sdk".split()
)
# names of values that are digests, identifiers or public by design
_NOT_SECRET_WORDS = frozenset(
    "id ids sha sha1 sha256 sha384 sha512 md5 hash hashed digest checksum integrity etag commit "  # noqa: SIM905
    "revision rev fingerprint uuid guid version build nonce salt iv crc oid trace request "
    "correlation csrf xsrf page next cursor continuation sync public publishable pub".split()
)


def _assigned_name(c: Candidate) -> str:
    where = c.line.find(c.secret)
    prefix = c.line[max(0, where - 200) : where] if where >= 0 else ""
    if not prefix:
        where = c.match.find(c.secret)
        prefix = c.match[:where] if where > 0 else ""
    m = _NAME_AT_END.search(prefix)
    name = m.group(1) if m else ""
    if m and name in ("string", "String", "str"):  # `API_KEY: string = "..."`
        m = _NAME_AT_END.search(prefix[: m.start()])
        name = m.group(1) if m else ""
    if name.lower() in ("value", "default", "content"):
        k = _XML_KEY.search(prefix)
        if k:
            name = k.group(1)
    return name


def _secret_named(c: Candidate) -> bool:
    """True when the value is assigned to a name that says it is a credential (API_KEY, token,
    client_secret, X-Auth-Token, Bearer) and not a digest or id (sha, checksum, commit, key_id)."""
    words = [w for w in regex.split(r"[^a-z0-9]+", _CAMEL.sub("_", _assigned_name(c)).lower()) if w]
    if not words or any(w in _NOT_SECRET_WORDS for w in words):
        return False
    if "search" in words and ("only" in words or "algolia" in words):
        return False  # Algolia's search-only key is public by design
    if any(w in _SECRET_WORDS for w in words):
        return True
    return any(
        w == "key" and i > 0 and words[i - 1] in _KEY_QUALIFIERS for i, w in enumerate(words)
    )


def is_hash(c: Candidate) -> bool:
    return bool(_HEX_DIGEST.match(c.secret)) and not _secret_named(c)


def is_uuid(c: Candidate) -> bool:
    return bool(_UUID.match(c.secret)) and not _secret_named(c)


def is_encoded_data(c: Candidate) -> bool:
    return bool(_ENCODED_DATA.match(c.secret) or _HALF_DECODED_JWT.search(c.secret))


_HTPASSWD_USER = regex.compile(r"^[\w.@-]{1,64}:(?=[$*{]|[A-Za-z0-9./]{13}$)")


def is_password_hash(c: Candidate) -> bool:
    # htpasswd entries (user:$2y$..., user:{SHA}...) hold a hash after the user name
    return bool(_PASSWORD_HASH.match(_HTPASSWD_USER.sub("", c.secret, count=1)))


def is_public(c: Candidate) -> bool:
    return bool(_PUBLIC.match(c.secret))


def is_path_like(c: Candidate) -> bool:
    if not _PATH_LIKE.match(c.secret):
        return False
    # base64 key material may start with "/": paths rarely hold "+" or end in "="
    return not (c.secret[:1] == "/" and ("+" in c.secret or c.secret.endswith("=")))


_WORD_CHUNK = regex.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def _looks_random(value: str) -> bool:
    """Words of one or two characters make up much of it (hRxvcuE5Pgx...), unlike code names.
    Without a digit only where an operator joins it (BiFcCIhQbEbo+icpyoMLw is base64, not
    prefix+name): a code name alone may be all short words (getXYZ)."""
    if not (any(ch.isupper() for ch in value) and any(ch.islower() for ch in value)):
        return False
    if not any(ch.isdigit() for ch in value) and not any(ch in "+/" for ch in value):
        return False
    chunks = _WORD_CHUNK.findall(value)
    total = sum(len(chunk) for chunk in chunks)
    short = sum(len(chunk) for chunk in chunks if len(chunk) <= 2)
    return total >= 10 and short * 10 >= total * 4


def is_identifier(c: Candidate) -> bool:
    if not _IDENTIFIER.match(c.secret):
        return False
    return "(" in c.secret or not _looks_random(c.secret)


# Values that announce what they are, and the defaults every installation guide shows.
_SELF_NAMING = regex.compile(
    r"(?i)p[a@4]ss?w[o0@]rd|passwd|secret|s3cr3t|token|insecure|\bmock|demo|test|letmein|qwerty"
    r"|changeit|admin|hunter2"
)
_DEFAULTS = frozenset(
    "root toor guest pass default user username postgres mysql mariadb redis rabbitmq mongo "  # noqa: SIM905
    "mongodb oracle tiger scott sa pwd passw0rd welcome welcome1 trustno1 123456 12345678 "
    "123456789 1234567890 abc123 azerty foobared".split()
)
# lowercase words joined by punctuation: secret-passwd, pass@host, to-be-stolen
_WORDS_JOINED = regex.compile(r"^[a-z]+(?:[^A-Za-z0-9\s]+[a-z]+)+$")
_PERCENT_ESCAPE = regex.compile(r"%[0-9A-Fa-f]{2}")
_BASE64_TEXT = regex.compile(r"^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")


def _names_itself(c: Candidate) -> bool:
    """The value spells out the name it is assigned to: accountkey: base64encodedaccountkey."""
    words = [w for w in regex.split(r"[^a-z0-9]+", _CAMEL.sub("_", _assigned_name(c)).lower()) if w]
    flat = regex.sub(r"[^a-z0-9]+", "", c.secret.lower())
    for n in (1, 2):
        tail = "".join(words[-n:])
        if len(words) >= n and len(tail) >= 6 and tail in flat:
            return True
    return False


def is_weak_password(c: Candidate) -> bool:
    value = c.secret
    if f"{value}:{value}@" in c.match:  # postgres://app:app@db
        return True
    if _names_itself(c):
        return True
    if _PERCENT_ESCAPE.search(value):
        value = urllib.parse.unquote(value)
        if len(value) < 6:
            return True
    if _is_weak_text(value):
        return True
    if len(value) >= 8 and _BASE64_TEXT.match(value):
        # base64 of readable text (alice:secret-passwd) is judged by what it says
        raw = _b64(value)
        if raw is not None and raw.isascii():
            text = raw.decode("ascii").rstrip("\r\n")  # `echo pw | base64` keeps the newline
            if text.isprintable():
                return _is_weak_text(text.partition(":")[2] or text)
    return False


# what installers and guides set: _DEFAULTS plus the words weak-password catches by shape
_INSTALL_DEFAULTS = _DEFAULTS | frozenset(("admin", "administrator", "password", "changeme"))


def is_default_password(c: Candidate) -> bool:
    """An installation's default (root, postgres, guest...) or the user name again
    (postgres:postgres, app:app@db): what a fresh setup or a guide has, not a chosen password.
    Where weak passwords only lower confidence (a tool's credential file), these still drop."""
    value = c.secret
    pair = f"{value}:{value}"
    return value.lower() in _INSTALL_DEFAULTS or pair in c.line or pair in c.match


# a lowercase word and a number (minio123, bitnami1234), a date or timestamp
_WORD_NUMBER = regex.compile(r"^[a-z]{3,}[0-9]{1,6}$|^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}|$)")


def _names_a_word(value: str) -> bool:
    """A self-naming word written as a word (test, Test, TEST), not letters of a random token
    that happen to spell it in mixed case (tESt)."""
    for m in _SELF_NAMING.finditer(value):
        rest = [ch for ch in m.group()[1:] if ch.isalpha()]
        if all(ch.islower() for ch in rest) or all(ch.isupper() for ch in rest):
            return True
    return False


def _is_weak_text(value: str) -> bool:
    if value.lower() in _DEFAULTS or _names_a_word(value) or _WORDS_JOINED.match(value):
        return True
    if _WORD_NUMBER.match(value):
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


_DECLARED_BASE64 = regex.compile(r"""(?i)encoding\s*=\s*["']base64["']""")


def is_declared_base64_placeholder(c: Candidate) -> bool:
    """A value its format declares base64 (FileZilla's `<Pass encoding="base64">`) is judged by
    what it decodes to: not text, a placeholder, a template or a weak password."""
    if not _DECLARED_BASE64.search(c.match):
        return False
    raw = _b64(c.secret)
    if raw is None:
        return True
    try:
        # `echo pw | base64` and editors that save with a newline keep it in the encoding
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return True
    inner = Candidate(secret=text, match=text, line=c.line, head=c.head)
    checks = (is_placeholder, is_template, is_reference, is_low_diversity, is_weak_password)
    return len(text) < 4 or not text.isprintable() or any(check(inner) for check in checks)


# --- hygiene filters: a setting that is mentioned, not used ------------------------------------
# Hygiene rules match code and configuration (a disabled certificate check, an old protocol, a
# password hash), and the same text turns up where nobody runs it: comments, documentation,
# linter rules that quote the insecure code, test suites. Candidates carry no path (a history
# audit scans a blob once for every path it had), so these judge the line and the file's head.

# A comment that starts the line: #, //, /*, * (block comment bodies), --, ;, <!--, REM, ::.
# Preprocessor lines and shebangs are code.
_LINE_COMMENT = regex.compile(
    r"""(?ix)^\s*(?:
        \#(?!!|\[|(?:include|define|if|ifdef|ifndef|elif|else|endif|pragma|undef|error)\b)
      | // | /\* | \*(?:\s|/|$) | --(?:\s|$) | ; | <!-- | rem\s | ::\s
    )"""
)


def _code_part(text: str) -> str:
    """`text` up to a comment that opens in it outside quotes (a trailing comment is no
    evidence about the code before it)."""
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif _opens_comment(text, i):
            return text[:i]
        i += 1
    return text


def _opens_comment(text: str, i: int) -> bool:
    before = text[i - 1] if i else " "
    if text[i] == "#":  # after code: a line that starts with # is _LINE_COMMENT's to judge
        return before.isspace() and bool(text[:i].strip())
    if text.startswith("//", i):  # not `https://`: a URL's slashes follow a colon
        return before.isspace() or before in ";,){}"
    if text.startswith("/*", i):
        return "*/" not in text[i:]
    return text.startswith("<!--", i) and "-->" not in text[i:]


def _match_offset(c: Candidate) -> int:
    """Where the match starts in its line, or -1 (a match spanning lines: its first line)."""
    return c.line.find(c.match.split("\n", 1)[0])


def is_commented(c: Candidate) -> bool:
    """The match sits in a comment: `# never use verify=False`, `x = 1  // curl -k ...`."""
    where = _match_offset(c)
    if where < 0:
        return False
    prefix = c.line[:where]
    opened = _LINE_COMMENT.match(prefix)
    if opened and not (opened.group().lstrip().startswith("/*") and "*/" in prefix):
        return True
    return _code_part(prefix) != prefix  # a comment opens after code: `x = 1  # ...`


# Words of a sentence: letters (a capital, an apostrophe or a hyphenated compound allowed),
# acronyms, with the punctuation and markup that wraps words in prose.
_PLAIN_WORD = regex.compile(
    r"""^[("'`*_\[]*(?:[A-Za-z][a-z]+(?:['-][a-z]+)*|[A-Z]{2,5}|[aAI])[)"'`*_\],.;:!?]*$"""
)
# ...and the small words a sentence has and a command line does not (`helm repo add internal`).
_FUNCTION_WORDS = frozenset(
    "a an the to is are be of and or for with not this that you your it its when only use "  # noqa: SIM905
    "if in on by from as at can should must never do does will we our so than then instead "
    "like".split()
)
_QUOTED = regex.compile(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'""")
_INLINE_CODE = regex.compile(r"`[^`\n]+`")


def _reads_as_prose(text: str, least: int, dense: bool = True) -> bool:
    tokens = text.split()
    words = [t for t in tokens if _PLAIN_WORD.match(t)]
    if len(words) < least or (dense and len(words) * 10 < len(tokens) * 7):
        return False
    bare = {w.strip("()\"'`*_[],.;:!?").lower() for w in words}
    return bool(bare & _FUNCTION_WORDS) or tokens[-1][-1] in ".:!?"


def is_prose(c: Candidate) -> bool:
    """The line is a sentence about the setting (plain-text documentation, a docstring, a help
    or log message): besides the match, four plain words making up 70 % of the line's code
    with a function word (to, the, only...) or closing punctuation; or the match is `inline
    code` in a line with three such words outside the code; or it is inside a quoted string
    that reads so with three words of its own."""
    where = _match_offset(c)
    if where < 0:
        return False
    end = where + len(c.match.split("\n", 1)[0])
    if _reads_as_prose(c.line[:where] + " " + _code_part(c.line[end:]), 4):
        return True
    for code in _INLINE_CODE.finditer(c.line):
        if code.start() < where < code.end():
            # `inline code` in a sentence (Markdown, reST, a docstring's table): the words
            # around the code spans decide, however much code the line also quotes
            return _reads_as_prose(_INLINE_CODE.sub(" ", c.line), 3, dense=False)
    for quoted in _QUOTED.finditer(c.line):
        if quoted.start() < where < quoted.end():
            close = quoted.end() - 1
            inside = c.line[quoted.start() + 1 : where] + " " + c.line[min(end, close) : close]
            return _reads_as_prose(inside, 3)
    return False


# Markup documentation, from the file's first 4 KB: Markdown fences, links and badges,
# reStructuredText directives, AsciiDoc blocks, setext/reST title underlines.
_MARKUP = regex.compile(
    r"""(?mx)^(?:```|~~~)|^(?!\s*\#)[^\n]*\]\((?:https?://|\.{0,2}/|\#)|^\[!\[|^\[source[,\]]
    |^:toc:|^=\ \S"""
)
_UNDERLINED = regex.compile(
    r"""(?mx)^(?:\.\.\ [a-z][\w-]*::|\.\.\ _[\w-]+:)|^[a-z][^\n:=;{}<>\[\]"']{2,78}\n(?:={3,}|-{3,}|~{3,})[ \t]*$"""
)
# ...unless the file reads as code: a docstring may hold reST, a source file may not be docs.
# Each alternative needs code's shape after its word, since prose lines start with "Using",
# "Let", "Package" or "Public" too (git's AsciiDoc manuals were read as code that way).
_CODE_HEAD = regex.compile(
    r"""(?mx)^(?:import\s+[\w.{*"'(]|from\s+[\w.]+\s+import\s|package\s+[\w.]+;?[ \t]*$
    |func\s+[\w(]|def\s+\w+\(|class\s+\w+[\s(:{<]|\#include\s*[<"]|using\s+[\w.]+\s*;|<\?php
    |(?:const|let|var)\s+[\w{\[]+\s*[:=]|(?:public|private)\s+(?:static\s|final\s|abstract\s
    |class\s|interface\s|enum\s|void\s|function\s|fun\s|\w+(?:<[^>]*>)?\s+\w+\s*[(;=])
    |module\s+[\w.:]+[ \t]*(?:$|where\b|\(|do\b)|require[ (]\s*["'])"""
)


def _plain_text_document(head: str) -> bool:
    """Most of the head's lines are sentences (a README or guide without markup, like git's
    SubmittingPatches): at least eight non-blank lines, 60 % of them prose."""
    lines = [line for line in head.splitlines() if line.strip()]
    if len(lines) < 8:
        return False
    prose = sum(1 for line in lines if _reads_as_prose(line, 4))
    return prose * 10 >= len(lines) * 6


# Checks of the head alone are memoised: every candidate of a blob shares its head, and a history
# reads hundreds of versions of a file whose first 4 KB never changed (on ansible's history 11k
# test-code checks of 4 KB heads took 11 s, most of them repeats).
_per_head = functools.lru_cache(maxsize=1024)


def is_documentation(c: Candidate) -> bool:
    """The file is Markdown, reStructuredText, AsciiDoc or plain prose (head-based): settings
    quoted in docs are instructions or warnings for people, not configuration."""
    return _documentation_head(c.head)


@_per_head
def _documentation_head(head: str) -> bool:
    if head.lstrip()[:1] in "{[":  # JSON (a notebook's Markdown cells are still a notebook)
        return False
    if _MARKUP.search(head):
        return True
    if _CODE_HEAD.search(head):
        return False
    return bool(_UNDERLINED.search(head)) or _plain_text_document(head)


# Test code, from the file's first 4 KB (lowercased): test frameworks' imports and idioms.
_TEST_HEAD = regex.compile(
    r"""(?mx)
    ^\s*(?:import\s+pytest|from\s+pytest\b|import\s+unittest|from\s+unittest\b|from\s+django\.test\b
      | import\s+(?:static\s+)?org\.(?:junit|testng)\b|import\s+io\.kotest\b
      | using\s+(?:nunit|xunit|microsoft\.visualstudio\.testtools)\b|package\s+\w+_test\b
      | (?:async\s+)?def\s+test(?:_\w*)?\(|func\s+test\w*\(\s*\w+\s+\*testing\.[tb]\)
      | "testing"\s*$|import\s+"testing"|test_description=|\.\s+\S*test-lib\.sh\b
      | \#!/usr/bin/env\s+bats|@test\s+["']|use\s+phpunit\\framework\\testcase
      | require(?:_relative)?[\s(]+['"](?:spec_helper|rails_helper|test_helper|minitest/autorun|test/unit)['"])
    | (?<![\w.$])(?:describe|it|test)\(\s*['"`]|\brspec\.describe\b|\bextends\s+testcase\b
    | \bfrom\s+['"](?:vitest|@jest/globals|chai|mocha|@testing-library/[\w-]+)['"]
    | \brequire\(\s*['"](?:chai|mocha|supertest|jest|tap|ava)['"]\)
    | ^\s*@test\b|\#\[cfg\(test\)\]|^\s*\#\[test\]|^\s*\[(?:fact|theory|test|testmethod)\]
    | ^\s*\#\s*include\s+[<"](?:gtest/|gmock/|catch2?/|catch\.hpp|cmocka\.h|check\.h|unity\.h
        |cunit/|criterion/|unit-test\.h|test-lib\.h|clar\.h|tap\.h)
    | ^\s*test(?:_f|_p)?\(\s*\w+\s*,\s*\w+\s*\)
    """
)


def is_test_code(c: Candidate) -> bool:
    """The file is a test (pytest/unittest, Go `testing`, JUnit, Jest/Mocha/Vitest, RSpec,
    PHPUnit, NUnit/xUnit, C/C++ test frameworks, git-style shell tests, bats): tests exercise
    insecure settings on purpose. Data fixtures (an htpasswd file under tests/) are not
    recognisable by content."""
    return _test_head(c.head)


@_per_head
def _test_head(head: str) -> bool:
    return bool(_TEST_HEAD.search(head))


# Linter and scanner rule ids quoted on the line (ruff/bandit S501/B501, gosec G402, .NET
# CA5359, Security Code Scan SCS0004, Sonar java:S4830, CWE-295), or the line is a field of a
# rule definition (semgrep `pattern:`, ESLint `message:`/`selector:`, no-restricted-*).
_LINTER_ID = regex.compile(
    r"""["'](?:[SBG]\d{3,4}|CA\d{4}|SCS\d{4}|DUO\d{3}|CWE-\d{1,4}|RSPEC-\d{3,5}|[a-z]+:S\d{3,5})["']"""
)
_LINTER_FIELD = regex.compile(
    r"""(?x)^\s*-?\s*["']?(?:pattern(?:-[a-z-]+)?|patterns|regex|message|selector|fix(?:-regex)?
    |metavariable-[a-z]+|bad-example|good-example)["']?\s*:
    | ["'](?:message|selector|pattern)["']\s*: | \bno-restricted-[a-z-]+"""
)

# A suppression the code's owner wrote for a security linter on the line: the finding was
# reviewed already (bandit's nosec, ruff/flake8-bandit's noqa with an S code, gosec's
# nolint:gosec, Sonar, semgrep, CodeQL/LGTM). A bare noqa silences style checks too: no.
_SUPPRESSED = regex.compile(
    r"(?i)\#\s*nosec\b|\bnoqa\s*:\s*(?:[a-z]+\d+\s*,\s*)*s\d{3}|\bruff\s*:\s*(?:noqa|ignore)"
    r"|//\s*nolint\b|\bNOSONAR\b|\bnosemgrep\b|\blgtm\[|\bcodeql\["
)
# ESLint configuration (.eslintrc, eslint.config.js, package.json's eslintConfig)
_ESLINT_CONFIG = regex.compile(
    r'eslint:recommended|@eslint/js|eslint-config-|eslint-plugin-|"eslintconfig"|plugin:[\w@/-]+/'
)


def is_linter_rule(c: Candidate) -> bool:
    """A linter's rule quoting the insecure code, a configuration naming a linter rule, or a
    line whose security-linter suppression says its owner reviewed it."""
    where = _match_offset(c)
    prefix = c.line[:where] if where >= 0 else c.line
    if _LINTER_ID.search(c.line) or _LINTER_FIELD.search(prefix) or _SUPPRESSED.search(c.line):
        return True
    return _eslint_head(c.head)


@_per_head
def _eslint_head(head: str) -> bool:
    return bool(_ESLINT_CONFIG.search(head))


# Files that define detection rules or playbooks: keyguard and gitleaks rule files
# ([[rule]] / [[rules]] / [[playbook]] arrays), semgrep rule YAML (rules: with languages:).
_RULE_FILE = regex.compile(r"(?m)^\[\[(?:rules?|playbook)\]\]\s*$")
_SEMGREP = regex.compile(r"(?m)^rules:\s*$[\s\S]*^\s*(?:-\s+)?languages:")


def is_rule_file(c: Candidate) -> bool:
    """The file defines scanner rules (their examples quote insecure code on purpose)."""
    return _rule_file_head(c.head)


@_per_head
def _rule_file_head(head: str) -> bool:
    return bool(_RULE_FILE.search(head) or _SEMGREP.search(head))


_URL_HOST = regex.compile(
    r"""(?i)\b[a-z][a-z0-9+.-]*://(?:[^/\s"'<>]*@)?(\[[0-9a-f:.]+\]|[^:/\s"'<>?#@\\]+)"""
)
_HOST_SETTING = regex.compile(
    r"""(?i)(?<![\w-])(?:host(?:name)?|server|addr(?:ess)?)["']?\s*[=:]\s*["']?(\[[0-9a-f:.]+\]|[\w.:-]+)"""
)
_LOOPBACK = regex.compile(
    r"(?i)^(?:localhost|[\w-]+\.localhost|127(?:\.\d{1,3}){3}|\[?::1\]?|0\.0\.0\.0)(?::\d+)?$"
)


def is_loopback(c: Candidate) -> bool:
    """Every host the match (else its line) names is this machine: localhost, 127.0.0.0/8,
    ::1. A disabled check against a local development server crosses no network."""
    hosts = [m.group(1) for m in _URL_HOST.finditer(c.match)]
    if not hosts:
        hosts = [m.group(1) for m in _URL_HOST.finditer(c.line)]
        hosts += [m.group(1) for m in _HOST_SETTING.finditer(c.line)]
    return bool(hosts) and all(_LOOPBACK.match(h.rstrip(".,;")) for h in hosts)


_USERINFO = regex.compile(r"""://([^:@/\s"'<>]*):([^/\s"'<>]*)@""")


def has_placeholder_userinfo(c: Candidate) -> bool:
    """A URL's `user:password@` is not a real credential: a placeholder, template, reference,
    a default or self-naming password (pass, secret, changeit), or the user name again."""
    m = _USERINFO.search(c.match)
    if m is None:
        return True
    user, password = m.groups()
    if _PERCENT_ESCAPE.search(password):
        password = urllib.parse.unquote(password)
    if len(password) < 4 or password == user:
        return True
    inner = Candidate(secret=password, match=f"{user}:{password}@", line=c.line, head=c.head)
    named = Candidate(secret=user, match=user, line=c.line, head=c.head)
    checks = (is_placeholder, is_template, is_reference, is_low_diversity)
    if any(check(inner) for check in checks) or is_placeholder(named) or is_template(named):
        return True
    return password.lower() in _DEFAULTS or _names_a_word(password)


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
    "default-password": is_default_password,
    "pem-body": has_bad_key_body,
    "k8s-secret": is_outside_k8s_secret,
    "basic-auth": is_not_basic_auth,
    "declared-base64": is_declared_base64_placeholder,
    "comment": is_commented,
    "prose": is_prose,
    "docs": is_documentation,
    "test-code": is_test_code,
    "linter": is_linter_rule,
    "rule-file": is_rule_file,
    "loopback": is_loopback,
    "url-userinfo": has_placeholder_userinfo,
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

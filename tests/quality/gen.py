"""Seeded random generators for credential-shaped values.

Nothing here holds a realistic token: values are assembled at run time from a prefix and random
characters of the provider's alphabet (plus checksums where the real format has one).
"""

from __future__ import annotations

import base64
import json
import random
import string
import zlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

DIGITS = string.digits
LOWER = string.ascii_lowercase
UPPER = string.ascii_uppercase
ALNUM = UPPER + LOWER + DIGITS
BASE62 = DIGITS + UPPER + LOWER
HEX = "0123456789abcdef"
HEX_UPPER = "0123456789ABCDEF"
B32 = UPPER + "234567"
B64 = UPPER + LOWER + DIGITS + "+/"
B64URL = UPPER + LOWER + DIGITS + "-_"
UPPER_ALNUM = UPPER + DIGITS
LOWER_ALNUM = LOWER + DIGITS
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
CRYPT64 = "./" + DIGITS + UPPER + LOWER

# Substrings that scanners treat as "this is a placeholder"; random values must not contain them
# by accident, or a miss would be the generator's fault rather than the scanner's.
_SUSPICIOUS = (
    "example",
    "test",
    "fake",
    "dummy",
    "sample",
    "xxxx",
    "0000",
    "1111",
    "1234",
    "abcd",
    "placeholder",
    "changeme",
    "secret",
    "password",
    "token",
    "your",
    "redact",
    "mock",
    "demo",
    "null",
    "none",
    "todo",
    "insecure",
)

_WORDS = (
    "amber",
    "basalt",
    "canyon",
    "copper",
    "dahlia",
    "ember",
    "falcon",
    "glacier",
    "harbor",
    "indigo",
    "juniper",
    "kestrel",
    "lantern",
    "meadow",
    "nimbus",
    "orchid",
    "pepper",
    "quartz",
    "raven",
    "saffron",
    "timber",
    "umber",
    "velvet",
    "willow",
    "yonder",
    "zephyr",
    "marble",
    "cobalt",
    "thistle",
    "walnut",
    "brisket",
    "tundra",
    "mosaic",
    "pylon",
    "sprocket",
    "violet",
)


def base62(value: int, width: int) -> str:
    """Base62 (0-9A-Za-z) of ``value``, left-padded with '0' to ``width``."""
    out = ""
    while value:
        value, rem = divmod(value, 62)
        out = BASE62[rem] + out
    return out.rjust(width, "0")


def crc32_base62(body: str) -> str:
    """The 6-character checksum tail used by GitHub and npm tokens."""
    return base62(zlib.crc32(body.encode()) & 0xFFFFFFFF, 6)


def b64url_nopad(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def crc24(data: bytes) -> int:
    """OpenPGP ASCII-armour checksum (RFC 4880, 6.1)."""
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def wrap(text: str, width: int = 64) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)]


def looks_clean(value: str) -> bool:
    low = value.lower()
    return not any(word in low for word in _SUSPICIOUS)


class Gen:
    """All randomness of one corpus build; deterministic for a seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    # -- primitives -------------------------------------------------------------------------
    def chars(self, n: int, alphabet: str) -> str:
        while True:
            value = "".join(self.rng.choice(alphabet) for _ in range(n))
            if looks_clean(value):
                return value

    def alnum(self, n: int) -> str:
        return self.chars(n, ALNUM)

    def hex(self, n: int) -> str:
        return self.chars(n, HEX)

    def hexu(self, n: int) -> str:
        return self.chars(n, HEX_UPPER)

    def b64chars(self, n: int) -> str:
        return self.chars(n, B64)

    def b64url(self, n: int) -> str:
        return self.chars(n, B64URL)

    def upper_alnum(self, n: int) -> str:
        return self.chars(n, UPPER_ALNUM)

    def lower_alnum(self, n: int) -> str:
        return self.chars(n, LOWER_ALNUM)

    def digits(self, n: int) -> str:
        return str(self.rng.randint(1, 9)) + "".join(self.rng.choice(DIGITS) for _ in range(n - 1))

    def raw(self, n: int) -> bytes:
        return bytes(self.rng.getrandbits(8) for _ in range(n))

    def b64bytes(self, n: int) -> str:
        """Standard base64 (with padding) of ``n`` random bytes: 32 -> 44 chars, 64 -> 88."""
        while True:
            value = b64(self.raw(n))
            if looks_clean(value):
                return value

    def uuid(self) -> str:
        h = self.hex(32)
        h = h[:12] + "4" + h[13:16] + self.rng.choice("89ab") + h[17:]
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def num(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, seq: Sequence[T]) -> T:
        return seq[self.rng.randrange(len(seq))]

    def sample(self, seq: Sequence[T], k: int) -> list[T]:
        return self.rng.sample(list(seq), k)

    def shuffle(self, items: list[T]) -> None:
        self.rng.shuffle(items)

    def word(self) -> str:
        return self.pick(_WORDS)

    def host(self) -> str:
        return (
            f"{self.word()}-{self.lower_alnum(4)}.{self.pick(('internal', 'corp', 'prod', 'svc'))}"
        )

    # -- passwords --------------------------------------------------------------------------
    def password(self, symbols: str = "!@^*-_+=.?~") -> str:
        """A password-manager style password: starts with a letter, has a digit and a symbol."""
        while True:
            n = self.num(14, 24)
            body = self.pick(UPPER + LOWER) + self.chars(n - 1, ALNUM + symbols * 2)
            if any(c in DIGITS for c in body) and (not symbols or any(c in symbols for c in body)):
                return body

    def human_password(self, symbols: str = "!@^*-_+=.?~") -> str:
        """A memorable but real password, e.g. 'Copper-Lantern-47!'."""
        a, b = self.word().capitalize(), self.word().capitalize()
        sep = self.pick(symbols) if symbols else ""
        tail = self.pick(symbols) if symbols else ""
        return f"{a}{sep}{b}{sep}{self.num(10, 9999)}{tail}"

    def any_password(self, symbols: str = "!@^*-_+=.?~") -> str:
        return self.human_password(symbols) if self.chance(0.25) else self.password(symbols)

    def url_password(self) -> str:
        """Password that can sit unescaped in the userinfo part of a URL."""
        return self.any_password("-_.~!*")

    def username(self) -> str:
        return self.pick(
            (
                "admin",
                "deploy",
                "app",
                "svc_backend",
                "ci-bot",
                "root",
                "etl",
                "grafana",
                "reporting",
                "api_user",
                "jenkins",
                "builder",
                "sa",
            )
        )

    # -- structured tokens ------------------------------------------------------------------
    def crc_token(self, prefix: str, n_random: int = 30) -> str:
        body = self.alnum(n_random)
        return prefix + body + crc32_base62(body)

    def github_fine_grained(self) -> str:
        first = self.alnum(22)
        second = self.alnum(53)
        body = f"{first}_{second}"
        return "github_pat_" + body + crc32_base62(body)

    def jwt(self, alg: str = "HS256", payload: dict[str, object] | None = None) -> str:
        header: dict[str, object] = {"alg": alg, "typ": "JWT"}
        if alg.startswith("RS") or self.chance(0.3):
            header["kid"] = self.hex(16)
        now = self.num(1_690_000_000, 1_760_000_000)
        body: dict[str, object] = payload or {
            "sub": self.uuid(),
            "iss": f"https://auth.{self.word()}.io/",
            "aud": self.pick(("api", "backend", "internal-services")),
            "iat": now,
            "exp": now + self.pick((3600, 86400, 31_536_000)),
            "scope": self.pick(("read write", "admin", "deploy")),
        }
        sig_len = 342 if alg.startswith("RS") else 43
        return ".".join(
            (
                b64url_nopad(json.dumps(header, separators=(",", ":")).encode()),
                b64url_nopad(json.dumps(body, separators=(",", ":")).encode()),
                self.b64url(sig_len),
            )
        )

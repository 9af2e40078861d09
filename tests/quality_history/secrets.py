"""Seeded random credentials in real provider formats, and hard negatives that only look like them.

Nothing realistic is stored here: every value is assembled at run time from a prefix and random
characters of the provider's alphabet (plus the checksum where the real format has one). PEM armour
is built from pieces so that this file itself holds no key block.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import uuid

from tests.quality.gen import b64url_nopad, crc32_base62

DIGITS = string.digits
UPPER = string.ascii_uppercase
LOWER = string.ascii_lowercase
ALNUM = UPPER + LOWER + DIGITS
BASE62 = DIGITS + UPPER + LOWER
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
DASHES = "-" * 5

# A random value must not trip a placeholder heuristic by accident (a miss would then be the
# generator's fault, not the scanner's).
_SUSPICIOUS = (
    "example",
    "test",
    "fake",
    "dummy",
    "sample",
    "xxx",
    "000",
    "111",
    "123",
    "abc",
    "changeme",
    "secret",
    "passw",
    "token",
    "your",
    "redact",
    "mock",
    "demo",
    "null",
    "none",
    "todo",
    "key",
)


class Gen:
    """Random values, one seeded stream per corpus."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def chars(self, alphabet: str, n: int) -> str:
        for _ in range(1000):
            value = "".join(self.rng.choice(alphabet) for _ in range(n))
            if not any(bad in value.lower() for bad in _SUSPICIOUS):
                return value
        raise RuntimeError("cannot draw an innocent-looking random value")

    def raw(self, n: int) -> bytes:
        return bytes(self.rng.getrandbits(8) for _ in range(n))

    # -- credentials ---------------------------------------------------------------------------
    def github(self, prefix: str = "ghp_") -> str:
        body = self.chars(ALNUM, 30)
        return prefix + body + crc32_base62(body)

    def npm(self) -> str:
        body = self.chars(ALNUM, 30)
        return "npm_" + body + crc32_base62(body)

    def aws_key_id(self) -> str:
        return "AKIA" + self.chars(UPPER + "234567", 16)

    def aws_secret(self) -> str:
        return self.chars(ALNUM + "+/", 40)

    def slack_bot(self) -> str:
        return f"xoxb-{self.chars(DIGITS, 12)}-{self.chars(DIGITS, 13)}-{self.chars(ALNUM, 24)}"

    def slack_webhook(self) -> str:
        return (
            "https://hooks.slack.com/services/"
            f"T{self.chars(UPPER + DIGITS, 8)}/B{self.chars(UPPER + DIGITS, 10)}/"
            f"{self.chars(ALNUM, 24)}"
        )

    def stripe(self, prefix: str = "sk_live_") -> str:
        return prefix + self.chars(ALNUM, 99)

    def gitlab(self) -> str:
        return "glpat-" + self.chars(ALNUM + "-_", 20)

    def openai(self) -> str:
        return "sk-proj-" + self.chars(B64URL, 74) + "T3BlbkFJ" + self.chars(B64URL, 74)

    def anthropic(self) -> str:
        return "sk-ant-api03-" + self.chars(B64URL, 93) + "AA"

    def sendgrid(self) -> str:
        return "SG." + self.chars(B64URL, 22) + "." + self.chars(B64URL, 43)

    def twilio_key_sid(self) -> str:
        return "SK" + self.chars(HEX, 32)

    def twilio_auth(self) -> str:
        return self.chars(HEX, 32)

    def google(self) -> str:
        return "AIza" + self.chars(B64URL, 35)

    def mailgun(self) -> str:
        return "key-" + self.chars(HEX, 32)

    def huggingface(self) -> str:
        return "hf_" + self.chars(UPPER + LOWER, 34)

    def password(self, n: int = 18) -> str:
        return self.chars(ALNUM + "!%^*-_", n)

    def url_password(self, n: int = 20) -> str:
        return self.chars(ALNUM, n)

    def django(self) -> str:
        return self.chars(LOWER + DIGITS + "!@%^&*(-_=+)", 50)

    def jwt(self) -> str:
        header = b64url_nopad(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {
            "sub": self.chars(DIGITS, 9),
            "name": self.chars(LOWER, 8),
            "iat": 1700000000 + self.rng.randrange(10**6),
            "role": "service",
        }
        payload = b64url_nopad(json.dumps(claims).encode())
        return f"{header}.{payload}.{b64url_nopad(self.raw(32))}"

    def rsa_private_key(self) -> list[str]:
        """A PKCS#1 RSAPrivateKey structure with random numbers, PEM-armoured."""

        def tlv(tag: int, body: bytes) -> bytes:
            n = len(body)
            size = bytes([n]) if n < 0x80 else bytes([0x82, n >> 8, n & 0xFF])
            return bytes([tag]) + size + body

        def big(nbytes: int) -> bytes:
            raw = bytearray(self.raw(nbytes))
            raw[0] |= 0x80
            return tlv(0x02, b"\x00" + bytes(raw))

        body = b"".join(
            [tlv(0x02, b"\x00"), big(256), tlv(0x02, b"\x01\x00\x01"), big(256)]
            + [big(128) for _ in range(5)]
        )
        text = base64.b64encode(tlv(0x30, body)).decode()
        label = "RSA PRIVATE " + "KEY"
        return [
            f"{DASHES}BEGIN {label}{DASHES}",
            *(text[i : i + 64] for i in range(0, len(text), 64)),
            f"{DASHES}END {label}{DASHES}",
        ]

    # -- hard negatives ------------------------------------------------------------------------
    def sha256(self) -> str:
        return hashlib.sha256(self.raw(16)).hexdigest()

    def sha1(self) -> str:
        return hashlib.sha1(self.raw(16)).hexdigest()

    def uuid(self) -> str:
        return str(uuid.UUID(bytes=self.raw(16), version=4))

    def integrity(self) -> str:
        return "sha512-" + base64.b64encode(hashlib.sha512(self.raw(16)).digest()).decode()

    def ssh_public(self) -> str:
        blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + self.raw(32)
        return "ssh-ed25519 " + base64.b64encode(blob).decode() + " deploy@ci"

    def certificate(self) -> list[str]:
        text = base64.b64encode(b"\x30\x82\x03\x10" + self.raw(400)).decode()
        return [
            f"{DASHES}BEGIN CERTIFICATE{DASHES}",
            *(text[i : i + 64] for i in range(0, len(text), 64)),
            f"{DASHES}END CERTIFICATE{DASHES}",
        ]


# Providers' documented example values, assembled so that no literal appears in this file.
AWS_DOC_KEY_ID = "".join(("AK", "IA", "IOSFO", "DNN7", "EXAMPLE"))
AWS_DOC_SECRET = "/".join(("wJalrXUtn" + "FEMI", "K7MDENG", "bPxRfiCY" + "EXAMPLEKEY"))

"""Offline format checks (checksums, structure) that a provider's token format carries.

Each validator has `check(secret) -> bool` and `fix(secret) -> str`; `fix` turns a randomly generated
value into one that passes, so rule examples can be generated at test time.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(_BASE62[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def _split_prefixed(secret: str) -> tuple[str, str, str] | None:
    """`ghp_<30 random><6 checksum>` -> (prefix, random, checksum)."""
    head, sep, body = secret.rpartition("_")
    if not sep or len(body) < 7:
        return None
    return head + sep, body[:-6], body[-6:]


def _crc32_check(secret: str) -> bool:
    parts = _split_prefixed(secret)
    if parts is None:
        return False
    _, payload, checksum = parts
    # GitHub (and npm) tokens end in the base62 CRC32 of the random part, so a typo or a
    # made-up value fails offline.
    return base62(zlib.crc32(payload.encode()), 6) == checksum


def _crc32_fix(secret: str) -> str:
    parts = _split_prefixed(secret)
    if parts is None:
        return secret
    prefix, payload, _ = parts
    return prefix + payload + base62(zlib.crc32(payload.encode()), 6)


def _b64decode(text: str) -> bytes | None:
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError):
        return None


def _jwt_check(secret: str) -> bool:
    parts = secret.split(".")
    if len(parts) < 2:
        return False
    header = _b64decode(parts[0])
    if header is None:
        return False
    try:
        parsed = json.loads(header)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(parsed, dict) and "alg" in parsed


def _jwt_fix(secret: str) -> str:
    parts = secret.split(".")
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
    payload_json = json.dumps({"sub": parts[1][:12] if len(parts) > 1 else "x", "iat": 1700000000})
    payload = base64.urlsafe_b64encode(payload_json.encode()).rstrip(b"=").decode()
    return ".".join([header, payload, *parts[2:]])


_MACAROON = base64.b64decode("AgEIcHlwaS5vcmc=")  # the fixed macaroon header of PyPI tokens


def _pypi_check(secret: str) -> bool:
    body = secret.removeprefix("pypi-")
    decoded = _b64decode(body[:16])
    return decoded is not None and decoded.startswith(_MACAROON[:9])


def _identity(secret: str) -> str:
    return secret


def _der_check(secret: str) -> bool:
    """A PEM private key body must be base64 that decodes to a DER SEQUENCE (0x30)."""
    lines = [ln.strip() for ln in secret.replace("\\n", "\n").replace("\\r", "").splitlines()]
    body = "".join(ln for ln in lines if ln and not ln.startswith("-----") and ":" not in ln)
    body = body.replace('"', "").replace("\\", "")
    if len(body) < 32:
        return False
    try:
        decoded = base64.b64decode(body + "=" * (-len(body) % 4), validate=False)
    except (binascii.Error, ValueError):
        return False
    return decoded[:1] == b"0" or decoded[:15] == b"openssh-key-v1\x00"


@dataclass(frozen=True, slots=True)
class Validator:
    name: str
    check: Callable[[str], bool]
    fix: Callable[[str], str]


VALIDATORS: dict[str, Validator] = {
    v.name: v
    for v in (
        Validator("github-crc32", _crc32_check, _crc32_fix),
        Validator("npm-crc32", _crc32_check, _crc32_fix),
        Validator("jwt", _jwt_check, _jwt_fix),
        Validator("pypi-macaroon", _pypi_check, _identity),
        Validator("pem-der", _der_check, _identity),
    )
}

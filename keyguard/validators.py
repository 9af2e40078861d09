"""Offline format checks (checksums, structure) that a provider's token format carries.

Each validator has `check(secret) -> bool` and `fix(secret) -> str`; `fix` turns a randomly generated
value into one that passes, so rule examples can be generated at test time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import textwrap
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


def _b64_strict(text: str) -> bytes | None:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _seed_bytes(secret: str, size: int) -> bytes:
    """`size` random-looking bytes drawn from a generated value, for `fix` functions that build
    a structure (a DER header, a length prefix) around the generator's randomness."""
    out = b""
    block = secret.encode()
    while len(out) < size:
        block = hashlib.sha512(block).digest()
        out += block
    return out[:size]


def _basic_auth_check(secret: str) -> bool:
    """Docker `auth` values (and Basic headers): base64 of `user:password`, printable, both set."""
    raw = _b64_strict(secret)
    if raw is None:
        return False
    try:
        user, sep, password = raw.decode("utf-8").partition(":")
    except UnicodeDecodeError:
        return False
    return bool(sep and user and password) and (user + password).isprintable()


def _basic_auth_fix(secret: str) -> str:
    if _basic_auth_check(secret):
        return secret
    user, sep, password = secret.partition(":")
    if not sep:
        user, password = secret[:6], secret[6:]
    return base64.b64encode(f"{user}:{password}".encode()).decode()


_PEM_KEY = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----(.*?)-----END \1PRIVATE KEY-----", re.S
)


def _pem_base64_check(secret: str) -> bool:
    """kubeconfig `client-key-data`: base64 of a PEM private key whose body is DER."""
    raw = _b64_strict(secret)
    if raw is None:
        return False
    match = _PEM_KEY.search(raw.decode("ascii", "replace"))
    return match is not None and _der_check(match.group(0))


def _pem_base64_fix(secret: str) -> str:
    if _pem_base64_check(secret):
        return secret
    body = b"\x30\x82\x02\x5c\x02\x01\x00\x02\x81\x81\x00" + _seed_bytes(secret, 593)
    lines = textwrap.wrap(base64.b64encode(body).decode(), 64)
    pem = "\n".join(["-----BEGIN RSA PRIVATE KEY-----", *lines, "-----END RSA PRIVATE KEY-----"])
    return base64.b64encode((pem + "\n").encode()).decode()


# WinSCP stores session passwords as hex: each byte b is written as ~(b ^ 0xA3), after a 0xFF
# flag, a reserved byte, the length and a count of padding characters to skip.
_WINSCP_MAGIC = 0xA3
_WINSCP_FLAG = 0xFF


def _winscp_decode(secret: str) -> str | None:
    if len(secret) % 2 or not all(ch in "0123456789ABCDEFabcdef" for ch in secret):
        return None
    data = [~(int(secret[i : i + 2], 16) ^ _WINSCP_MAGIC) & 0xFF for i in range(0, len(secret), 2)]
    if len(data) < 3:
        return None
    if data[0] == _WINSCP_FLAG:
        length, skip, rest = data[2], data[3] if len(data) > 3 else 0, data[4:]
    else:
        length, skip, rest = data[0], data[1], data[2:]
    payload = rest[skip:][:length]
    if not length or len(payload) < length:
        return None
    text = bytes(payload).decode("latin-1")
    return text if text.isprintable() else None


def _winscp_check(secret: str) -> bool:
    return _winscp_decode(secret) is not None


def _winscp_fix(secret: str) -> str:
    if _winscp_check(secret):
        return secret
    seed = _seed_bytes(secret, 40)
    plain = bytes(33 + b % 94 for b in seed[: 10 + seed[-1] % 10])
    data = bytes([_WINSCP_FLAG, 0, len(plain), 0]) + plain + seed[20 : 20 + seed[-2] % 8]
    return "".join(f"{(~b & 0xFF) ^ _WINSCP_MAGIC:02X}" for b in data)


def _jenkins_check(secret: str) -> bool:
    """A Jenkins `{AQAAAB...}` secret (hudson.util.Secret, format 1): version byte 1, a 4-byte
    IV length (16), a 4-byte ciphertext length, the IV, AES-CBC blocks."""
    raw = _b64_strict(secret.strip("{}"))
    if raw is None or len(raw) < 9 or raw[0] != 1:
        return False
    iv_len = int.from_bytes(raw[1:5], "big")
    data_len = int.from_bytes(raw[5:9], "big")
    return iv_len == 16 and data_len % 16 == 0 and data_len > 0 and len(raw) == 9 + 16 + data_len


def _jenkins_fix(secret: str) -> str:
    if _jenkins_check(secret):
        return secret
    seed = _seed_bytes(secret, 16 + 64)
    data_len = 16 * (2 + seed[-1] % 3)
    raw = b"\x01" + (16).to_bytes(4, "big") + data_len.to_bytes(4, "big") + seed[: 16 + data_len]
    return base64.b64encode(raw).decode()


# Firefox logins.json values: base64 of an NSS SDR record, DER SEQUENCE { OCTET STRING key id
# (16 bytes), SEQUENCE { cipher OID, IV }, OCTET STRING ciphertext }.
_NSS_KEY_ID = b"\xf8" + b"\x00" * 14 + b"\x01"
_NSS_3DES = bytes.fromhex("301406082a864886f70d0307")


def _nss_check(secret: str) -> bool:
    raw = _b64_strict(secret)
    return (
        raw is not None
        and len(raw) >= 40
        and raw[0] == 0x30
        and raw[2:4] == b"\x04\x10"
        and raw[20] == 0x30
        and raw[22] == 0x06
    )


def _nss_fix(secret: str) -> str:
    if _nss_check(secret):
        return secret
    seed = _seed_bytes(secret, 40)
    cipher = seed[8 : 8 + 8 * (2 + seed[-1] % 3)]
    inner = b"\x04\x10" + _NSS_KEY_ID + _NSS_3DES + b"\x04\x08" + seed[:8]
    inner += bytes([0x04, len(cipher)]) + cipher
    return base64.b64encode(bytes([0x30, len(inner)]) + inner).decode()


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
        Validator("basic-auth", _basic_auth_check, _basic_auth_fix),
        Validator("pem-base64", _pem_base64_check, _pem_base64_fix),
        Validator("winscp-password", _winscp_check, _winscp_fix),
        Validator("jenkins-secret", _jenkins_check, _jenkins_fix),
        Validator("nss-sdr", _nss_check, _nss_fix),
    )
}

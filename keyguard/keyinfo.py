"""What kind and size of key a private-key finding holds (`rsa:1024`, `dsa:1024`, `ec`,
`ed25519`), read from its PEM or OpenSSH structure without any crypto library.

Only the public parameters' lengths are read (an RSA modulus, a DSA prime): enough to say that a
key is weak (RSA under 2048 bits, any DSA key) under NIST SP 800-57's key sizes. Anything that
does not parse is simply not described.
"""

from __future__ import annotations

import base64
import binascii
import re

_PEM = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----\s*(?P<headers>(?:[A-Za-z-]+:[^\n]*\n\s*)*)"
    r"(?P<body>[A-Za-z0-9+/=\s\\n]+?)-----END",
    re.S,
)
_OIDS = {
    "2a864886f70d010101": "rsa",
    "2a8648ce380401": "dsa",
    "2a8648ce3d0201": "ec",
    "2b6570": "ed25519",
    "2b6571": "ed448",
}


def describe(secret: str) -> str | None:
    """`algorithm:bits` (or just the algorithm where its size is fixed), or None."""
    text = secret.replace("\\n", "\n").replace("\\r", "")
    match = _PEM.search(text)
    if match is None:
        return None
    label = match.group("label")
    try:
        der = base64.b64decode("".join(match.group("body").split()), validate=False)
    except (binascii.Error, ValueError):
        return None
    if label == "RSA PRIVATE KEY":
        return _sized("rsa", _nth_integer_bits(der, 1))
    if label == "DSA PRIVATE KEY":
        return _sized("dsa", _nth_integer_bits(der, 1))
    if label == "EC PRIVATE KEY":
        return "ec"
    if label == "PRIVATE KEY":
        return _pkcs8(der)
    if label == "OPENSSH PRIVATE KEY":
        return _openssh(der)
    return None


def is_weak(info: str | None) -> bool:
    """RSA below 2048 bits, or DSA at any size (FIPS 186-5 no longer approves DSA signing)."""
    if info is None:
        return False
    algorithm, _, bits = info.partition(":")
    if algorithm == "dsa":
        return True
    return algorithm == "rsa" and bits.isdigit() and int(bits) < 2048


def _sized(algorithm: str, bits: int | None) -> str | None:
    return f"{algorithm}:{bits}" if bits else None


def _tlv(data: bytes, at: int) -> tuple[int, int, int] | None:
    """(tag, value start, value end) of the DER element at `at`."""
    if at + 2 > len(data):
        return None
    tag, length = data[at], data[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            return None
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    return (tag, start, end) if end <= len(data) else None


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    at = start
    while at < end:
        element = _tlv(data, at)
        if element is None:
            break
        out.append(element)
        at = element[2]
    return out


def _nth_integer_bits(der: bytes, n: int) -> int | None:
    """The bit length of the n-th INTEGER (0-based) of the top-level SEQUENCE."""
    top = _tlv(der, 0)
    if top is None or top[0] != 0x30:
        return None
    integers = [c for c in _children(der, top[1], top[2]) if c[0] == 0x02]
    if len(integers) <= n:
        return None
    _, start, end = integers[n]
    return int.from_bytes(der[start:end], "big").bit_length()


def _pkcs8(der: bytes) -> str | None:
    top = _tlv(der, 0)
    if top is None or top[0] != 0x30:
        return None
    parts = _children(der, top[1], top[2])
    if len(parts) < 3 or parts[1][0] != 0x30:
        return None
    algorithm = _children(der, parts[1][1], parts[1][2])
    if not algorithm or algorithm[0][0] != 0x06:
        return None
    name = _OIDS.get(der[algorithm[0][1] : algorithm[0][2]].hex())
    if name == "rsa" and parts[2][0] == 0x04:  # the PKCS#1 key inside an OCTET STRING
        return _sized("rsa", _nth_integer_bits(der[parts[2][1] : parts[2][2]], 1))
    if name == "dsa" and len(algorithm) > 1 and algorithm[1][0] == 0x30:
        params = _children(der, algorithm[1][1], algorithm[1][2])  # Dss-Parms: p, q, g
        if params and params[0][0] == 0x02:
            p = der[params[0][1] : params[0][2]]
            return _sized("dsa", int.from_bytes(p, "big").bit_length())
    return name


def _openssh(blob: bytes) -> str | None:
    """openssh-key-v1: magic, cipher, kdf, kdf options, key count, then the public key."""
    magic = b"openssh-key-v1\0"
    if not blob.startswith(magic):
        return None
    at = len(magic)
    fields: list[bytes] = []
    for _ in range(3):  # cipher name, kdf name, kdf options
        value, at = _string(blob, at)
        if value is None:
            return None
        fields.append(value)
    at += 4  # number of keys
    public, at = _string(blob, at)
    if public is None:
        return None
    kind, inner = _string(public, 0)
    if kind == b"ssh-rsa":
        _, inner = _string(public, inner)  # public exponent e
        modulus, _ = _string(public, inner)
        return _sized("rsa", int.from_bytes(modulus, "big").bit_length()) if modulus else None
    if kind == b"ssh-dss":
        prime, _ = _string(public, inner)
        return _sized("dsa", int.from_bytes(prime, "big").bit_length()) if prime else None
    if kind == b"ssh-ed25519":
        return "ed25519"
    if kind and kind.startswith(b"ecdsa-sha2-"):
        return "ec"
    return None


def _string(data: bytes, at: int) -> tuple[bytes | None, int]:
    if at + 4 > len(data):
        return None, at
    length = int.from_bytes(data[at : at + 4], "big")
    end = at + 4 + length
    if end > len(data):
        return None, at
    return data[at + 4 : end], end

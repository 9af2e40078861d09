"""Random key material in real container formats (DER/PEM, OpenSSH, OpenPGP armour, PuTTY).

The structures are genuine (so a scanner that decodes them sees what it would see in a real file),
the numbers inside are random. PEM armour lines are assembled at run time so that this source file
itself contains no PEM block.
"""

from __future__ import annotations

import struct

from .gen import Gen, b64, crc24, wrap

DASHES = "-" * 5


def armor_begin(label: str) -> str:
    return f"{DASHES}BEGIN {label}{DASHES}"


def armor_end(label: str) -> str:
    return f"{DASHES}END {label}{DASHES}"


def pem(label: str, der: bytes, headers: tuple[str, ...] = (), width: int = 64) -> list[str]:
    lines = [armor_begin(label), *headers]
    if headers:
        lines.append("")
    return [*lines, *wrap(b64(der), width), armor_end(label)]


# -- minimal DER encoder ------------------------------------------------------------------------
def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _len(len(body)) + body


def seq(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


def der_int(g: Gen, nbytes: int) -> bytes:
    raw = bytearray(g.raw(nbytes))
    raw[0] |= 0x80
    return tlv(0x02, b"\x00" + bytes(raw))


def small_int(value: int) -> bytes:
    body = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")
    return tlv(0x02, body)


OID_RSA = bytes.fromhex("06092a864886f70d010101")
OID_SHA256_RSA = bytes.fromhex("06092a864886f70d01010b")
OID_PRIME256 = bytes.fromhex("06082a8648ce3d030107")
OID_EC_PUBLIC = bytes.fromhex("06072a8648ce3d0201")
OID_PBES2 = bytes.fromhex("06092a864886f70d01050d")
NULL = b"\x05\x00"


def rsa_pkcs1(g: Gen, bits: int = 2048) -> bytes:
    n = bits // 8
    h = n // 2
    return seq(
        small_int(0),
        der_int(g, n),
        small_int(65537),
        der_int(g, n),
        der_int(g, h),
        der_int(g, h),
        der_int(g, h),
        der_int(g, h),
        der_int(g, h),
    )


def pkcs8(g: Gen) -> bytes:
    return seq(small_int(0), seq(OID_RSA, NULL), tlv(0x04, rsa_pkcs1(g)))


def ec_sec1(g: Gen) -> bytes:
    return seq(
        small_int(1),
        tlv(0x04, g.raw(32)),
        tlv(0xA0, OID_PRIME256),
        tlv(0xA1, tlv(0x03, b"\x00\x04" + g.raw(64))),
    )


def dsa(g: Gen) -> bytes:
    return seq(
        small_int(0),
        der_int(g, 128),
        der_int(g, 20),
        der_int(g, 128),
        der_int(g, 128),
        der_int(g, 20),
    )


def rsa_public(g: Gen) -> bytes:
    inner = seq(der_int(g, 256), small_int(65537))
    return seq(seq(OID_RSA, NULL), tlv(0x03, b"\x00" + inner))


def certificate(g: Gen) -> bytes:
    tbs = seq(tlv(0xA0, small_int(2)), der_int(g, 16), seq(OID_SHA256_RSA, NULL), g.raw(560))
    return seq(tbs, seq(OID_SHA256_RSA, NULL), tlv(0x03, b"\x00" + g.raw(256)))


def encrypted_pkcs8(g: Gen) -> bytes:
    return seq(seq(OID_PBES2, seq(g.raw(60))), tlv(0x04, g.raw(1232)))


# -- PEM blocks ----------------------------------------------------------------------------------
def rsa_private_pem(g: Gen) -> list[str]:
    return pem("RSA PRIVATE KEY", rsa_pkcs1(g))


def pkcs8_pem(g: Gen) -> list[str]:
    return pem("PRIVATE KEY", pkcs8(g))


def ec_private_pem(g: Gen) -> list[str]:
    return pem("EC PRIVATE KEY", ec_sec1(g))


def dsa_private_pem(g: Gen) -> list[str]:
    return pem("DSA PRIVATE KEY", dsa(g))


def certificate_pem(g: Gen) -> list[str]:
    return pem("CERTIFICATE", certificate(g))


def public_key_pem(g: Gen) -> list[str]:
    return pem("PUBLIC KEY", rsa_public(g))


def encrypted_rsa_pem(g: Gen) -> list[str]:
    headers = ("Proc-Type: 4,ENCRYPTED", f"DEK-Info: AES-256-CBC,{g.hexu(32)}")
    return pem("RSA PRIVATE KEY", g.raw(1192), headers)


def encrypted_pkcs8_pem(g: Gen) -> list[str]:
    return pem("ENCRYPTED PRIVATE KEY", encrypted_pkcs8(g))


# -- OpenSSH -------------------------------------------------------------------------------------
def _s(data: bytes | str) -> bytes:
    raw = data.encode() if isinstance(data, str) else data
    return struct.pack(">I", len(raw)) + raw


def ed25519_public_blob(g: Gen) -> bytes:
    return _s("ssh-ed25519") + _s(g.raw(32))


def openssh_private(g: Gen, encrypted: bool = False) -> list[str]:
    pub = ed25519_public_blob(g)
    if encrypted:
        head = _s("aes256-ctr") + _s("bcrypt") + _s(_s(g.raw(16)) + struct.pack(">I", 16))
        private = g.raw(144)
    else:
        head = _s("none") + _s("none") + _s(b"")
        check = g.raw(4)
        private = (
            check
            + check
            + _s("ssh-ed25519")
            + _s(pub[-32:])
            + _s(g.raw(64))
            + _s(f"{g.username()}@{g.word()}")
        )
        pad = 1
        while len(private) % 8:
            private += bytes([pad])
            pad += 1
    blob = b"openssh-key-v1\x00" + head + struct.pack(">I", 1) + _s(pub) + _s(private)
    label = "OPENSSH PRIVATE KEY"
    return [armor_begin(label), *wrap(b64(blob), 70), armor_end(label)]


def ssh_public_line(g: Gen) -> str:
    if g.chance(0.5):
        return f"ssh-ed25519 {b64(ed25519_public_blob(g))} {g.username()}@{g.word()}"
    blob = _s("ssh-rsa") + _s(b"\x01\x00\x01") + _s(b"\x00" + g.raw(256))
    return f"ssh-rsa {b64(blob)} {g.username()}@{g.word()}"


# -- OpenPGP armour ------------------------------------------------------------------------------
def pgp_armor(g: Gen, label: str, tag_byte: int, nbytes: int) -> list[str]:
    body = bytes([tag_byte]) + struct.pack(">H", nbytes - 3) + g.raw(nbytes - 3)
    crc = crc24(body)
    return [
        armor_begin(label),
        "",
        *wrap(b64(body), 64),
        "=" + b64(crc.to_bytes(3, "big")),
        armor_end(label),
    ]


def pgp_private(g: Gen) -> list[str]:
    return pgp_armor(g, "PGP PRIVATE KEY BLOCK", 0x95, 1860)


def pgp_public(g: Gen) -> list[str]:
    return pgp_armor(g, "PGP PUBLIC KEY BLOCK", 0x99, 1200)


def pgp_message(g: Gen) -> list[str]:
    return pgp_armor(g, "PGP MESSAGE", 0x85, 600)


# -- other formats -------------------------------------------------------------------------------
def putty_private(g: Gen) -> list[str]:
    pub = ed25519_public_blob(g)
    return [
        "PuTTY-User-Key-File-3: ssh-ed25519",
        "Encryption: none",
        f"Comment: eddsa-key-2024{g.num(1, 12):02d}{g.num(10, 28)}",
        "Public-Lines: 2",
        *wrap(b64(pub), 64),
        "Private-Lines: 1",
        b64(_s(g.raw(32))),
        f"Private-MAC: {g.hex(64)}",
    ]


def openvpn_static_key(g: Gen) -> list[str]:
    label = "OpenVPN Static key V1"
    return [
        "#",
        "# 2048 bit OpenVPN static key",
        "#",
        armor_begin(label),
        *[g.hex(32) for _ in range(16)],
        armor_end(label),
    ]


def age_encrypted(g: Gen) -> list[str]:
    body = (
        b"age-encryption.org/v1\n-> X25519 "
        + b64(g.raw(32)).rstrip("=").encode()
        + b"\n"
        + b64(g.raw(32)).rstrip("=").encode()
        + b"\n--- "
        + b64(g.raw(32)).rstrip("=").encode()
        + b"\n"
        + g.raw(220)
    )
    label = "AGE ENCRYPTED FILE"
    return [armor_begin(label), *wrap(b64(body), 64), armor_end(label)]


def wireguard_key(g: Gen) -> str:
    return g.b64bytes(32)


def one_line(block: list[str]) -> str:
    """A PEM block as it appears JSON- or env-escaped: real newlines become the two chars '\\n'."""
    return "\\n".join(block) + "\\n"

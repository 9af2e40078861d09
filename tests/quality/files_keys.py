"""Key files: private keys (positives) beside public keys, certificates and encrypted keys."""

from __future__ import annotations

from . import pem
from .gen import Gen
from .labels import Doc


def body_line(block: list[str]) -> str:
    """A line of the secret body of a key block (used as the label's secret excerpt)."""
    for i, line in enumerate(block):
        if line.startswith("Private-Lines"):
            return block[i + 1]
    body = [line for line in block if len(line) >= 32 and not line.startswith("-")]
    return body[len(body) // 2]


def _key_file(path: str, kind: str, block: list[str], fmt: str = "pem") -> Doc:
    doc = Doc(path, fmt)
    doc.pos_block(block, kind, body_line(block))
    return doc


def write_key_files(g: Gen) -> list[Doc]:
    docs = [
        _key_file(
            "deploy/keys/id_ed25519", "privatekey.openssh", pem.openssh_private(g), "openssh"
        ),
        _key_file("deploy/keys/id_rsa", "privatekey.rsa", pem.rsa_private_pem(g)),
        _key_file("certs/server.key", "privatekey.pkcs8", pem.pkcs8_pem(g)),
        _key_file("certs/ec-signing.pem", "privatekey.ec", pem.ec_private_pem(g)),
        _key_file("legacy/dsa_host.key", "privatekey.dsa", pem.dsa_private_pem(g)),
        _key_file("keys/release-signing.asc", "privatekey.pgp", pem.pgp_private(g), "openpgp"),
        _key_file("keys/jumpbox.ppk", "privatekey.putty", pem.putty_private(g), "putty"),
    ]

    # A certificate chain file with the key appended: only the key is a secret.
    bundle = Doc("certs/bundle.pem", "pem")
    bundle.neg_block(pem.certificate_pem(g), "certificate")
    key = pem.rsa_private_pem(g)
    bundle.pos_block(key, "privatekey.rsa", body_line(key))
    docs.append(bundle)

    # OpenVPN static key inside a client profile.
    ovpn = Doc("vpn/client.ovpn", "openvpn")
    ovpn.add(
        "client",
        "dev tun",
        "proto udp",
        f"remote vpn.{g.word()}.io 1194",
        "key-direction 1",
        "<tls-auth>",
    )
    block = pem.openvpn_static_key(g)
    ovpn.add(*block[:3])
    ovpn.pos_block(block[3:], "openvpn.static_key", block[4])
    ovpn.add("</tls-auth>")
    ovpn.neg_block(["<ca>", *pem.certificate_pem(g), "</ca>"], "certificate")
    docs.append(ovpn)

    # Negatives: public halves, certificates and encrypted keys.
    for path, kind, block in (
        ("certs/server.crt", "certificate", pem.certificate_pem(g)),
        ("certs/ca.pem", "certificate", pem.certificate_pem(g)),
        ("keys/public.pem", "public_key", pem.public_key_pem(g)),
        ("keys/release-signing.pub.asc", "public_key", pem.pgp_public(g)),
        ("certs/legacy-encrypted.key", "encrypted_private_key", pem.encrypted_rsa_pem(g)),
        ("certs/client-encrypted.pem", "encrypted_private_key", pem.encrypted_pkcs8_pem(g)),
        (
            "deploy/keys/id_ed25519_passphrase",
            "encrypted_private_key",
            pem.openssh_private(g, encrypted=True),
        ),
        ("secrets/prod.env.age", "encrypted_file", pem.age_encrypted(g)),
        ("secrets/backup-passphrase.txt.asc", "encrypted_file", pem.pgp_message(g)),
    ):
        doc = Doc(path, "pem")
        doc.neg_block(block, kind)
        docs.append(doc)

    pub = Doc("deploy/keys/id_ed25519.pub", "openssh")
    pub.neg(pem.ssh_public_line(g), "public_key")
    docs.append(pub)

    auth = Doc("home/.ssh/authorized_keys", "openssh")
    for _ in range(3):
        auth.neg(pem.ssh_public_line(g), "public_key")
    docs.append(auth)

    known = Doc("home/.ssh/known_hosts", "openssh")
    for _ in range(3):
        host = f"{g.word()}.{g.word()}.io"
        line = pem.ssh_public_line(g)
        known.neg(f"{host} {' '.join(line.split(' ')[:2])}", "public_key")
    docs.append(known)
    return docs

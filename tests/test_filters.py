"""Each named false-positive filter on tables of values it must reject and values it must keep.

Token-like values are generated at test time so this file holds no realistic credential.
"""

from __future__ import annotations

import base64
import random
import string

import pytest

from keyguard.filters import FILTERS, OPT_IN, SHAPE, UNIVERSAL, Candidate, rejecting_filter

_RNG = random.Random(20240611)
_ALNUM = string.ascii_letters + string.digits


def _token(n: int = 32, alphabet: str = _ALNUM) -> str:
    """Random letters and digits (both present) without a word the filters look for."""
    while True:
        value = "".join(_RNG.choice(alphabet) for _ in range(n))
        words = ("test", "demo", "xxxx", "admin", "mock", "your", "token", "secret")
        if any(w in value.lower() for w in words):
            continue
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            return value


def _password() -> str:
    return _token(6) + "".join(_RNG.choice("!^*~?+") for _ in range(2)) + _token(5)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _pem(body: str, kind: str = "RSA PRIVATE KEY") -> str:
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----"


def cand(secret: str, match: str | None = None, line: str = "", head: str = "") -> Candidate:
    return Candidate(
        secret=secret, match=match if match is not None else secret, line=line, head=head
    )


TOKEN = _token()
PASSWORD = _password()
HEX40 = "".join(_RNG.choice("0123456789abcdef") for _ in range(40))
HEX64 = "".join(_RNG.choice("0123456789abcdef") for _ in range(64))
DER_BODY = "MIIEpAIBAAKCAQEA" + _token(600, _ALNUM + "+/")
UUID4 = "-".join(
    "".join(_RNG.choice("0123456789abcdef") for _ in range(n)) for n in (8, 4, 4, 4, 12)
)
HALF_JWT = (
    base64.urlsafe_b64encode(b'{"alg":"HS256"}').decode().rstrip("=")
    + '.{"sub":"svc-42"}.'
    + _token(43)
)
K8S_HEAD = "apiversion: v1\nkind: secret\ndata:\n"

CASES: dict[str, tuple[list[Candidate], list[Candidate]]] = {
    # filter: ([rejected ...], [kept ...])
    "placeholder": (
        [
            cand("your-api-key-here"),
            cand("<TOKEN>"),
            cand("xxxxxxxx"),
            cand("changeme"),
            cand("****"),
            cand("replace-with-64-random-chars"),
            cand("generate-one-with-openssl-rand"),
            cand("please-change-this-secret"),
            cand("AKIAXXXXXXXXXXXXXXXX"),
            cand("dt0c01.ABC123..."),
            cand("pypi-AgEIcHlwaS5vcmc", line="TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmc<rest-of-token>"),
            cand("DUMMY-KEY"),
            cand("ChangeMe2024"),
        ],
        # filler and words inside random tokens happen by chance: a real key is not missed
        [
            cand(TOKEN),
            cand(PASSWORD),
            cand("dt0c01.KMXXXX5HBPMIWWFFXX656Q04." + _token(64).upper()),
            cand("k7t3wy*l@)90afmqmwftp27v_i=6-338qjq***dm)at1y+@ep)"),
            cand("jkzPcnECacWsrdUMmYeOpgiwHUnVVOoX"),
            cand(_token(28) + "+fOo/" + _token(40)),
        ],
    ),
    "template": (
        [
            cand("${DB_PASSWORD}"),
            cand("{{ .Values.password }}"),
            cand("%(password)s"),
            cand("$DB_PASS"),
            cand("$1"),
            cand("$HTTPD_PROTO://user:pw@$HOST"),
            cand("%DB_PASSWORD%"),
            cand("@@GROQ_API_KEY@@"),
            cand("{encoding}-{bom!r}"),
            cand("{{gen:[A-Z][a-z]{5}[0-9]{4}[!#%]}}"),
            # long and full of punctuation like a salt, but a shell expansion (git's t/lib-httpd.sh)
            cand("$HTTPD_PROTO://user%40host:pass%40host@$HTTPD_DEST"),
        ],
        # WordPress and Django salts hold braces by chance
        [
            cand(TOKEN),
            cand(PASSWORD),
            cand("$2b$12$" + _token(53)),
            cand("|!}Pjp4?<?1R-B+~DyjX<^!IBIv1!~dBQ^BJ#{zl4-6xXUXJ^)%Q~}R=-iv4m^2C"),
            cand("4[h{{D5S;(t]K~Gp7lyLTo4;^P}EU{O.uL={v3x,l)ox+(=RP?)}f()N;g[+0xd{"),
            cand("P@y*tG*TfT7~0iN%D}}+fIk02eoWx^=Q;Qug}%#vJKSq72T1rwe4V,,(Y^_kQO+p"),
        ],
    ),
    "reference": (
        [
            cand("os.environ['X']"),
            cand("process.env.DB_PASSWORD"),
            cand("secrets.DB_PASSWORD"),
            cand(
                "prod/db-Ab12Cd",
                line="DB_SECRET_ARN=arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-Ab12Cd",
            ),
        ],
        [cand(TOKEN), cand(TOKEN, line=f'API_KEY = os.environ.get("API_KEY", "{TOKEN}")')],
    ),
    "documented-example": (
        [
            cand("AKIAIOSFODNN7EXAMPLE"),
            cand(
                base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
                + "."
                + base64.urlsafe_b64encode(b'{"sub":"1234567890","name":"John Doe"}')
                .decode()
                .rstrip("=")
                + "."
                + _token(43)
            ),
            cand(
                _token(86, _ALNUM + "+/") + "==",
                line="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=...",
            ),
            cand("3f2504e0-4f89-41d3-9a0c-0305e82c3301"),
        ],
        [
            cand(TOKEN),
            cand(
                base64.urlsafe_b64encode(b'{"alg":"HS256"}').decode().rstrip("=")
                + "."
                + base64.urlsafe_b64encode(b'{"sub":"svc-42"}').decode().rstrip("=")
                + "."
                + _token(43)
            ),
        ],
    ),
    "low-diversity": (
        [
            cand("aaaaaaaa"),
            cand("abababab"),
            cand("a" * 30 + "b1"),
            cand("12345678-1234-5678-1234-567812345678"),
        ],
        [cand(TOKEN), cand(PASSWORD)],
    ),
    "encrypted": (
        [
            cand("ENC[AES256_GCM,data:" + _token(20) + ",type:str]"),
            cand("$ANSIBLE_VAULT;1.1;AES256"),
            cand("AgB" + _token(120)),
            cand("{" + _token(40) + "=}"),
            cand(TOKEN, match="-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"),
            cand("{cipher}" + HEX64),
            cand("ENC(" + _token(48, _ALNUM + "+/") + ")"),
        ],
        [cand(TOKEN), cand(PASSWORD)],
    ),
    # digests and UUIDs are kept when the name they are assigned to says credential
    "hash": (
        [
            cand(HEX40),
            cand(HEX64),
            cand(HEX40, line=f"commit_token: {HEX40}"),
            cand(HEX64, line=f'"api_key_sha256": "{HEX64}",'),
            cand(HEX40, line=f"ALGOLIA_SEARCH_ONLY_API_KEY={HEX40}"),
        ],
        [
            cand(TOKEN),
            cand(HEX40[:30]),
            cand(HEX40, line=f"set HMAC_SECRET={HEX40}"),
            cand(HEX40, line=f'curl -H "X-Auth-Token: {HEX40}" https://status.acme.io'),
            cand(HEX40, line=f'curl -H "Authorization: Bearer {HEX40}" https://api.acme.io'),
            cand(HEX40, line=f"--extra-index-url https://__token__:{HEX40}@pypi.acme.io/simple/"),
        ],
    ),
    "uuid": (
        [
            cand(UUID4),
            cand(UUID4, line=f"tenant_id = '{UUID4}'"),
            cand(UUID4, line=f'"apiKeyId": "{UUID4}",'),
        ],
        [
            cand(TOKEN),
            cand(UUID4, line=f"PINECONE_API_KEY={UUID4}"),
            cand(UUID4, line=f'<add key="SnykToken" value="{UUID4}" />'),
            cand(UUID4, line=f'export const OPSGENIE_API_KEY: string = "{UUID4}";'),
            cand(UUID4, line=f'SNYK_TOKEN = os.environ.get("SNYK_TOKEN", "{UUID4}")'),
        ],
    ),
    "encoded-data": (
        [
            cand("data:image/png;base64," + _token(40)),
            cand("sha512-" + _token(86, _ALNUM + "+/")),
            cand(HALF_JWT),
        ],
        [cand(TOKEN)],
    ),
    "password-hash": (
        [
            cand("$2b$12$" + _token(53)),
            cand("$argon2id$v=19$m=65536$" + _token(40)),
            cand("{SSHA}" + _token(28)),
            cand("SCRAM-SHA-256$4096:" + _token(24) + "==$" + _token(44)),
            cand("md5" + HEX40[:32]),
        ],
        [cand(PASSWORD)],
    ),
    "public": (
        [
            cand("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + _token(43)),
            cand("pk_live_" + _token(24)),
            cand("pk.eyJ1IjoiYWNtZSIsImEiOiI" + _token(22) + "." + _token(22)),
        ],
        [cand(TOKEN)],
    ),
    "path-like": (
        [
            cand("/run/secrets/db_password"),
            cand("./certs/key.pem"),
            cand("https://api.example.org/token"),
        ],
        [cand(TOKEN)],
    ),
    "identifier": (
        [
            cand("self.password"),
            cand("db_password"),
            cand("DB_PASSWORD"),
            cand("getPassword()"),
            cand("prefix+suffix"),
            cand("config.db.password"),
        ],
        # random text split by . or - is not an attribute chain
        [
            cand(TOKEN),
            cand(PASSWORD),
            cand("Copper-Lantern-47!"),
            cand("Lznfqjavd-SUNO1C"),
            cand("Igglmjv^GwmA"),
            cand("BiFcCIhQbEbo+icpyoMLw"),
            cand("MKs." + "h" + _token(16)),
            cand("Q." + "p" + _token(20, _ALNUM + "_-")),
        ],
    ),
    "weak-password": (
        [
            cand("postgres"),
            cand("guest"),
            cand("Password123!"),
            cand("P@ssw0rd"),
            cand("mysecret99"),
            cand("secret-passwd"),
            cand("pass@host"),
            cand("alllowercase"),
            cand("1234567890123"),
            cand("appuser1", match="postgres://appuser1:appuser1@db"),
            cand("%4d^%70"),
            cand(_b64("alice:secret-passwd")),
            cand("p4ssw0rd"),
            cand("foobared"),
        ],
        [
            cand(TOKEN),
            cand(PASSWORD),
            cand("Copper-Lantern-47!"),
            cand("Lznfqjavd-SUNO1C"),
            cand("Igglmjv^GwmA"),
            cand("BiFcCIhQbEbo+icpyoMLw"),
            cand("Tr0ub4dor&3x!"),
            cand(_b64("alice:" + PASSWORD)),
        ],
    ),
    "default-password": (
        [
            cand("postgres"),
            cand("root"),
            cand("Admin"),
            cand("appuser1", match="postgres://appuser1:appuser1@db"),
            cand("svc", line="localhost:5432:*:svc:svc"),
        ],
        [
            cand(PASSWORD),
            cand("Password123!"),
            cand("mysecret99"),
            cand("Copper-Lantern-47!"),
            cand("appuser1", match="postgres://deploy:appuser1@db"),
        ],
    ),
    "pem-body": (
        [
            cand(_pem("MIIEpAIBAAKCAQEA" + "A" * 200)),
            cand(_pem("MIIEowIBAAKCAQEA")),
            cand("-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\\n"),
        ],
        [
            cand(_pem(DER_BODY)),
            cand(_pem(DER_BODY).replace("\n", "\\n")),
            cand(
                _pem(
                    "".join(_RNG.choice("0123456789abcdef") for _ in range(512)),
                    "OpenVPN Static key V1",
                )
            ),
        ],
    ),
    "k8s-secret": (
        [
            cand(_b64(PASSWORD), head="kind: configmap\n"),
            cand(_b64("changeme"), head=K8S_HEAD),
            cand(_b64("${DB_PASSWORD}"), head=K8S_HEAD),
            cand("not*base64", head=K8S_HEAD),
        ],
        [cand(_b64(PASSWORD), head=K8S_HEAD), cand(_b64(TOKEN), head=K8S_HEAD)],
    ),
    "basic-auth": (
        [
            cand(_b64("username:password")),
            cand(_b64("admin:admin")),
            cand(_b64("no-colon-here")),
            cand(_b64("user:${PASS}")),
            cand(base64.b64encode(bytes(range(200, 230))).decode()),
        ],
        [cand(_b64("deploy:" + PASSWORD)), cand(_b64("ci-bot:" + TOKEN))],
    ),
    "declared-base64": (
        [
            cand(_b64("change" + "me"), f'<Pass encoding="base64">{_b64("change" + "me")}</Pass>'),
            cand(_b64("${FTP_PASS}"), f'<Pass encoding="base64">{_b64("${FTP_PASS}")}</Pass>'),
            cand("abcd", '<Pass encoding="base64">abcd</Pass>'),
        ],
        [
            cand(_b64(PASSWORD), f'<Pass encoding="base64">{_b64(PASSWORD)}</Pass>'),
            cand(PASSWORD, f"<Pass>{PASSWORD}</Pass>"),  # not declared base64: not decoded
        ],
    ),
}


def test_every_filter_has_a_table() -> None:
    # the hygiene rules' filters keep their tables beside those rules (test_hygiene_rules.py)
    from tests.test_hygiene_rules import CASES as HYGIENE_CASES

    assert set(CASES) | set(HYGIENE_CASES) == set(FILTERS)
    assert not set(CASES) & set(HYGIENE_CASES)


def test_groups_partition_the_filters() -> None:
    assert set(UNIVERSAL) | set(SHAPE) | set(OPT_IN) == set(FILTERS)
    assert not set(UNIVERSAL) & set(SHAPE)
    assert not (set(UNIVERSAL) | set(SHAPE)) & set(OPT_IN)


@pytest.mark.parametrize(
    ("name", "candidate"),
    [(name, c) for name, (rejected, _) in CASES.items() for c in rejected],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_filter_rejects(name: str, candidate: Candidate) -> None:
    assert FILTERS[name](candidate), f"{name} should reject {candidate.secret[:12]}..."


@pytest.mark.parametrize(
    ("name", "candidate"),
    [(name, c) for name, (_, kept) in CASES.items() for c in kept],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_filter_keeps(name: str, candidate: Candidate) -> None:
    assert not FILTERS[name](candidate), f"{name} should keep {candidate.secret[:12]}..."


def test_rejecting_filter_names_the_first_match() -> None:
    assert rejecting_filter(cand("${X}"), UNIVERSAL) == "template"
    assert rejecting_filter(cand(TOKEN), UNIVERSAL + SHAPE) is None


def test_a_token_beside_sealed_secret_ciphertext_is_still_a_token(compiled: object) -> None:
    """A SealedSecret's encryptedData values are ciphertext; a token in the same file is not
    (found by the fingerprint property with `KIND: SEALEDSECRET` above a token)."""
    from keyguard.engine import CompiledRuleset, scan
    from keyguard.examples import generate_secret
    from keyguard.signatures import load_builtin

    assert isinstance(compiled, CompiledRuleset)
    rng = random.Random("sealed")
    token = generate_secret({r.id: r for r in load_builtin()}["github.pat"], rng)
    cipher = "AgB" + "".join(
        rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(400)
    )
    doc = (
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nspec:\n  encryptedData:\n"
        f"    api-token: {cipher}\n# left behind:\n# GITHUB_TOKEN={token}\n"
    )
    found = scan(doc.encode(), "k8s/sealed.yaml", compiled).findings
    assert [f.secret for f in found] == [token]

"""The development PKI that `corridor certs` makes: a CA, one certificate per service, and the
key pair that signs credentials.

    <dir>/ca.pem, ca.key                 the development CA (ECDSA P-256, 10 years)
    <dir>/certs/<name>.pem, <name>.key   one per service (cn, hk, ..., bridge, vouchers, ...) plus
                                         `localhost` (any in-process server) and `client` (tools,
                                         the simulator, Locust); each valid for server and client
                                         auth, SAN localhost / 127.0.0.1 / <name>
    <dir>/credential-issuer.key, .pub    Ed25519: signs and verifies credentials (JWT, EdDSA)

Services need only the CA, their own pair and the issuer's *public* key; whoever holds
`credential-issuer.key` can mint any credential, so on a shared machine it is the one file to
guard (mode 0600). A production deployment swaps this directory for its own PKI and identity
provider; nothing else changes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import ipaddress
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from corridor.config import SERVICE_PORTS

GENERIC = ("localhost", "client")
ISSUER_KEY = "credential-issuer.key"
ISSUER_PUB = "credential-issuer.pub"
CERT_DAYS = 825
CA_DAYS = 3650


def default_names() -> list[str]:
    return [*GENERIC, *SERVICE_PORTS]


def host_aliases(name: str) -> list[str]:
    """Other host names a service answers to: infra/compose.yaml and the k8s Services call the
    central-bank nodes `cn-node`, `hk-node`, ... (TLS checks the name the client dialled)."""
    from corridor.config import JURISDICTIONS

    return [f"{name}-node"] if name.upper() in JURISDICTIONS else []


def credential_path(directory: Path, name: str) -> Path:
    """Where `corridor certs --service-credentials` leaves a service's own credential."""
    return directory / "credentials" / f"{name}.jwt"


def provisioned(directory: Path, identity: str, auth: bool) -> bool:
    """Everything a service needs is already here (e.g. a read-only volume made by `corridor
    certs` in a container): nothing to create, and the private CA/issuer keys need not be."""
    pem, key = cert_path(directory, identity or "localhost")
    needed = [directory / "ca.pem", pem, key] + ([directory / ISSUER_PUB] if auth else [])
    return all(p.exists() for p in needed)


def cert_path(directory: Path, name: str) -> tuple[Path, Path]:
    return directory / "certs" / f"{name}.pem", directory / "certs" / f"{name}.key"


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    if private:
        tmp.chmod(0o600)
    tmp.replace(path)


def _pem_key(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # tolerate small clock skew


def _make_ca(directory: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Corridor development CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now())
        .not_valid_after(_now() + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    _write(directory / "ca.key", _pem_key(key), private=True)
    _write(directory / "ca.pem", cert.public_bytes(serialization.Encoding.PEM))


def _make_cert(directory: Path, name: str) -> None:
    ca_key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), None)
    ca = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.DNSName(name),
        *(x509.DNSName(alias) for alias in host_aliases(name)),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.UniformResourceIdentifier(f"spiffe://corridor.local/{name}"),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now())
        .not_valid_after(_now() + dt.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    pem, keyfile = cert_path(directory, name)
    _write(keyfile, _pem_key(key), private=True)
    _write(pem, cert.public_bytes(serialization.Encoding.PEM))


def _make_issuer(directory: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    _write(directory / ISSUER_KEY, _pem_key(key), private=True)
    pub = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write(directory / ISSUER_PUB, pub)


def ensure_dev_pki(directory: Path, names: Iterable[str] = ()) -> list[str]:
    """Make whatever is missing (CA, issuer keys, the named certificates plus the defaults).
    Returns what was created; safe to call from several processes at once."""
    created: list[str] = []
    wanted = list(dict.fromkeys([*default_names(), *names]))
    with _locked(directory):
        if not (directory / "ca.pem").exists() or not (directory / "ca.key").exists():
            _make_ca(directory)
            created.append("ca")
        if not (directory / ISSUER_KEY).exists() or not (directory / ISSUER_PUB).exists():
            _make_issuer(directory)
            created.append("credential-issuer")
        for name in wanted:
            pem, key = cert_path(directory, name)
            if not pem.exists() or not key.exists():
                _make_cert(directory, name)
                created.append(name)
    return created


def describe(directory: Path) -> list[dict[str, str]]:
    """What is in the directory: one row per certificate (name, subject, expiry, SANs)."""
    rows: list[dict[str, str]] = []
    files = [("ca", directory / "ca.pem")] + sorted(
        (p.stem, p) for p in (directory / "certs").glob("*.pem")
    )
    for name, path in files:
        if not path.exists():
            continue
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            sans = ", ".join(str(v.value) for v in san)
        except x509.ExtensionNotFound:
            sans = ""
        rows.append(
            {
                "name": name,
                "subject": cert.subject.rfc4514_string(),
                "not_after": cert.not_valid_after_utc.date().isoformat(),
                "sans": sans,
            }
        )
    return rows

"""Credentials: who is calling, signed and expiring.

A credential is a short JWT (EdDSA, signed with the issuer key from `corridor certs`) sent as
`authorization: Bearer <token>`. Its claims name a **role**, a **subject** and, where it matters,
a **jurisdiction** and the **wallets** the bearer holds:

  role                 subject                 jurisdiction  what it may do (see authz.RULES)
  central_bank         the central bank        CN, HK, ...   issue, authorise operators, run its ledger
  operator             operator id (bank-a)    CN, HK, ...   open/load wallets, pay for its holders
  holder               pseudonym               CN, HK, ...   pay from the wallets in `wallets`
  liquidity_provider   LP id (lp-hk-1)         -             fund/withdraw its bridge liquidity
  supervisor           CN[/name]               CN, HK, ...   supervision queries, cases, reveals
  authority            agency id               -             voucher claw-back (its programs)
  admin / simulator    who                     -             set-up and operations, never money
  bridge, supervision, vouchers, node, stablecoin           service identities (minted by the fleet)

Services verify with the issuer's public key only. Whoever holds the issuer's private key can mint
any credential: in this sandbox that is the operator of the machine (the fleet, the simulator,
`corridor certs token`); a deployment plugs in its own identity provider.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization

from corridor.security.config import SecurityConfig, default_directory
from corridor.security.pki import ISSUER_KEY, ISSUER_PUB, ensure_dev_pki

AUDIENCE = "corridor"
ISSUER = "corridor-dev-issuer"
ALGORITHM = "EdDSA"
DEFAULT_TTL_S = 900
ADMIN_ROLES = frozenset({"admin", "simulator"})
SERVICE_ROLES = frozenset({"bridge", "supervision", "vouchers", "node", "stablecoin"})
PERSON_ROLES = frozenset(
    {"central_bank", "operator", "holder", "liquidity_provider", "supervisor", "authority"}
)
ROLES = ADMIN_ROLES | SERVICE_ROLES | PERSON_ROLES
MAX_WALLETS = 1000  # a holder credential names its wallets; more is an operator's job


class CredentialError(Exception):
    """Why a credential was refused: `reason` is stable (MISSING_CREDENTIAL, ...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Claims:
    role: str
    subject: str
    jurisdiction: str = ""
    wallets: frozenset[str] = frozenset()
    expires_at: float = 0.0
    # SHA-256 thumbprint of the one client certificate this credential may be presented with
    # (RFC 8705 `cnf.x5t#S256`); "" = a bearer credential, usable from any mTLS client.
    bound_to: str = ""


@functools.lru_cache(maxsize=256)
def thumbprint(cert_pem: bytes) -> str:
    """base64url(SHA-256(DER)) of a certificate: what `cnf.x5t#S256` names."""
    from cryptography import x509

    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def _read_private(directory: Path):  # type: ignore[no-untyped-def]
    return serialization.load_pem_private_key((directory / ISSUER_KEY).read_bytes(), None)


def _read_public(directory: Path):  # type: ignore[no-untyped-def]
    return serialization.load_pem_public_key((directory / ISSUER_PUB).read_bytes())


_KEYS: dict[tuple[str, str], object] = {}
_KEYS_LOCK = threading.Lock()


def _key(directory: Path, kind: str):  # type: ignore[no-untyped-def]
    k = (str(directory), kind)
    with _KEYS_LOCK:
        if k not in _KEYS:
            _KEYS[k] = _read_private(directory) if kind == "private" else _read_public(directory)
        return _KEYS[k]


def issue(
    role: str,
    subject: str,
    *,
    jurisdiction: str = "",
    wallets: Iterable[str] = (),
    ttl_s: float = DEFAULT_TTL_S,
    directory: Path | None = None,
    now: float | None = None,
    bound_cert_pem: bytes | None = None,
) -> str:
    """Mint a credential (needs the issuer's private key; made on first use). With
    `bound_cert_pem` it is only accepted over mTLS from that certificate (a stolen copy is
    useless without the certificate's private key)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(sorted(ROLES))}")
    wl = sorted(set(wallets))
    if any(not w.strip() for w in wl):
        raise ValueError("a wallet id in a credential cannot be empty")
    if len(wl) > MAX_WALLETS:
        raise ValueError(f"a credential names at most {MAX_WALLETS} wallets (got {len(wl)})")
    directory = directory or default_directory()
    if not (directory / ISSUER_KEY).exists():
        ensure_dev_pki(directory)
    t = time.time() if now is None else now
    payload: dict[str, object] = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": subject, "role": role,
        "iat": int(t), "exp": int(t + ttl_s),
    }  # fmt: skip
    if jurisdiction:
        payload["jur"] = jurisdiction.upper().replace(" ", "")
    if wl:
        payload["wallets"] = wl
    if bound_cert_pem:
        payload["cnf"] = {"x5t#S256": thumbprint(bound_cert_pem)}
    return jwt.encode(payload, _key(directory, "private"), algorithm=ALGORITHM)  # type: ignore[arg-type]


class CredentialVerifier:
    """Verifies bearer tokens against the issuer's public key. A token verified once is cached
    until it expires, so the per-call cost is a dictionary lookup (measured in BENCHMARKS.md)."""

    def __init__(self, directory: Path, cache_size: int = 4096) -> None:
        self.directory = directory
        self._public = _key(directory, "public")
        self._cache: dict[str, Claims] = {}
        self._cache_size = cache_size

    def verify(self, token: str, now: float | None = None) -> Claims:
        t = time.time() if now is None else now
        hit = self._cache.get(token)
        if hit is not None:
            if hit.expires_at <= t:
                self._cache.pop(token, None)
                raise CredentialError("CREDENTIAL_EXPIRED", "the credential has expired")
            return hit
        claims = self._decode(token, t)
        if len(self._cache) >= self._cache_size:
            self._cache.clear()  # simple and bounded; a miss costs one signature check
        self._cache[token] = claims
        return claims

    def _decode(self, token: str, now: float) -> Claims:
        try:
            p = jwt.decode(
                token, self._public, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,  # type: ignore[arg-type]
                options={"require": ["exp", "iat", "sub", "aud", "iss"], "verify_exp": False},
            )  # fmt: skip
        except jwt.PyJWTError as exc:
            raise CredentialError("INVALID_CREDENTIAL", f"credential rejected: {exc}") from None
        exp = p.get("exp")
        if not isinstance(exp, int | float) or exp <= now:
            raise CredentialError("CREDENTIAL_EXPIRED", "the credential has expired")
        role, sub = p.get("role"), p.get("sub")
        if role not in ROLES or not isinstance(sub, str):
            raise CredentialError("INVALID_CREDENTIAL", f"unknown role {role!r}")
        wallets = p.get("wallets", [])
        jur = p.get("jur", "")
        if not isinstance(wallets, list) or not all(isinstance(w, str) for w in wallets):
            raise CredentialError("INVALID_CREDENTIAL", "wallets must be a list of wallet ids")
        if not isinstance(jur, str):
            raise CredentialError("INVALID_CREDENTIAL", "jur must be a jurisdiction code")
        cnf = p.get("cnf", {})
        bound = cnf.get("x5t#S256", "") if isinstance(cnf, dict) else None
        if not isinstance(bound, str):
            raise CredentialError("INVALID_CREDENTIAL", "cnf must name a certificate thumbprint")
        return Claims(role, sub, jur, frozenset(wallets), float(exp), bound)


# ----------------------------------------------------------------------------- client side
class _TokenCache:
    """Minted tokens per identity, re-minted a minute before they expire."""

    def __init__(self) -> None:
        self._tokens: dict[tuple, tuple[str, float]] = {}  # type: ignore[type-arg]
        self._lock = threading.Lock()

    def get(self, key: tuple, mint) -> str:  # type: ignore[no-untyped-def,type-arg]
        with self._lock:
            hit = self._tokens.get(key)
            if hit and hit[1] - time.time() > 60:
                return hit[0]
        token, exp = mint()
        with self._lock:
            self._tokens[key] = (token, exp)
        return token


_TOKENS = _TokenCache()


def bearer(
    role: str,
    subject: str,
    jurisdiction: str = "",
    wallets: Iterable[str] = (),
    ttl_s: float = DEFAULT_TTL_S,
    directory: Path | None = None,
) -> str:
    """A cached credential for this identity (minted with the configured issuer key)."""
    wl = tuple(sorted(set(wallets)))
    directory = directory or default_directory()

    def mint() -> tuple[str, float]:
        exp = time.time() + ttl_s
        return issue(role, subject, jurisdiction=jurisdiction, wallets=wl, ttl_s=ttl_s,
                     directory=directory), exp  # fmt: skip

    return _TOKENS.get((str(directory), role, subject, jurisdiction.upper(), wl, ttl_s), mint)


def metadata_for(
    role: str,
    subject: str,
    jurisdiction: str = "",
    wallets: Iterable[str] = (),
    config: SecurityConfig | None = None,
) -> tuple[tuple[str, str], ...]:
    """Call metadata that identifies the caller: a signed credential when auth is on, plus the
    legacy `x-corridor-caller: role:subject` header (what servers read when auth is off).

        stub.Issue(req, metadata=metadata_for("central_bank", "pboc", jurisdiction="CN"))
    """
    cfg = config or SecurityConfig.from_env()
    md: tuple[tuple[str, str], ...] = (("x-corridor-caller", f"{role}:{subject}"),)
    if cfg.auth:
        token = bearer(role, subject, jurisdiction, wallets, directory=cfg.directory)
        md = (("authorization", f"Bearer {token}"), *md)
    return md


def _provisioned_credential() -> str:
    """A container's service credential: <security dir>/credentials/<CORRIDOR_SERVICE_IDENTITY>.jwt,
    written by `corridor certs --service-credentials` (infra/compose.yaml's `certs` job)."""
    from corridor.security.pki import credential_path

    name = os.environ.get("CORRIDOR_SERVICE_IDENTITY", "")
    if not name:
        return ""
    return _read_credential_file(credential_path(default_directory(), name))


_FILE_TOKENS: dict[Path, tuple[int, str]] = {}


def _read_credential_file(path: Path) -> str:
    """The file's token, re-read only when its mtime changes (a rotated Secret is picked up;
    every outgoing call does not cost a file read)."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return ""
    hit = _FILE_TOKENS.get(path)
    if hit is None or hit[0] != mtime:
        hit = _FILE_TOKENS[path] = (mtime, path.read_text().strip())
    return hit[1]


def process_credential() -> str:
    """This process's own credential, if it has one: CORRIDOR_CREDENTIAL (a token, set by the
    fleet for each service), CORRIDOR_IDENTITY=role:subject[@JURISDICTION] minted on demand
    with the issuer key (tools, the simulator, load generators), or the credential file of
    CORRIDOR_SERVICE_IDENTITY in the security directory (containers)."""
    token = os.environ.get("CORRIDOR_CREDENTIAL", "")
    if token:
        return token
    ident = os.environ.get("CORRIDOR_IDENTITY", "")
    if not ident:
        return _provisioned_credential()
    who, _, jur = ident.partition("@")
    role, _, subject = who.partition(":")
    return bearer(role, subject or role, jur)

"""What the fleet (`corridor up`, `corridor simulate`, the chaos soak) does for security:
certificates on first use, and each service process started with its own identity — the
certificate it presents and a service credential (it never sees the issuer's private key)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from corridor.config import JURISDICTIONS
from corridor.security.credentials import issue
from corridor.security.pki import cert_path, credential_path, ensure_dev_pki

SERVICE_CREDENTIAL_TTL_S = 30 * 24 * 3600  # services cannot re-mint; a restart gets a fresh one


def prepare(fleet: Any) -> None:
    """Make the CA, certificates and issuer keys if missing (before any service starts)."""
    if fleet.security.enabled:
        ensure_dev_pki(fleet.security.require_directory(), [s.name for s in fleet.services])


def service_identity(name: str) -> tuple[str, str, str, tuple[str, ...]]:
    """(role, subject, jurisdiction, wallets) of a service process."""
    if name.upper() in JURISDICTIONS:
        return "node", name.lower(), name.upper(), ()
    if name == "vouchers":
        wallet = os.environ.get("CORRIDOR_VOUCHERS_BRIDGE_WALLET", "")
        return "vouchers", "vouchers", "", (wallet,) if wallet else ()
    role = name if name in ("bridge", "supervision", "stablecoin") else "admin"
    return role, name, "", ()


def _own_cert(directory: Path, name: str) -> bytes:
    """The certificate the service presents: its credential is bound to it (a copy of the
    token is useless without the certificate's private key)."""
    ensure_dev_pki(directory, [name])
    return cert_path(directory, name)[0].read_bytes()


def service_env(fleet: Any, name: str) -> dict[str, str]:
    cfg = fleet.security
    if not cfg.enabled:
        return {}
    env = {"CORRIDOR_SERVICE_IDENTITY": name}
    if cfg.auth:
        role, subject, jur, wallets = service_identity(name)
        d = cfg.require_directory()
        env["CORRIDOR_CREDENTIAL"] = issue(
            role, subject, jurisdiction=jur, wallets=wallets, ttl_s=SERVICE_CREDENTIAL_TTL_S,
            directory=d, bound_cert_pem=_own_cert(d, name) if cfg.tls else None,
        )  # fmt: skip
    return env


def write_service_credentials(
    directory: Path, names: Iterable[str], ttl_s: float = SERVICE_CREDENTIAL_TTL_S
) -> list[Path]:
    """Each service's credential as a file (credentials/<name>.jwt), for deployments where no
    fleet hands it over: a container with CORRIDOR_SERVICE_IDENTITY=<name> reads its own."""
    written = []
    for name in names:
        role, subject, jur, wallets = service_identity(name)
        path = credential_path(directory, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(issue(role, subject, jurisdiction=jur, wallets=wallets, ttl_s=ttl_s,
                              directory=directory, bound_cert_pem=_own_cert(directory, name)))  # fmt: skip
        path.chmod(0o644)  # read by the container's non-root user
        written.append(path)
    return written

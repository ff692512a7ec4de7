"""Which protections a process runs with, read once from the environment.

Two switches, on by default and usually on or off together:

- **tls**: every gRPC hop is mutual TLS. Servers present a certificate of the dev CA made by
  `corridor certs` and require one from the caller; clients verify the server against the same CA.
- **auth**: every call carries a signed, expiring credential (`authorization: Bearer <JWT>`);
  servers verify it and check the method's rule in `corridor.security.authz.RULES`.

Environment (a service started by the fleet inherits what the fleet decided):

  CORRIDOR_INSECURE=1        the explicit plaintext flag (`corridor --insecure`): both off,
                             whatever else says
  CORRIDOR_SECURE=1|tls|auth|0
                             1/on/all = both (the default when unset), tls = transport only,
                             auth = credentials only, 0 = off
  CORRIDOR_SECURITY_DIR      where the CA, certificates and credential keys live
                             [default: <state dir>/security, e.g. .corridor/security]
  CORRIDOR_SERVICE_IDENTITY  which certificate this process presents (cn, bridge, ...);
                             processes without one present the generic `localhost`/`client` pair
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_ON = {"1", "on", "all", "true", "yes"}
_OFF = {"", "0", "off", "false", "no"}


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    tls: bool = False
    auth: bool = False
    directory: Path | None = None
    identity: str = ""  # certificate name this process presents (cn, bridge, client...)

    @property
    def enabled(self) -> bool:
        return self.tls or self.auth

    @property
    def mode(self) -> str:
        """`off`, `tls`, `auth` or `on` — what CORRIDOR_SECURE would say."""
        if self.tls and self.auth:
            return "on"
        return "tls" if self.tls else "auth" if self.auth else "off"

    def require_directory(self) -> Path:
        if self.directory is None:
            raise RuntimeError("security is on but no security directory is configured")
        return self.directory

    def env(self) -> dict[str, str]:
        """What a child process needs to run with the same protections."""
        # The parent decided: say it explicitly both ways, so an inherited CORRIDOR_INSECURE
        # (which wins over CORRIDOR_SECURE) cannot silently flip a child to plaintext.
        if not self.enabled:
            return {"CORRIDOR_SECURE": "0", "CORRIDOR_INSECURE": "1"}
        return {
            "CORRIDOR_SECURE": {"on": "1"}.get(self.mode, self.mode),
            "CORRIDOR_INSECURE": "0",
            "CORRIDOR_SECURITY_DIR": str(self.require_directory()),
        }

    @classmethod
    def of_mode(
        cls, mode: str, directory: Path | None = None, identity: str = ""
    ) -> SecurityConfig:
        """`on`/`1`, `tls`, `auth` or `off`/`0` (ValueError names the accepted values)."""
        m = mode.strip().lower()
        if m in _ON:
            return cls(True, True, directory, identity)
        if m == "tls":
            return cls(True, False, directory, identity)
        if m == "auth":
            return cls(False, True, directory, identity)
        if m in _OFF:
            return cls(False, False, directory, identity)
        raise ValueError(f"CORRIDOR_SECURE={mode!r}: expected 1, tls, auth or 0")

    @classmethod
    def from_env(cls, default: str = "1") -> SecurityConfig:
        """The configuration the environment asks for; `default` applies when it says nothing."""
        directory = default_directory()
        identity = os.environ.get("CORRIDOR_SERVICE_IDENTITY", "")
        if os.environ.get("CORRIDOR_INSECURE", "").strip().lower() in _ON:
            return cls(False, False, directory, identity)
        mode = os.environ.get("CORRIDOR_SECURE")
        return cls.of_mode(default if mode is None else mode, directory, identity)


def default_directory() -> Path:
    explicit = os.environ.get("CORRIDOR_SECURITY_DIR")
    if explicit:
        return Path(explicit).resolve()
    from corridor.config import state_dir

    return state_dir() / "security"

"""Kubernetes Secrets from a `corridor certs` directory: one per trust boundary, so each pod
mounts only what it needs (infra/k8s/base: a projected volume at CORRIDOR_SECURITY_DIR).

    corridor certs --dir .corridor/k8s-security --service-credentials
    python infra/security_secrets.py .corridor/k8s-security | kubectl apply -f -

The Secrets (namespace `corridor`):

  corridor-trust                   ca.pem, credential-issuer.pub: what every pod trusts (public)
  corridor-identity-<name>         tls.crt, tls.key [, credential.jwt]: one service's certificate
                                   and key (cn, hk, ..., bridge, vouchers, supervision,
                                   stablecoin; `client` for Locust) and, for a service, its own
                                   credential. The kubernetes.io/tls layout, so cert-manager
                                   can issue the pairs instead.
  corridor-credential-issuer       credential-issuer.key: mints any credential; only the Locust
                                   pods mount it (they act for every simulated user)

The CA's private key (ca.key) never leaves the directory. Service credentials expire (30 days
by default, `corridor certs --ttl-days`): run both commands again before then; the kubelet
refreshes mounted Secrets in running pods and a service reads its credential file when it
calls. Only the Python standard library is needed, so this runs on any machine with the
directory; the output is a JSON `List` (kubectl reads JSON as well as YAML) holding private
keys, so pipe it, do not keep it.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import Any

TRUST_SECRET = "corridor-trust"
ISSUER_SECRET = "corridor-credential-issuer"
IDENTITY_SECRET_PREFIX = "corridor-identity-"
# In-process servers only (tests, `corridor up`'s tools): no pod presents it.
UNUSED_IDENTITIES = frozenset({"localhost"})


class SecurityDirectoryError(ValueError):
    """The directory lacks something `corridor certs` makes; the message names the file."""


def _read(directory: Path, relative: str) -> bytes:
    path = directory / relative
    if not path.is_file():
        raise SecurityDirectoryError(
            f"{path} is missing: run `corridor certs --dir {directory} --service-credentials`"
        )
    return path.read_bytes()


def _secret(name: str, namespace: str, data: dict[str, bytes], kind: str = "Opaque") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": kind,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "corridor"},
        },
        "data": {
            key: base64.b64encode(value).decode("ascii") for key, value in sorted(data.items())
        },
    }


def identities(directory: Path) -> list[str]:
    """Every certificate `corridor certs` made (certs/<name>.pem), but the unused ones."""
    names = sorted(path.stem for path in (directory / "certs").glob("*.pem"))
    return [name for name in names if name not in UNUSED_IDENTITIES]


def secret_manifests(directory: Path, namespace: str = "corridor") -> list[dict[str, Any]]:
    """The Secrets for a security directory (SecurityDirectoryError names what is missing)."""
    directory = Path(directory)
    trust = {name: _read(directory, name) for name in ("ca.pem", "credential-issuer.pub")}
    issuer = {"credential-issuer.key": _read(directory, "credential-issuer.key")}
    names = identities(directory)
    if not names:
        raise SecurityDirectoryError(
            f"{directory / 'certs'} holds no certificate: run `corridor certs --dir {directory} "
            "--service-credentials`"
        )
    manifests = [_secret(TRUST_SECRET, namespace, trust), _secret(ISSUER_SECRET, namespace, issuer)]
    for name in names:
        data = {
            "tls.crt": _read(directory, f"certs/{name}.pem"),
            "tls.key": _read(directory, f"certs/{name}.key"),
        }
        credential = directory / "credentials" / f"{name}.jwt"
        if credential.is_file():
            data["credential.jwt"] = credential.read_bytes()
        manifests.append(
            _secret(IDENTITY_SECRET_PREFIX + name, namespace, data, "kubernetes.io/tls")
        )
    return manifests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="the --dir given to `corridor certs`")
    parser.add_argument("--namespace", default="corridor", help="namespace of the Secrets")
    arguments = parser.parse_args(argv)
    try:
        items = secret_manifests(arguments.directory, arguments.namespace)
    except SecurityDirectoryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

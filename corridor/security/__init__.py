"""Security for the corridor's services (issue 10).

- `pki`: the development CA, per-service certificates, the credential issuer's keys
  (`corridor certs`).
- `credentials`: signed, expiring credentials (EdDSA JWT) naming a role, subject, jurisdiction and
  wallets; `metadata_for(role, subject, ...)` for clients.
- `authz`: one rule per RPC (`RULES`), default deny.
- `guard`: what `corridor.server.start_server()` runs on every call: verify, authorise, audit.
- `audit`: the append-only, hash-chained log of privileged actions (`corridor audit verify`).
- `config`: CORRIDOR_SECURE / CORRIDOR_INSECURE / CORRIDOR_SECURITY_DIR.
"""

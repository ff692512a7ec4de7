"""Credentials and the dev PKI: signed, expiring, bound to the issuer's key; `corridor certs`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corridor.security.credentials import CredentialError, CredentialVerifier, issue
from corridor.security.pki import cert_path, ensure_dev_pki

CLI = [sys.executable, "-c", "from corridor.cli import main; main()"]


def test_claims_round_trip_and_are_cached(security_dir: Path):
    token = issue(
        "holder", "h-1", jurisdiction="cn", wallets=["cn.w.2", "cn.w.1"], directory=security_dir
    )
    v = CredentialVerifier(security_dir)
    c = v.verify(token)
    assert (c.role, c.subject, c.jurisdiction, c.wallets) == (
        "holder",
        "h-1",
        "CN",
        frozenset({"cn.w.1", "cn.w.2"}),
    )
    assert v.verify(token) is c  # second check: the cache


def test_expiry_is_enforced_even_from_the_cache(security_dir: Path):
    v = CredentialVerifier(security_dir)
    token = issue("admin", "a", ttl_s=60, directory=security_dir)
    v.verify(token)
    with pytest.raises(CredentialError) as e:
        v.verify(token, now=time.time() + 61)
    assert e.value.reason == "CREDENTIAL_EXPIRED"


def test_another_issuers_token_is_rejected(security_dir: Path, tmp_path: Path):
    other = tmp_path / "other"
    ensure_dev_pki(other)
    token = issue("central_bank", "cb", jurisdiction="CN", directory=other)
    with pytest.raises(CredentialError) as e:
        CredentialVerifier(security_dir).verify(token)
    assert e.value.reason == "INVALID_CREDENTIAL"


def test_unknown_roles_and_oversized_wallet_lists_are_not_minted(security_dir: Path):
    with pytest.raises(ValueError, match="unknown role"):
        issue("emperor", "x", directory=security_dir)
    with pytest.raises(ValueError, match="at most"):
        issue("holder", "x", wallets=[f"cn.w.{i}" for i in range(1001)], directory=security_dir)


def test_pki_files_and_private_key_modes(tmp_path: Path):
    made = ensure_dev_pki(tmp_path / "sec", ["extra"])
    assert {"ca", "credential-issuer", "cn", "bridge", "client", "extra"} <= set(made)
    pem, key = cert_path(tmp_path / "sec", "cn")
    assert pem.exists() and key.stat().st_mode & 0o077 == 0
    assert (tmp_path / "sec" / "credential-issuer.key").stat().st_mode & 0o077 == 0
    assert ensure_dev_pki(tmp_path / "sec") == []  # idempotent


def test_cli_certs_token_and_rules(tmp_path: Path):
    d = tmp_path / "sec"
    p = subprocess.run(
        [*CLI, "certs", "--dir", str(d)], capture_output=True, text=True, timeout=120, check=False
    )
    assert p.returncode == 0, p.stderr
    assert "ca" in p.stdout and (d / "ca.pem").exists()
    p = subprocess.run([*CLI, "certs", "token", "--role", "operator", "--subject", "bank-a", "--jurisdiction", "CN",
                        "--dir", str(d)], capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert CredentialVerifier(d).verify(p.stdout.strip()).subject == "bank-a"
    p = subprocess.run([*CLI, "certs", "token", "--role", "king", "--subject", "x", "--dir", str(d)],
                       capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert p.returncode == 2 and "unknown role" in p.stderr and "Traceback" not in p.stderr
    p = subprocess.run(
        [*CLI, "certs", "rules"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "220"},
    )
    assert p.returncode == 0 and "CentralBank/Issue" in p.stdout


def test_a_container_reads_its_own_credential_file_and_picks_up_a_rotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from corridor.security.credentials import CredentialVerifier, process_credential
    from corridor.security.fleet import write_service_credentials
    from corridor.security.pki import credential_path, ensure_dev_pki, provisioned

    ensure_dev_pki(tmp_path)
    write_service_credentials(tmp_path, ["cn"], ttl_s=600)
    for name in ("CORRIDOR_CREDENTIAL", "CORRIDOR_IDENTITY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CORRIDOR_SECURITY_DIR", str(tmp_path))
    monkeypatch.setenv("CORRIDOR_SERVICE_IDENTITY", "cn")
    assert provisioned(tmp_path, "cn", auth=True)
    first = process_credential()
    claims = CredentialVerifier(tmp_path).verify(first)
    assert (claims.role, claims.subject, claims.jurisdiction) == ("node", "cn", "CN")
    path = credential_path(tmp_path, "cn")
    path.write_text(issue("node", "cn", jurisdiction="CN", ttl_s=1200, directory=tmp_path))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert process_credential() not in ("", first)
    monkeypatch.setenv("CORRIDOR_SERVICE_IDENTITY", "th")  # no file for it: no credential
    assert process_credential() == ""

"""The local fleet: every service as its own OS process on localhost (what `corridor up` runs).

Each process gets the database server URL in CORRIDOR_DATABASE_URL (its ledger is its own
database on it), logs to <state>/logs/<name>.log, and is ready when gRPC health says SERVING.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from corridor.config import JURISDICTIONS, SERVICE_PORTS
from corridor.security.config import SecurityConfig


@dataclass
class ServiceProcess:
    name: str
    port: int
    argv: list[str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


def service_argv(name: str, port: int) -> list[str]:
    bind = f"127.0.0.1:{port}"
    code = "from corridor.cli import main; main()"
    if name.upper() in JURISDICTIONS:
        return [sys.executable, "-c", code, "node", "--jurisdiction", name.upper(), "--bind", bind]
    if name == "stablecoin":
        return [sys.executable, "-c", code, "stablecoin", "serve", "--bind", bind]
    return [sys.executable, "-c", code, name, "--bind", bind]


def wait_healthy(
    target: str,
    timeout_s: float = 30.0,
    proc: subprocess.Popen[bytes] | None = None,
    security: SecurityConfig | None = None,
) -> None:
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    from corridor.security.transport import sync_channel

    with sync_channel(target, security) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"process for {target} exited with code {proc.returncode}")
            try:
                r = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
                if r.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError as exc:
                last = exc
            time.sleep(0.1)
    raise TimeoutError(f"{target} not healthy after {timeout_s}s ({last})")


@dataclass
class Fleet:
    state: Path
    database_url: str
    services: list[ServiceProcess] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    # mTLS + credentials for every service (corridor.security); from the environment by default.
    security: SecurityConfig = field(default_factory=SecurityConfig.from_env)

    @classmethod
    def plan(
        cls, state: Path, database_url: str, names: list[str], ports: dict[str, int] | None = None
    ) -> Fleet:
        ports = {**SERVICE_PORTS, **(ports or {})}
        logs = state / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        fleet = cls(state, database_url)
        for n in names:
            fleet.services.append(
                ServiceProcess(n, ports[n], service_argv(n, ports[n]), logs / f"{n}.log")
            )
        return fleet

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["CORRIDOR_DATABASE_URL"] = self.database_url
        env["CORRIDOR_NODES"] = ",".join(
            f"{s.name.upper()}={s.target}" for s in self.services if s.name.upper() in JURISDICTIONS
        )
        for s in self.services:
            env[f"CORRIDOR_{s.name.upper()}_TARGET"] = s.target
        env.update(self.security.env())
        env.update(self.extra_env)
        return env

    def start(self, timeout_s: float = 60.0) -> None:
        from corridor.security.fleet import prepare

        prepare(self)
        env = self.env()
        for s in self.services:
            s.proc = self._spawn(s, env)
        for s in self.services:
            wait_healthy(s.target, timeout_s, s.proc, self.security)

    def _spawn(self, s: ServiceProcess, env: dict[str, str]) -> subprocess.Popen[bytes]:
        from corridor.security.fleet import service_env

        log = open(s.log_path, "ab")  # noqa: SIM115 - owned by the child
        return subprocess.Popen(
            s.argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**env, **service_env(self, s.name)},
            start_new_session=True,
        )

    def restart(self, name: str, timeout_s: float = 60.0) -> None:
        s = self.get(name)
        s.proc = self._spawn(s, self.env())
        wait_healthy(s.target, timeout_s, s.proc, self.security)

    def get(self, name: str) -> ServiceProcess:
        for s in self.services:
            if s.name == name:
                return s
        raise KeyError(name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        s = self.get(name)
        if s.proc and s.proc.poll() is None:
            s.proc.send_signal(sig)
            s.proc.wait(10)

    def stop(self, grace_s: float = 5.0) -> None:
        for s in self.services:
            if s.proc and s.proc.poll() is None:
                s.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for s in self.services:
            if s.proc:
                try:
                    s.proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    s.proc.kill()
                    s.proc.wait()

    def endpoints(self) -> dict[str, str]:
        return {s.name: s.target for s in self.services}

    def write_state(self, supervisor_pid: int) -> Path:
        path = self.state / "up.json"
        path.write_text(
            json.dumps(
                {
                    "supervisor_pid": supervisor_pid,
                    "database_url": self.database_url,
                    "security": self.security.mode,
                    "endpoints": self.endpoints(),
                    "logs": {s.name: str(s.log_path) for s in self.services},
                },
                indent=2,
            )
        )
        return path


def follow_running_security(state: Path) -> str:
    """A client of a running `corridor up` speaks what it speaks: if it was started with
    --insecure and this process was told nothing, go plaintext too (and say so); an explicit
    choice here (--insecure, CORRIDOR_SECURE) is left alone. Returns the mode in use."""
    st = read_state(state) or {}
    explicit = os.environ.get("CORRIDOR_INSECURE") or os.environ.get("CORRIDOR_SECURE")
    if st.get("security") == "off" and not explicit:
        os.environ["CORRIDOR_INSECURE"] = "1"
    return SecurityConfig.from_env().mode


def read_state(state: Path) -> dict | None:
    path = state / "up.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())

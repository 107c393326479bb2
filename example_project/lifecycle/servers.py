"""Releases as real server processes: gunicorn on free loopback ports.

The listening socket is created here, on a port the kernel picks, and handed to gunicorn as
``fd://N``: no port is guessed, and connections made before the workers are up wait in the
socket's backlog instead of being refused. Readiness is a poll of ``/health`` (which must
name the expected release), bounded by a deadline and cut short if the process exits.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from example_project.lifecycle.traffic import Target

HOST = "127.0.0.1"
ERROR_LINE = re.compile(r"^[\w.]+(Error|Exception|Violation): ")
READY_TIMEOUT_S = 60.0
GUNICORN_CONFIG = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"
"""Starts gRPC in each worker when ``GRPC_PORT`` is set (the demo sets ``0``: any port)."""
STOP_TIMEOUT_S = 15.0


class ServerFailed(RuntimeError):
    """A release's server did not start or did not answer as that release."""


@dataclass
class Server:
    release: int
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    grpc_port: int | None = None
    """The gRPC port the release reported on ``/health`` once ready (``None``: no gRPC)."""

    @property
    def target(self) -> Target:
        return Target(self.release, HOST, self.port, self.grpc_port)

    def error_lines(self, limit: int = 3) -> list[str]:
        """Distinct exception lines from the server's log (``SomeError: message``)."""
        found: list[str] = []
        for line in self.log_tail(lines=2000).splitlines():
            if ERROR_LINE.match(line) and line not in found:
                found.append(line)
        return found[:limit]

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def gunicorn_command(fd: int, threads: int) -> list[str]:
    """Pure: the command line that serves the example project on inherited socket ``fd``."""
    return [
        sys.executable, "-m", "gunicorn", "example_project.wsgi:application",
        "--bind", f"fd://{fd}", "--workers", "1", "--worker-class", "gthread",
        "--threads", str(threads), "--graceful-timeout", "10", "--log-level", "warning",
        "--config", str(GUNICORN_CONFIG),
    ]  # fmt: skip


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((HOST, 0))
    sock.listen(128)
    return sock


def start(release: int, env: Mapping[str, str], cwd: Path, log_dir: Path, threads: int) -> Server:
    """Start release ``release`` as its own gunicorn process; returns before it is ready."""
    sock = _listening_socket()
    log_path = log_dir / f"server-r{release}.log"
    try:
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                gunicorn_command(sock.fileno(), threads),
                cwd=cwd,
                env={**env, "RELEASE": str(release)},
                pass_fds=(sock.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return Server(release, sock.getsockname()[1], process, log_path)
    finally:
        sock.close()


def _health(server: Server) -> dict[str, object] | None:
    conn = http.client.HTTPConnection(HOST, server.port, timeout=1.0)
    try:
        conn.request("GET", "/health")
        response = conn.getresponse()
        return json.loads(response.read()) if response.status == 200 else None
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        conn.close()


def wait_ready(server: Server, timeout: float = READY_TIMEOUT_S) -> None:
    """Poll ``/health`` until it answers as ``server.release``; ``ServerFailed`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerFailed(f"release {server.release} exited:\n{server.log_tail()}")
        health = _health(server)
        if health is not None and health.get("release") == server.release:
            server.grpc_port = _port(health.get("grpc_port"))
            return
        if health is not None:
            raise ServerFailed(f"port {server.port} answered as {health}, not r{server.release}")
        _wait_for_exit(server, 0.1)
    raise ServerFailed(f"release {server.release} not ready in {timeout:.0f} s")


def _port(value: object) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def _wait_for_exit(server: Server, seconds: float) -> None:
    """Block until the process exits or ``seconds`` pass (a bounded wait, not a fixed sleep)."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=seconds)


def stop(server: Server, timeout: float = STOP_TIMEOUT_S) -> int:
    """Graceful stop (SIGTERM: finish in-flight requests), SIGKILL after ``timeout``."""
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    return server.process.returncode

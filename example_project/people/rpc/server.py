"""Serve gRPC from the process that serves the HTTP API.

``example_project/gunicorn.conf.py`` calls :func:`start_from_environment` in each worker
after it boots (never in gunicorn's master, never in a migration process). ``GRPC_PORT``
switches it on: a port number, or ``0`` for one the kernel picks; the port actually bound
is :func:`bound_port`, which ``/health`` reports so a client never guesses it. Without the
variable nothing is imported and nothing listens.
"""

from __future__ import annotations

import os
from concurrent import futures
from typing import Any

ENV_VAR = "GRPC_PORT"
HOST = "127.0.0.1"
_running: dict[str, Any] = {}


def start(port: int, threads: int = 8) -> int:
    """Start serving both API versions on loopback ``port`` (0: any); the bound port."""
    import grpc

    from example_project.people.rpc import service

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=threads))
    service.register(server)
    bound = server.add_insecure_port(f"{HOST}:{port}")
    server.start()
    _running.update(server=server, port=bound)
    return bound


def start_from_environment() -> int | None:
    """Start when ``GRPC_PORT`` is set; the bound port, or ``None`` when not asked to serve."""
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ValueError(f"{ENV_VAR}={raw!r} must be a port number (0: any free port)")
    return start(int(raw))


def bound_port() -> int | None:
    """The port this process serves gRPC on, or ``None``."""
    return _running.get("port")


def stop(grace: float = 5.0) -> None:
    """Stop serving, letting calls in flight finish within ``grace`` seconds."""
    server = _running.pop("server", None)
    _running.pop("port", None)
    if server is not None:
        server.stop(grace).wait()

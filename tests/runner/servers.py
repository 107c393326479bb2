"""Servers the fault tests start and stop themselves: a real PgBouncer in front of the test
server, and a throwaway PostgreSQL cluster they may crash (never the shared server).

Both run as the ``postgres`` user (neither runs as root) from a temporary directory, on a
free loopback port, and are always stopped by the context manager.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postgres_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="zdt-i15-", dir="/tmp"))
    shutil.chown(path, "postgres")
    return path


def _wait_answers(url: str, deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def have_pgbouncer() -> bool:
    return Path(PGBOUNCER).exists()


class PgBouncer:
    """``pgbouncer`` in front of ``host:port`` with ``pool_mode``, trust auth."""

    def __init__(self, host: str, port: int, pool_mode: str = "transaction") -> None:
        self.dir = _postgres_dir()
        self.port = free_port()
        (self.dir / "users.txt").write_text('"postgres" ""\n')
        (self.dir / "pgbouncer.ini").write_text(
            f"[databases]\n* = host={host} port={port}\n[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nauth_type = trust\n"
            f"auth_file = {self.dir / 'users.txt'}\npool_mode = {pool_mode}\n"
            f"unix_socket_dir =\nlogfile = {self.dir / 'pgbouncer.log'}\n"
            "max_client_conn = 200\ndefault_pool_size = 20\n"
        )
        for path in self.dir.iterdir():
            shutil.chown(path, "postgres")
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def __enter__(self) -> PgBouncer:
        self.process = subprocess.Popen(
            [PGBOUNCER, str(self.dir / "pgbouncer.ini")],
            user="postgres",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_answers(self.url("postgres"))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


class Cluster:
    """A throwaway PostgreSQL 15 cluster: initdb into a temp dir, its own port and socket."""

    def __init__(self, **settings: str) -> None:
        self.dir = _postgres_dir()
        self.data = self.dir / "data"
        self.port = free_port()
        self.settings = {"fsync": "off", "full_page_writes": "off", **settings}
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-N")

    def _run(self, *command: Any) -> None:
        subprocess.run(
            [str(part) for part in command], user="postgres", check=True, capture_output=True
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 " + " ".join(
            f"-c {name}={value}" for name, value in self.settings.items()
        )
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.dir / "log", "-o", options,
                  "-w", "start")  # fmt: skip
        _wait_answers(self.url())

    def stop(self, mode: str = "fast") -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def crash(self) -> None:
        """SIGKILL the postmaster: every session dies, nothing is shut down cleanly."""
        pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
        children = _children(pid)
        os.kill(pid, signal.SIGKILL)
        for child in children:
            os.kill(child, signal.SIGKILL)
        (self.data / "postmaster.pid").unlink(missing_ok=True)

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # down: a test crashed it
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(line) for line in found.stdout.split()]

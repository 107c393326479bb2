"""Acceptance: `manage.py check` fails on throwaway projects that migrate in the web process.

Each project under tests/projects/ shows one anti-pattern, marked ``ANTI-PATTERN`` on the
offending line (or on a comment line just above it). The check runs in a subprocess, as in
CI, with the database port pointing at nothing: the static checks must not need a database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROJECTS = REPO / "tests" / "projects"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manage(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def marked_line(path: Path) -> int:
    """The line the ANTI-PATTERN marker points at."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if "ANTI-PATTERN" in line:
            return number + 1 if line.lstrip().startswith("#") else number
    raise AssertionError(f"no ANTI-PATTERN marker in {path}")


def check_project(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return manage(PROJECTS / name, "check", *args, ZDT_PROJECT_DB_PORT=str(closed_port()))


@pytest.mark.parametrize(
    ("project", "check_id", "relative"),
    [
        ("wsgi_migrates", "zdt.E020", "site_conf/wsgi.py"),
        ("ready_migrates", "zdt.E021", "shop/apps.py"),
        ("entrypoint_migrates", "zdt.E024", "docker-entrypoint.sh"),
        ("dockerfile_migrates", "zdt.E024", "Dockerfile"),
        ("extra_start_files", "zdt.E024", "deploy/run-web"),
    ],
)
def test_check_fails_with_the_id_and_file_line(project: str, check_id: str, relative: str) -> None:
    result = check_project(project)
    assert result.returncode == 1, result.stdout + result.stderr
    line = marked_line(PROJECTS / project / relative)
    assert f"({check_id}) {relative}:{line}: " in result.stderr
    errors = [text for text in result.stderr.splitlines() if "(zdt.E" in text]
    assert len(errors) == 1, result.stderr


def test_procfile_web_line_fails_release_line_passes() -> None:
    result = check_project("procfile_migrates")
    assert result.returncode == 1
    assert "(zdt.E024) Procfile:2: migrate runs in the same start command" in result.stderr
    assert "Procfile:1:" not in result.stderr
    assert "release:" in result.stderr  # the hint points at the release phase


def test_entrypoint_project_reports_neither_its_release_script_nor_its_dockerfile() -> None:
    result = check_project("entrypoint_migrates")
    assert "scripts/release.sh" not in result.stderr
    assert "Dockerfile" not in result.stderr


@pytest.mark.slow
def test_missing_extra_start_file_is_a_warning() -> None:
    result = check_project("extra_start_files")
    assert "(zdt.W021) ZDT_EXTRA_START_FILES lists 'deploy/missing-start'" in result.stderr


@pytest.mark.parametrize("args", [(), ("--tag", "zero_downtime")])
def test_the_served_project_passes_without_a_database(args: tuple[str, ...]) -> None:
    result = check_project("served", *args)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_clean_example_project_passes() -> None:
    result = manage(REPO, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout

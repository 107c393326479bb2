"""Where the project lives: its root directory, and paths shown relative to it.

The root is ``settings.BASE_DIR`` when the settings define it, else the directory of
``manage.py`` when the process was started by it, else the current directory. Files the
project commits (the baseline, ``--since``'s git repository) and every path in a report are
taken relative to it, so CI annotations attach to the diff whatever directory CI runs in.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from django.conf import settings


def root() -> Path:
    """The project's root directory (absolute, resolved)."""
    base = getattr(settings, "BASE_DIR", None)
    if base:
        return Path(base).resolve()
    program = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if program is not None and program.name == "manage.py" and program.exists():
        return program.resolve().parent
    return Path.cwd().resolve()


def display_path(path: str | Path) -> str:
    """``path`` relative to the project root when it lies inside it, else absolute."""
    if not str(path):
        return ""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(root()).as_posix()
    except ValueError:
        return str(resolved)


def is_inside(path: str | Path) -> bool:
    """True when ``path`` lies inside the project root."""
    return Path(path).resolve().is_relative_to(root())


def repository(directory: str | Path | None = None) -> Path | None:
    """The top of the git work tree holding ``directory`` (default: the project root);
    None when it is not in one (or git is missing)."""
    where = Path(directory) if directory is not None else root()
    try:
        done = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
    except (FileNotFoundError, NotADirectoryError):
        return None
    top = done.stdout.strip()
    return Path(top).resolve() if done.returncode == 0 and top else None

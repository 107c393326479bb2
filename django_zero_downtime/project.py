"""Where the project lives: its root directory, and paths shown relative to it.

The root is ``settings.BASE_DIR`` when the settings define it, else the directory of
``manage.py`` when the process was started by it, else the current directory. Files the
project commits (the baseline, ``--since``'s git repository) and every path in a report are
taken relative to it, so CI annotations attach to the diff whatever directory CI runs in.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from django_zero_downtime.findings import locate


def root() -> Path:
    """The project's root directory (absolute, resolved); one definition, in findings/locate."""
    return locate.project_root()


def display_path(path: str | Path) -> str:
    """``path`` relative to the project root when it lies inside it, else absolute."""
    return locate.display_path(path)


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

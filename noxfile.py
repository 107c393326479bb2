"""Run the suite on each supported Django with each Python found on this machine.

``nox`` runs Django 5.2 LTS on Python 3.11 and Django 6.x on Python 3.12 and 3.13.
Interpreters are looked up on PATH and in pyenv's versions folder (pyenv shims only answer
for the selected version); one that is not installed is skipped with a message.
"""

import glob
import os
import shutil

import nox

nox.options.error_on_missing_interpreters = False
nox.options.sessions = ["tests"]


def interpreter(version: str) -> str:
    """An absolute path to pythonX.Y when pyenv has it, else the bare version for nox."""
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found = sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"))
    if found:
        return found[-1]
    return shutil.which(f"python{version}") or version


MATRIX = [
    (interpreter("3.11"), "django>=5.2,<6"),
    (interpreter("3.12"), "django>=6,<7"),
    (interpreter("3.13"), "django>=6,<7"),
]


@nox.session
@nox.parametrize(("python", "django"), MATRIX, ids=["py3.11-dj5.2", "py3.12-dj6", "py3.13-dj6"])
def tests(session: nox.Session, django: str) -> None:
    session.install("-e", ".[test,docs]", django)
    session.run(
        "python", "-c", "import django, sys; print('Django', django.get_version(), sys.version)"
    )
    session.run("pytest", *session.posargs)

"""Run the suite on each supported Django with each Python found on this machine.

``nox`` runs Django 5.2 LTS on Python 3.11 and Django 6.x on Python 3.12 and 3.13.
An interpreter that is not installed is skipped with a message (nox's default outside CI).
"""

import nox

nox.options.error_on_missing_interpreters = False
nox.options.sessions = ["tests"]

MATRIX = [("3.11", "django>=5.2,<6"), ("3.12", "django>=6,<7"), ("3.13", "django>=6,<7")]


@nox.session
@nox.parametrize(("python", "django"), MATRIX, ids=["py3.11-dj5.2", "py3.12-dj6", "py3.13-dj6"])
def tests(session: nox.Session, django: str) -> None:
    session.install("-e", ".[test]", django)
    session.run("python", "-c", "import django; print('Django', django.get_version())")
    session.run("pytest", *session.posargs)

"""Static inspection of start scripts: does the web server's start command also migrate? (pure)

Three kinds of file, each judged on its own text:

- ``Procfile``: a ``web:`` line that runs ``migrate`` (a ``release:`` line is a separate
  phase that finishes before the new web processes start, so it is fine);
- ``Dockerfile``: a ``CMD``/``ENTRYPOINT`` (shell or exec form, ``sh -c "..."`` included)
  that runs ``migrate`` while the container's start command (its ``CMD``/``ENTRYPOINT``)
  starts a web server;
- shell scripts (``docker-entrypoint.sh``, ``start.sh``, ...): a ``migrate`` command in a
  script that also starts a web server or hands over to one with ``exec "$@"``.

"Runs migrate" means ``manage.py``/``django-admin``/``python -m django`` with ``migrate``,
``safemigrate`` or ``migrate_schemas``; "web server" means one of :data:`WEB_SERVERS` or
``manage.py runserver``. Each function returns the 1-based lines of the offending
``migrate`` commands.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePath

from django_zero_downtime.guard.runtime import RUNSERVER_COMMANDS, WEB_SERVERS
from django_zero_downtime.guard.startup_inspect import MIGRATE_COMMANDS

__all__ = ["RUNSERVER_COMMANDS", "WEB_SERVERS"]  # re-exported (defined in guard.runtime)
WRAPPERS = frozenset(
    {"exec", "nohup", "env", "time", "command", "gosu", "su-exec", "tini", "dumb-init", "--"}
    | {"poetry", "pipenv", "uv", "pdm", "hatch", "rye", "run", "-m", "-u", "-B", "-O"}
)
PYTHON = re.compile(r"^python[0-9.]*$")
OPERATORS = frozenset({"&&", "||", ";", "|", "&", ";;", "(", ")"})


@dataclass
class ShellFacts:
    """What a piece of shell text does, by line."""

    migrate_lines: list[int] = field(default_factory=list)
    server_lines: list[int] = field(default_factory=list)
    exec_args_lines: list[int] = field(default_factory=list)
    """Lines that hand over to the container's command: ``exec "$@"``."""

    def add(self, other: ShellFacts) -> None:
        self.migrate_lines += other.migrate_lines
        self.server_lines += other.server_lines
        self.exec_args_lines += other.exec_args_lines


def _program(words: list[str]) -> list[str]:
    """The words from the program on, past env assignments, wrappers and ``python``."""
    index = 0
    while index < len(words):
        word = words[index]
        is_assignment = "=" in word and not word.startswith("-")
        if not (is_assignment or word in WRAPPERS or PYTHON.match(PurePath(word).name)):
            break
        index += 1
    return words[index:]


def _name(word: str) -> str:
    return PurePath(word).name


def segment_migrates(program: list[str]) -> bool:
    if not program:
        return False
    name = _name(program[0])
    is_django = name.endswith("manage.py") or name in ("django-admin", "django-admin.py", "django")
    return is_django and any(word in MIGRATE_COMMANDS for word in program[1:])


def segment_starts_server(program: list[str]) -> bool:
    if not program:
        return False
    name = _name(program[0])
    if name in WEB_SERVERS:
        return True
    return name.endswith("manage.py") and any(word in RUNSERVER_COMMANDS for word in program[1:])


def _segments(words: list[str]) -> Iterator[list[str]]:
    current: list[str] = []
    for word in words:
        if word in OPERATORS:
            yield current
            current = []
        else:
            current.append(word)
    yield current


def _words(text: str) -> list[str]:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes: fall back to plain splitting
        return text.split()


def command_facts(words: list[str], line: int) -> ShellFacts:
    """Facts about one command line given as words (``sh -c "..."`` is looked into)."""
    facts = ShellFacts()
    for segment in _segments(words):
        program = _program(segment)
        if (
            len(program) > 2
            and _name(program[0]) in ("sh", "bash", "ash", "dash")
            and (program[1] == "-c")
        ):
            facts.add(command_facts(_words(program[2]), line))
            continue
        if segment_migrates(program):
            facts.migrate_lines.append(line)
        if segment_starts_server(program):
            facts.server_lines.append(line)
        if segment[:1] == ["exec"] and any(w in ("$@", "${@}") for w in segment[1:]):
            facts.exec_args_lines.append(line)
    return facts


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(first line number, text)`` with backslash continuations joined."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.rstrip().endswith("\\"):
            pending.append(raw.rstrip()[:-1])
            continue
        yield start, " ".join([*pending, raw])
        pending = []
    if pending:
        yield start, " ".join(pending)


def shell_facts(text: str) -> ShellFacts:
    facts = ShellFacts()
    for number, line in logical_lines(text):
        if line.strip() and not line.lstrip().startswith("#"):
            facts.add(command_facts(_words(_strip_comment(line)), number))
    return facts


def _strip_comment(line: str) -> str:
    return re.sub(r"(^|\s)#.*$", "", line)


def inspect_shell_script(text: str) -> list[int]:
    """Lines that migrate in a script that also starts (or execs into) the web server."""
    facts = shell_facts(text)
    if facts.server_lines or facts.exec_args_lines:
        return facts.migrate_lines
    return []


PROCFILE_LINE = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*:\s*(.*)$")


def inspect_procfile(text: str) -> list[int]:
    """Lines of ``web:`` process types that migrate (``release:`` is a separate phase)."""
    found: list[int] = []
    for number, line in logical_lines(text):
        match = PROCFILE_LINE.match(line)
        if match and match.group(1) == "web":
            found += command_facts(_words(match.group(2)), number).migrate_lines
    return found


DOCKER_START = re.compile(r"^\s*(CMD|ENTRYPOINT)\s+(.*)$", re.IGNORECASE)


def _instruction_words(argument: str) -> list[str]:
    """Words of a ``CMD``/``ENTRYPOINT`` argument, exec form (JSON array) or shell form."""
    stripped = argument.strip()
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
            return parsed
    return _words(stripped)


def inspect_dockerfile(text: str) -> list[int]:
    """Lines of ``CMD``/``ENTRYPOINT`` that migrate when the container starts a web server."""
    facts = ShellFacts()
    for number, line in logical_lines(text):
        match = DOCKER_START.match(line)
        if match:
            facts.add(command_facts(_instruction_words(match.group(2)), number))
    if facts.server_lines:
        return facts.migrate_lines
    return []


def kind_of(path: PurePath) -> str:
    """``procfile``, ``dockerfile`` or ``shell``, judged by the file name."""
    name = path.name.lower()
    if name.startswith("procfile"):
        return "procfile"
    if name.startswith("dockerfile") or name.endswith(".dockerfile"):
        return "dockerfile"
    return "shell"


INSPECTORS = {
    "procfile": inspect_procfile,
    "dockerfile": inspect_dockerfile,
    "shell": inspect_shell_script,
}


def inspect_start_file(path: PurePath, text: str) -> list[int]:
    """Lines of ``path`` (any kind) where ``migrate`` runs with the web server's start."""
    return sorted(set(INSPECTORS[kind_of(path)](text)))

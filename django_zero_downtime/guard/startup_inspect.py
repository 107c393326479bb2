"""Static inspection of Python start-up code for calls that run migrations (pure, no Django).

:func:`find_migrate_calls` parses source text with :mod:`ast` (the module is never imported,
so a ``wsgi.py`` that migrates at import is inspected without migrating) and returns every
call that would run migrations:

- ``call_command("migrate", ...)`` / ``management.call_command(...)`` (also ``safemigrate``
  and django-tenants' ``migrate_schemas``, and the ``command_name=`` keyword);
- ``execute_from_command_line([..., "migrate", ...])``, ``ManagementUtility([...]).execute()``;
- ``subprocess.run/call/check_call/check_output/Popen`` and ``os.system`` with a
  ``manage.py migrate`` / ``django-admin migrate`` command line;
- ``MigrationExecutor(...).migrate(...)``, directly or through a name assigned from
  ``MigrationExecutor(...)`` in the same module.

Names imported under another name (``import call_command as cc``) are followed. Only
literal command names are seen: ``call_command(name)`` with a variable is not.
Calls anywhere in the module count, also inside functions it defines (e.g. a helper called
from ``ready()``).
"""

from __future__ import annotations

import ast
import shlex
from dataclasses import dataclass, field

MIGRATE_COMMANDS = frozenset({"migrate", "safemigrate", "migrate_schemas"})
COMMAND_RUNNERS = frozenset({"call_command", "execute_from_command_line", "ManagementUtility"})
PROCESS_RUNNERS = frozenset({"run", "call", "check_call", "check_output", "Popen", "system"})
DJANGO_PROGRAMS = ("manage.py", "django-admin", "django-admin.py")


@dataclass(frozen=True)
class MigrateCall:
    """One call that runs migrations: where it is and what it looks like."""

    line: int
    code: str
    """The call as written (first line, shortened), e.g. ``call_command('migrate')``."""


class UninspectableSource(ValueError):
    """The source could not be parsed; carries the line of the syntax error."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def find_migrate_calls(source: str, filename: str = "<source>") -> list[MigrateCall]:
    """Every call in ``source`` that runs migrations, in line order."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise UninspectableSource(f"{exc.msg} (line {exc.lineno})", exc.lineno) from None
    module = _Module(aliases=_import_aliases(tree))
    module.executors.update(_names_bound_to_executor(tree, module))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    found = [node for node in calls if _runs_migrations(node, module)]
    return [MigrateCall(node.lineno, _code(node)) for node in sorted(found, key=_position)]


@dataclass
class _Module:
    """What the inspection knows about the module: import aliases, executor variables."""

    aliases: dict[str, str]
    """``{"cc": "call_command"}`` for ``from django.core.management import call_command as cc``."""
    executors: set[str] = field(default_factory=set)


def _import_aliases(tree: ast.AST) -> dict[str, str]:
    known = COMMAND_RUNNERS | {"MigrationExecutor"}
    return {
        alias.asname: alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname and alias.name in known
    }


def _position(node: ast.Call) -> tuple[int, int]:
    return node.lineno, node.col_offset


def _code(node: ast.Call) -> str:
    text = ast.unparse(node).splitlines()[0]
    return text if len(text) <= 60 else text[:57] + "..."


def _callee_name(node: ast.Call, module: _Module) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return module.aliases.get(func.id, func.id)
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _runs_migrations(node: ast.Call, module: _Module) -> bool:
    name = _callee_name(node, module)
    if name in COMMAND_RUNNERS:
        return any(_mentions_migrate(arg) for arg in _arguments(node))
    if name in PROCESS_RUNNERS:
        return any(_is_django_migrate_command_line(arg) for arg in _arguments(node))
    if name == "migrate" and isinstance(node.func, ast.Attribute):
        return _is_executor(node.func.value, module)
    return False


def _arguments(node: ast.Call) -> list[ast.expr]:
    return [*node.args, *(keyword.value for keyword in node.keywords)]


def _strings(node: ast.expr) -> list[str]:
    """String constants in ``node`` and, for a list/tuple literal, in its items."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.List | ast.Tuple):
        return [text for item in node.elts for text in _strings(item)]
    return []


def _mentions_migrate(node: ast.expr) -> bool:
    return any(text in MIGRATE_COMMANDS for text in _strings(node))


def _is_django_migrate_command_line(node: ast.expr) -> bool:
    words: list[str] = []
    for text in _strings(node):
        words.extend(_split_words(text))
    return command_line_migrates(words)


def _split_words(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=True)
    except ValueError:
        return text.split()


def command_line_migrates(words: list[str]) -> bool:
    """True when the words run ``manage.py``/``django-admin`` (or ``-m django``) ``migrate``."""
    for index, word in enumerate(words):
        is_django = word.endswith(DJANGO_PROGRAMS) or (
            word == "django" and index > 0 and words[index - 1] == "-m"
        )
        if is_django and any(later in MIGRATE_COMMANDS for later in words[index + 1 :]):
            return True
    return False


def _is_executor_constructor(node: ast.expr, module: _Module) -> bool:
    return isinstance(node, ast.Call) and _callee_name(node, module) == "MigrationExecutor"


def _is_executor(node: ast.expr, module: _Module) -> bool:
    if _is_executor_constructor(node, module):
        return True
    return isinstance(node, ast.Name) and node.id in module.executors


def _names_bound_to_executor(tree: ast.AST, module: _Module) -> set[str]:
    """Names assigned from ``MigrationExecutor(...)`` anywhere in the module."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if _is_executor_constructor(node.value, module):
                names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


THIRD_PARTY_MIDDLEWARE = {
    "migrate_middleware.MigrateMiddleware": "django-migrate-middleware 3.x",
    "django_migrate_middleware.MigrateMiddleware": "django-migrate-middleware 1.x/2.x",
}
"""Middleware that runs ``migrate`` on every request (published on PyPI)."""


def auto_migrate_middleware(middleware: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """``(dotted path, package)`` of each known auto-migrating middleware in ``MIDDLEWARE``."""
    return [
        (path, THIRD_PARTY_MIDDLEWARE[path])
        for path in middleware
        if path in THIRD_PARTY_MIDDLEWARE
    ]

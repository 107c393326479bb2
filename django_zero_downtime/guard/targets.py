"""Where the web process's start-up code lives, and what the static inspection found there.

Glue between Django's configuration and the pure inspectors (:mod:`startup_inspect`,
:mod:`start_scripts`): it finds the files, reads them and turns what was found into
:class:`~django_zero_downtime.findings.model.Finding` objects carrying the system check id,
the file (relative to ``BASE_DIR``) and the line. Nothing here is imported or executed:
modules are located with ``importlib.util.find_spec`` and read as text.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from django.apps import AppConfig, apps
from django.conf import settings

from django_zero_downtime import conf
from django_zero_downtime.findings.locate import display_path, project_root

if TYPE_CHECKING:
    from django_zero_downtime.findings.model import Finding, Severity

# The inspectors (ast, shlex) and the Finding class are imported only when a file may hold
# a migrate call: every `manage.py check` runs these checks, and almost never finds one.
MIGRATE_MARKS = ("migrat", "Migrat")
"""Text every migrate call the inspectors see contains (a command name or MigrationExecutor):
a file without it is not parsed."""

START_FILE_PATTERNS = ("Procfile*", "Dockerfile*", "*.dockerfile", "*.Dockerfile", "*.sh")
SERVER_CONFIG_PATTERNS = ("gunicorn*.py",)
SKIPPED_DIRS = frozenset({"node_modules", "venv", "env", "__pycache__", "site-packages"})
INSTALLED_PARTS = frozenset({"site-packages", "dist-packages"})


class Source(NamedTuple):
    """A kind of start-up code and the check id its migrate calls are reported under."""

    check_id: str
    name: str
    what: str
    hint: str


ENTRY = Source(
    "zdt.E020",
    "entry-module-migrates",
    "the WSGI/ASGI entry module runs migrations",
    "Remove the call; run `python manage.py safemigrate` as its own deploy step "
    "before the new release starts.",
)
READY = Source(
    "zdt.E021",
    "ready-migrates",
    "AppConfig.ready() code runs migrations at start-up",
    "ready() runs in every process, web workers included: remove the call and run "
    "`python manage.py safemigrate` as its own deploy step.",
)
SETTINGS = Source(
    "zdt.E022",
    "settings-migrates",
    "the settings module runs migrations",
    "Settings are imported by every process: remove the call and run "
    "`python manage.py safemigrate` as its own deploy step.",
)

SERVER_CONFIG = Source(
    "zdt.E024",
    "start-script-migrates",
    "the gunicorn config (run by the web server, hooks included) runs migrations",
    "Remove the call from the config and its hooks; run `python manage.py safemigrate` as "
    "its own deploy step before the release.",
)


base_dir = project_root
"""The project's root: :func:`django_zero_downtime.findings.locate.project_root`."""


def is_project_file(path: Path) -> bool:
    """Inside ``BASE_DIR`` and not an installed package (site-packages, a virtualenv)."""
    resolved = path.resolve()
    return resolved.is_relative_to(base_dir()) and not INSTALLED_PARTS & set(resolved.parts)


def module_file(dotted: str) -> Path | None:
    """The source file of a module, found without importing the module itself."""
    try:
        spec = importlib.util.find_spec(dotted)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def entry_modules() -> list[Path]:
    """Files named by ``WSGI_APPLICATION``/``ASGI_APPLICATION``, plus a sibling wsgi/asgi.py."""
    found: list[Path] = []
    for setting in ("WSGI_APPLICATION", "ASGI_APPLICATION"):
        dotted = getattr(settings, setting, None)
        path = module_file(dotted.rpartition(".")[0]) if isinstance(dotted, str) else None
        if path is not None:
            found += [path, path.with_name("wsgi.py"), path.with_name("asgi.py")]
    return _unique(p for p in found if p.is_file())


def ready_modules(app_configs: Iterable[AppConfig] | None = None) -> list[Path]:
    """Project files that define an installed app's ``ready()`` (site-packages skipped)."""
    found: list[Path] = []
    for app_config in app_configs if app_configs is not None else apps.get_app_configs():
        ready = type(app_config).ready
        if ready is AppConfig.ready:
            continue
        source = _defining_file(ready)
        if source and is_project_file(Path(source)):
            found.append(Path(source))
    return _unique(found)


def _defining_file(function: object) -> str | None:
    """The ``.py`` file defining ``function``; None for one in an installed package, told by
    its path before any file is looked at (``inspect.getsourcefile`` and ``resolve`` cost a
    few stat calls per app on every check)."""
    filename = getattr(getattr(function, "__code__", None), "co_filename", None)
    if not isinstance(filename, str) or not filename.endswith(".py"):
        return inspect.getsourcefile(function)  # type: ignore[arg-type]
    if INSTALLED_PARTS & set(filename.split(os.sep)):
        return None
    return filename if os.path.isfile(filename) else None


def settings_modules() -> list[Path]:
    dotted = getattr(settings, "SETTINGS_MODULE", None)
    path = module_file(dotted) if dotted else None
    return [path] if path is not None else []


def _unique(paths: Iterable[Path]) -> list[Path]:
    return list(dict.fromkeys(path.resolve() for path in paths))


def finding(
    check_id: str, name: str, severity: Severity, message: str, hint: str, path: Path, line: int
) -> Finding:
    """A guard finding: no app or migration, a file and a line."""
    from django_zero_downtime.findings.model import Finding

    return Finding(
        rule=check_id,
        name=name,
        severity=severity,
        message=message,
        hint=hint,
        app="",
        migration="",
        file=display_path(path),
        line=line,
    )


def python_findings(paths: Iterable[Path], source: Source, imported: bool = False) -> list[Finding]:
    """Every migrate call in the given Python files, reported under ``source``'s id.

    ``imported``: the files are modules this process has already imported (settings,
    ``ready()``), so they parse, and one without :data:`MIGRATE_MARKS` is not parsed again."""
    found: list[Finding] = []
    for path in paths:
        try:
            calls = migrate_calls(path, imported)
        except (OSError, UnicodeDecodeError, _uninspectable_source()) as exc:
            found.append(_uninspectable(path, exc))
            continue
        for call in calls:
            message = f"{source.what}: {call.code}"
            found.append(
                finding(
                    source.check_id, source.name, "error", message, source.hint, path, call.line
                )
            )
    return found


def _uninspectable_source() -> type[Exception]:
    """(Called only when an exception is being handled: the inspector is imported lazily.)"""
    from django_zero_downtime.guard.startup_inspect import UninspectableSource

    return UninspectableSource


def migrate_calls(path: Path, imported: bool = False) -> list[Any]:
    """The migrate calls in a Python file; [] without parsing an imported module whose text
    could hold none."""
    text = path.read_text(encoding="utf-8")
    if imported and not any(mark in text for mark in MIGRATE_MARKS):
        return []
    from django_zero_downtime.guard.startup_inspect import find_migrate_calls

    return find_migrate_calls(text, str(path))


def _uninspectable(path: Path, exc: Exception) -> Finding:
    return finding(
        "zdt.W022",
        "uninspectable-start-up-code",
        "warning",
        f"could not inspect this file for migrate calls: {exc}",
        "Fix the file so it can be read and parsed; until then it is not checked.",
        path,
        getattr(exc, "line", None) or 1,
    )


def start_files(patterns: tuple[str, ...] = START_FILE_PATTERNS) -> list[Path]:
    """Start scripts beside the project: ``BASE_DIR`` and its direct subdirectories."""
    root = base_dir()
    folders = [root, *sorted(p for p in root.iterdir() if _is_searched_dir(p))]
    found = [path for folder in folders for pattern in patterns for path in folder.glob(pattern)]
    return _unique(path for path in found if path.is_file())


def _is_searched_dir(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith(".") and path.name not in SKIPPED_DIRS


def extra_start_files() -> tuple[list[Path], list[Finding]]:
    """Files listed in ``ZDT_EXTRA_START_FILES``, and a warning for each one that is missing."""
    paths: list[Path] = []
    missing: list[Finding] = []
    for name in conf.get_settings().EXTRA_START_FILES:
        path = base_dir() / name
        if path.is_file():
            paths.append(path.resolve())
        else:
            missing.append(_missing_start_file(name, path))
    return paths, missing


def _missing_start_file(name: str, path: Path) -> Finding:
    from django_zero_downtime.findings.model import Finding

    return Finding(
        rule="zdt.W021",
        name="start-file-missing",
        severity="warning",
        message=f"ZDT_EXTRA_START_FILES lists {name!r}, but {path} is not a file.",
        hint="Paths in ZDT_EXTRA_START_FILES are relative to BASE_DIR; fix or remove it.",
        app="",
        migration="",
    )


def start_script_findings(paths: Iterable[Path]) -> list[Finding]:
    """``zdt.E024`` for each line where a start script migrates with the web server's start."""
    paths = list(paths)
    if not paths:
        return []  # the script inspector is not imported
    from django_zero_downtime.guard import start_scripts

    found: list[Finding] = []
    for path in paths:
        try:
            lines = start_scripts.inspect_start_file(path, path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            found.append(_uninspectable(path, exc))
            continue
        kind = start_scripts.kind_of(path)
        found += [_start_script_finding(path, kind, line) for line in lines]
    return found


START_SCRIPT_HINTS = {
    "procfile": "Move `migrate` to a `release:` line (it runs once, before the new web "
    "processes start) as `python manage.py safemigrate`.",
    "dockerfile": "Start only the web server in CMD/ENTRYPOINT; run `python manage.py "
    "safemigrate` as its own deploy step (a one-off container or job) before the release.",
    "shell": "Start only the web server here; run `python manage.py safemigrate` as its own "
    "deploy step (a one-off container, job or release phase) before the release.",
}


def _start_script_finding(path: Path, kind: str, line: int) -> Finding:
    return finding(
        "zdt.E024",
        "start-script-migrates",
        "error",
        "migrate runs in the same start command as the web server",
        START_SCRIPT_HINTS[kind],
        path,
        line,
    )


def auto_migrate_setting_findings() -> list[Finding]:
    """Third-party settings known to run migrations inside the web process."""
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    if not _tenant_model_auto_creates_schema() and not any("migrat" in str(m) for m in middleware):
        return []  # nothing to look up (the inspectors are not imported)
    from django_zero_downtime.guard.startup_inspect import auto_migrate_middleware

    settings_file = (settings_modules() or [Path("settings.py")])[0]
    found = [
        _middleware_finding(dotted, package, settings_file)
        for dotted, package in auto_migrate_middleware(middleware)
    ]
    tenant = _tenant_model_auto_creates_schema()
    if tenant:
        found.append(_tenant_finding(tenant, settings_file))
    return found


def _middleware_finding(dotted: str, package: str, settings_file: Path) -> Finding:
    return finding(
        "zdt.E023",
        "auto-migrate-setting",
        "error",
        f"MIDDLEWARE contains {dotted} ({package}), which runs migrate on requests",
        f"Remove {dotted} from MIDDLEWARE and run `python manage.py safemigrate` as its own "
        "deploy step.",
        settings_file,
        _line_of(settings_file, dotted),
    )


def _tenant_model_auto_creates_schema() -> str | None:
    """``TENANT_MODEL`` (django-tenants, django-tenant-schemas) when it sets auto_create_schema."""
    label = getattr(settings, "TENANT_MODEL", None)
    if not isinstance(label, str):
        return None
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return None
    return label if getattr(model, "auto_create_schema", False) else None


def _tenant_finding(label: str, settings_file: Path) -> Finding:
    return finding(
        "zdt.W023",
        "tenant-auto-create-schema",
        "warning",
        f"{label}.auto_create_schema is True: saving a tenant runs migrate_schemas in-process",
        "Set auto_create_schema = False on the tenant model and create tenant schemas from a "
        "management command or job (`manage.py migrate_schemas --schema=...`), not a request.",
        settings_file,
        _line_of(settings_file, "TENANT_MODEL"),
    )


def _line_of(path: Path, text: str) -> int:
    """First line of ``path`` that mentions ``text`` (1 when not found or unreadable)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    return next((number for number, line in enumerate(lines, 1) if text in line), 1)

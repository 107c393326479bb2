"""The one module that reads ``ZDT_*`` settings.

Every setting has a default and a validator. :func:`get_settings` reads them all, validates
them and returns a frozen :class:`ZdtSettings` snapshot; a bad value raises
``ImproperlyConfigured`` naming the setting, what was given and what is expected. Reading
is cheap and not cached, so ``override_settings`` in tests just works.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from os import PathLike
from types import MappingProxyType
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

SEVERITIES = ("error", "warning", "off")


_EMPTY: Mapping[str, str] = MappingProxyType({})


class ZdtSettings:
    """Validated values of every ``ZDT_*`` setting (attribute = setting name minus prefix).

    Immutable. A plain class with the defaults as class attributes rather than a frozen
    dataclass: building a 26-field dataclass costs ~4 ms at import, paid by every
    management command and ``runserver`` reload (issue 16's "nearly free when installed").
    """

    LOCK_TIMEOUT_MS: int = 500
    STATEMENT_TIMEOUT_MS: int = 30 * 60 * 1000
    MAX_RETRIES: int = 10
    RETRY_BACKOFF_MS: int = 500
    RETRY_MAX_DELAY_MS: int = 10_000
    DEPRECATION_CYCLES: int = 3
    LARGE_TABLE_ROWS: int = 1_000_000
    MAX_BLOCKING_MS: int = 2_000
    REHEARSAL_BUDGET: float = 5.0
    BACKFILL_BATCH_SIZE: int | None = None
    BACKFILL_PAUSE_S: float = 0.0
    BACKFILL_TARGET_MS: int = 200
    BACKFILL_CONTENDED_TARGET_MS: int = 50
    BACKFILL_MAX_BATCH_SIZE: int = 100_000
    BACKFILL_THROTTLE_SQL: str | None = None
    MAX_REPLICA_LAG_MS: int | None = 1_500
    PRODUCTION: bool = False
    ALLOW_MIGRATE_IN_WEB_PROCESS: bool = False
    MIGRATION_DATABASE: str | None = None
    RULES_SELECT: tuple[str, ...] = ()
    RULES_IGNORE: tuple[str, ...] = ()
    RULES_SEVERITY: Mapping[str, str] = _EMPTY
    BASELINE: Mapping[str, str] = _EMPTY
    BASELINE_FILE: str | None = None
    EXTRA_START_FILES: tuple[str, ...] = ()
    COMPAT_GIT_REF: str | None = None
    POSTGRES_VERSION: int = 13
    """Target PostgreSQL major version when the migration database is not reachable."""
    RELEASE: str | None = None
    """This process's release label (setting, else the ``ZDT_RELEASE`` environment variable),
    normalised by :func:`normalise_release`."""
    HEARTBEAT_S: float | None = 60.0
    """Web processes report their release this often; None or 0: never."""
    MIN_CYCLE_INTERVAL: float = 600.0
    """Seconds between two deploy cycles at least (the name is the issue's; seconds)."""
    SERVING_WINDOW: float = 600.0
    """Seconds a release seen serving counts as still serving (drop gate)."""

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(VALIDATORS)
        if unknown:
            raise TypeError(f"ZdtSettings() got unknown settings: {', '.join(sorted(unknown))}")
        self.__dict__.update(values)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"ZdtSettings is immutable: cannot set {name}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ZdtSettings) and self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, repr(v)) for k, v in self.as_dict().items())))

    def __repr__(self) -> str:
        given = ", ".join(f"{name}={value!r}" for name, value in self.__dict__.items())
        return f"ZdtSettings({given})"

    def as_dict(self) -> dict[str, Any]:
        """Every setting's value, defaults included (attribute name = setting minus prefix)."""
        return {name: getattr(self, name) for name in VALIDATORS}


def _fail(name: str, value: object, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"ZDT_{name} = {value!r} is not valid: expected {expected}. "
        f"Fix ZDT_{name} in your settings or remove it to use the default."
    )


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _fail(name, value, "a positive integer")
    return value


def _optional_positive_int(name: str, value: Any) -> int | None:
    return None if value is None else _positive_int(name, value)


def _optional_sql(name: str, value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise _fail(name, value, 'None or one SQL query returning one row, e.g. "SELECT false"')
    return value


def _non_negative_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(name, value, "an integer >= 0")
    return value


def _non_negative_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _fail(name, value, "a number >= 0")
    return float(value)


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(name, value, "True or False")
    return value


def _optional_alias(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in django_settings.DATABASES:
        aliases = ", ".join(sorted(django_settings.DATABASES))
        raise _fail(name, value, f"None or one of the DATABASES aliases ({aliases})")
    return value


def _optional_string(name: str, value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise _fail(name, value, 'None or a git ref, e.g. "origin/main"')
    return value


def _optional_path(name: str, value: Any) -> str | None:
    if value is not None and (not isinstance(value, str | PathLike) or not str(value).strip()):
        raise _fail(name, value, "None or a file path (relative to BASE_DIR, or absolute)")
    return None if value is None else str(value)


def _string_tuple(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _fail(name, value, "a list of strings")
    if not all(isinstance(item, str) for item in value):
        raise _fail(name, value, "a list of strings")
    return tuple(value)


def _severity_map(name: str, value: Any) -> Mapping[str, str]:
    expected = (
        f'a dict of rule code to one of {", ".join(SEVERITIES)}, e.g. {{"ZDT103": "warning"}}'
    )
    if not isinstance(value, Mapping):
        raise _fail(name, value, expected)
    if not all(isinstance(k, str) and v in SEVERITIES for k, v in value.items()):
        raise _fail(name, value, expected)
    return dict(value)


def _string_map(name: str, value: Any) -> Mapping[str, str]:
    expected = 'a dict of app label to migration name, e.g. {"shop": "0042_last_old"}'
    if not isinstance(value, Mapping):
        raise _fail(name, value, expected)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise _fail(name, value, expected)
    return dict(value)


def _postgres_major(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 13 <= value <= 99:
        raise _fail(name, value, "a PostgreSQL major version, 13 or later (e.g. 16)")
    return value


RELEASE_MAX_LENGTH = 200
"""The ledger's column size for a release label (models.DeployCycle.release)."""
RELEASE_PATTERN = re.compile(r"[a-z0-9][a-z0-9._+/:@#-]*")
RELEASE_RULES = (
    f"1 to {RELEASE_MAX_LENGTH} characters: letters, digits and . _ + / : @ # -, starting "
    'with a letter or digit, e.g. "v2.4.1", "r9", "2026-12-01.3" or a git commit'
)


class BadReleaseLabel(ValueError):
    """A release label that breaks :data:`RELEASE_RULES`."""


def normalise_release(label: str) -> str:
    """The one spelling of a release label: trimmed and case-folded, then checked.

    ``r9``, ``R9``, ``" r9 "`` and ``"r9\\t"`` are one release. Raises :class:`BadReleaseLabel`
    with what is wrong (pure).
    """
    cleaned = label.strip().casefold()
    if len(cleaned) > RELEASE_MAX_LENGTH:
        raise BadReleaseLabel(
            f"release label {cleaned[:30]!r}... is {len(cleaned)} characters long: expected "
            f"{RELEASE_RULES}"
        )
    if not cleaned.isascii() or not RELEASE_PATTERN.fullmatch(cleaned):
        raise BadReleaseLabel(f"release label {label!r} is not valid: expected {RELEASE_RULES}")
    return cleaned


def _optional_release(name: str, value: Any) -> str | None:
    source = f"ZDT_{name}"
    if value is None and os.environ.get("ZDT_RELEASE"):
        value, source = os.environ["ZDT_RELEASE"], "the ZDT_RELEASE environment variable"
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(name, value, f"None or a release label ({RELEASE_RULES})")
    try:
        return normalise_release(value)
    except BadReleaseLabel as exc:
        raise ImproperlyConfigured(f"{source}: {exc}. Fix it, or remove it.") from None


def _optional_seconds(name: str, value: Any) -> float | None:
    if value is None or value == 0:
        return None
    return _positive_number(name, value)


def _positive_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _fail(name, value, "a number of seconds > 0")
    return float(value)


Validator = Callable[[str, Any], Any]

VALIDATORS: dict[str, Validator] = {
    "LOCK_TIMEOUT_MS": _positive_int,
    "STATEMENT_TIMEOUT_MS": _non_negative_int,
    "MAX_RETRIES": _non_negative_int,
    "RETRY_BACKOFF_MS": _positive_int,
    "RETRY_MAX_DELAY_MS": _positive_int,
    "DEPRECATION_CYCLES": _non_negative_int,
    "LARGE_TABLE_ROWS": _positive_int,
    "MAX_BLOCKING_MS": _positive_int,
    "REHEARSAL_BUDGET": _non_negative_number,
    "BACKFILL_BATCH_SIZE": _optional_positive_int,
    "BACKFILL_PAUSE_S": _non_negative_number,
    "BACKFILL_TARGET_MS": _positive_int,
    "BACKFILL_CONTENDED_TARGET_MS": _positive_int,
    "BACKFILL_MAX_BATCH_SIZE": _positive_int,
    "BACKFILL_THROTTLE_SQL": _optional_sql,
    "MAX_REPLICA_LAG_MS": _optional_positive_int,
    "PRODUCTION": _boolean,
    "ALLOW_MIGRATE_IN_WEB_PROCESS": _boolean,
    "MIGRATION_DATABASE": _optional_alias,
    "RULES_SELECT": _string_tuple,
    "RULES_IGNORE": _string_tuple,
    "RULES_SEVERITY": _severity_map,
    "BASELINE": _string_map,
    "BASELINE_FILE": _optional_path,
    "EXTRA_START_FILES": _string_tuple,
    "COMPAT_GIT_REF": _optional_string,
    "POSTGRES_VERSION": _postgres_major,
    "RELEASE": _optional_release,
    "HEARTBEAT_S": _optional_seconds,
    "MIN_CYCLE_INTERVAL": _non_negative_number,
    "SERVING_WINDOW": _positive_number,
}

SETTING_NAMES = tuple(f"ZDT_{name}" for name in VALIDATORS)


def unknown_settings() -> list[str]:
    """``ZDT_*`` names in the project's settings that this version does not know (typos)."""
    return sorted(
        name
        for name in dir(django_settings)
        if name.startswith("ZDT_") and name not in SETTING_NAMES
    )


def get_settings() -> ZdtSettings:
    """Read and validate every ``ZDT_*`` setting; raise ``ImproperlyConfigured`` on a bad one."""
    values: dict[str, Any] = {}
    for name, validate in VALIDATORS.items():
        if hasattr(django_settings, f"ZDT_{name}"):
            values[name] = validate(name, getattr(django_settings, f"ZDT_{name}"))
    if "RELEASE" not in values:
        values["RELEASE"] = _optional_release("RELEASE", None)
    result = ZdtSettings(**values)
    _check_window(result)
    return result


def _check_window(settings: ZdtSettings) -> None:
    """A live process beats at least twice within the serving window, or it looks gone."""
    beat = settings.HEARTBEAT_S
    if beat is not None and 2 * beat > settings.SERVING_WINDOW:
        raise _fail(
            "SERVING_WINDOW",
            settings.SERVING_WINDOW,
            f"at least twice ZDT_HEARTBEAT_S ({beat:g} s), so a live process is never taken "
            "for a stopped one",
        )


def value(name: str) -> Any:
    """One setting (``name`` without the prefix), validated: what :func:`get_settings` would
    give for it, without reading the other 25 (hints ask for one per finding)."""
    if not hasattr(django_settings, f"ZDT_{name}"):
        return getattr(ZdtSettings, name)
    return VALIDATORS[name](name, getattr(django_settings, f"ZDT_{name}"))


def migration_alias(requested: str | None = None) -> str:
    """The database alias migrations run on: the one asked for, else ZDT_MIGRATION_DATABASE."""
    return requested or get_settings().MIGRATION_DATABASE or "default"

"""What one SQL statement does to a live table: which table, which lock, what it costs.

A small, pure classifier over sqlparse tokens (no database), used by the runner's rules of
engagement, ``--plan`` and the report. It knows the statements Django's PostgreSQL schema
editor emits and the common hand-written ones (design.md §4). Anything it does not know is
classified with lock ``unknown`` and is never silently treated as harmless: the caller
decides how to judge it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from sqlparse import tokens as T
from sqlparse.sql import Token

from django_zero_downtime.sql.lexing import (
    add_column_rewrites,
    split_statements,
    split_top_level,
    unquote_identifier,
)
from django_zero_downtime.sql.lexing import varchar_widening as varchar_widening  # re-exported

LOCKS = (
    "NONE",
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)
STRONG_LOCKS = frozenset(LOCKS[LOCKS.index("SHARE") :])
"""Locks that block writes (SHARE and stronger): a scan under one of them blocks traffic."""


@dataclass(frozen=True)
class Impact:
    """The classification of one statement."""

    sql: str
    kind: str
    """Short name of the statement, e.g. ``ALTER TABLE ADD COLUMN``."""
    table: str | None = None
    lock: str = "unknown"
    """The strongest table lock taken (a name from :data:`LOCKS`) or ``unknown``."""
    rewrites: bool = False
    scans: bool = False
    """Reads the whole table while holding :attr:`lock`."""
    drops: bool = False
    adds: bool = False
    concurrent: bool = False
    """Must run outside a transaction (CONCURRENTLY, VACUUM)."""
    creates_table: bool = False
    index: str | None = None
    """Name of the index a CREATE INDEX builds (to find an INVALID leftover)."""
    type_changes: tuple[tuple[str, str], ...] = ()
    """(column, new type) of ALTER COLUMN TYPE; the live database can tell if it rewrites."""

    @property
    def strong_scan(self) -> bool:
        return self.scans and self.lock in STRONG_LOCKS

    @property
    def judged(self) -> bool:
        """True when the table's size matters (ZDT401): rewrite, strong scan, drop or add."""
        return self.rewrites or self.strong_scan or self.drops or self.adds


@dataclass(frozen=True)
class _Tok:
    kind: str  # "kw", "name", "punct", "other"
    value: str


Handler = Callable[[str, list[_Tok], list[str]], Impact]


def classify_sql(sql: str) -> list[Impact]:
    """Classify every statement in ``sql`` (comments and empty statements are skipped)."""
    impacts = []
    for statement in split_statements(sql):
        impacts.append(classify_tokens(statement.sql, list(_tokens(statement.tokens))))
    return impacts


def _tokens(leaves: Sequence[Token]) -> Iterator[_Tok]:
    for token in leaves:
        if token.is_whitespace or token.value == ";":
            continue
        if token.ttype in T.Keyword:
            for word in token.value.upper().split():
                yield _Tok("kw", word)
        elif token.ttype in T.Name or token.ttype == T.Literal.String.Symbol:
            yield _Tok("name", unquote_identifier(token.value))
        elif token.ttype in T.Punctuation:
            yield _Tok("punct", token.value)
        else:
            yield _Tok("other", token.value)


def _words(tokens: list[_Tok]) -> list[str]:
    return [t.value.upper() if t.kind == "kw" else t.value for t in tokens]


def _qualified_name(tokens: list[_Tok], start: int) -> tuple[str | None, int]:
    """The (possibly schema-qualified) name at ``start`` and the index after it."""
    i = start
    while i < len(tokens) and tokens[i].kind == "kw" and tokens[i].value in _NAME_PREFIXES:
        i += 1
    if i >= len(tokens) or tokens[i].kind not in ("name", "kw"):
        return None, i
    name = tokens[i].value if tokens[i].kind == "name" else tokens[i].value.lower()
    if i + 2 < len(tokens) and tokens[i + 1].value == "." and tokens[i + 2].kind == "name":
        return tokens[i + 2].value, i + 3
    return name, i + 1


_NAME_PREFIXES = frozenset({"IF", "NOT", "EXISTS", "ONLY", "CONCURRENTLY"})


def classify_tokens(sql: str, tokens: list[_Tok]) -> Impact:
    words = _words(tokens)
    head = " ".join(w for w in words[:4] if w.isupper())
    for prefix, handler in _HANDLERS:
        if head.startswith(prefix):
            return handler(sql, tokens, words)
    return Impact(sql, kind=words[0].upper() if words else "EMPTY")


def _alter_table(sql: str, tokens: list[_Tok], words: list[str]) -> Impact:
    table, i = _qualified_name(tokens, 2)
    base = Impact(sql, kind="ALTER TABLE", table=table, lock="ACCESS EXCLUSIVE")
    actions = [_classify_action(base, action) for action in _split_actions(tokens[i:])]
    return _merge(base, actions) if actions else base


def _split_actions(tokens: list[_Tok]) -> list[list[_Tok]]:
    """Split ALTER TABLE's comma-separated actions at parenthesis depth 0."""
    return split_top_level(tokens, lambda t: t.value if t.kind == "punct" else "")


def _classify_action(base: Impact, action: list[_Tok]) -> Impact:
    words = _words(action)
    upper = [w.upper() for w in words]
    if upper[:1] == ["ADD"] and not _is_constraint(upper):
        return _add_column(base, action, upper)
    if upper[:1] == ["ADD"]:
        return _add_constraint(base, upper)
    if upper[:1] == ["DROP"] and (len(upper) < 2 or upper[1] != "CONSTRAINT"):
        return replace(base, kind="ALTER TABLE DROP COLUMN", drops=True)
    if upper[:1] == ["VALIDATE"]:
        return replace(
            base, kind="ALTER TABLE VALIDATE CONSTRAINT", lock="SHARE UPDATE EXCLUSIVE", scans=True
        )
    if upper[:2] == ["ALTER", "COLUMN"] or upper[:1] == ["ALTER"]:
        return _alter_column(base, action, upper)
    if "TABLESPACE" in upper:
        return replace(base, kind="ALTER TABLE SET TABLESPACE", rewrites=True)
    return replace(base, kind=f"ALTER TABLE {' '.join(upper[:2])}".strip())


def _is_constraint(upper: list[str]) -> bool:
    keys = {"CONSTRAINT", "CHECK", "FOREIGN", "UNIQUE", "PRIMARY", "EXCLUDE"}
    return len(upper) > 1 and upper[1] in keys


def _add_column(base: Impact, action: list[_Tok], upper: list[str]) -> Impact:
    _, i = _qualified_name(action, 2 if upper[1:2] == ["COLUMN"] else 1)
    rewrites = add_column_rewrites(" ".join(_words(action[i:])))
    scans = "CHECK" in upper or "UNIQUE" in upper or "PRIMARY" in upper
    return replace(base, kind="ALTER TABLE ADD COLUMN", adds=True, rewrites=rewrites, scans=scans)


def _add_constraint(base: Impact, upper: list[str]) -> Impact:
    not_valid = upper[-2:] == ["NOT", "VALID"]
    using_index = "USING" in upper and "INDEX" in upper
    lock = "SHARE ROW EXCLUSIVE" if "FOREIGN" in upper else "ACCESS EXCLUSIVE"
    scans = not (not_valid or using_index)
    return replace(base, kind="ALTER TABLE ADD CONSTRAINT", lock=lock, scans=scans)


def _alter_column(base: Impact, action: list[_Tok], upper: list[str]) -> Impact:
    column, i = _qualified_name(action, 2 if upper[1:2] == ["COLUMN"] else 1)
    rest = upper[i:]
    if rest[:1] == ["TYPE"] or rest[:3] == ["SET", "DATA", "TYPE"]:
        new_type = " ".join(_words(action[i + rest.index("TYPE") + 1 :])).split(" USING ")[0]
        return replace(
            base,
            kind="ALTER TABLE ALTER COLUMN TYPE",
            rewrites=True,
            type_changes=((column or "", new_type.strip()),),
        )
    if rest[:3] == ["SET", "NOT", "NULL"]:
        return replace(base, kind="ALTER TABLE SET NOT NULL", scans=True)
    return replace(base, kind=f"ALTER TABLE ALTER COLUMN {' '.join(rest[:2])}".strip())


def _merge(base: Impact, actions: list[Impact]) -> Impact:
    """One ALTER TABLE with several actions: the strongest lock and every cost."""
    lock = max((a.lock for a in actions), key=_lock_rank)
    kinds = sorted({a.kind for a in actions})
    return replace(
        base,
        kind=" + ".join(kinds),
        lock=lock,
        rewrites=any(a.rewrites for a in actions),
        scans=any(a.scans for a in actions),
        drops=any(a.drops for a in actions),
        adds=any(a.adds for a in actions),
        type_changes=tuple(tc for a in actions for tc in a.type_changes),
    )


def _lock_rank(lock: str) -> int:
    return LOCKS.index(lock) if lock in LOCKS else len(LOCKS)


def _create_index(sql: str, tokens: list[_Tok], words: list[str]) -> Impact:
    upper = [w.upper() for w in words]
    concurrent = "CONCURRENTLY" in upper
    at = upper.index("INDEX") + 1
    index, _ = _qualified_name(tokens, at) if upper[at : at + 1] != ["ON"] else (None, at)
    table, _ = _qualified_name(tokens, upper.index("ON") + 1) if "ON" in upper else (None, 0)
    lock = "SHARE UPDATE EXCLUSIVE" if concurrent else "SHARE"
    return Impact(
        sql,
        kind="CREATE INDEX",
        table=table,
        lock=lock,
        scans=True,
        concurrent=concurrent,
        index=index,
    )


def _drop_index(sql: str, tokens: list[_Tok], words: list[str]) -> Impact:
    concurrent = "CONCURRENTLY" in (w.upper() for w in words)
    index, _ = _qualified_name(tokens, 2)
    lock = "SHARE UPDATE EXCLUSIVE" if concurrent else "ACCESS EXCLUSIVE"
    return Impact(sql, kind="DROP INDEX", lock=lock, concurrent=concurrent, index=index)


def _simple(kind: str, lock: str, at: int, *flags: str) -> Handler:
    """A handler for a statement naming its table at token ``at``, with fixed costs."""

    def handler(sql: str, tokens: list[_Tok], words: list[str]) -> Impact:
        table, _ = _qualified_name(tokens, at)
        impact = Impact(sql, kind=kind, table=table, lock=lock)
        return replace(impact, **dict.fromkeys(flags, True))  # type: ignore[arg-type]

    return handler


def _lock_table(sql: str, tokens: list[_Tok], words: list[str]) -> Impact:
    table, i = _qualified_name(tokens, 2 if words[1].upper() == "TABLE" else 1)
    upper = [w.upper() for w in words[i:]]
    mode = " ".join(upper[upper.index("IN") + 1 : upper.index("MODE")]) if "MODE" in upper else ""
    return Impact(sql, kind="LOCK TABLE", table=table, lock=mode or "ACCESS EXCLUSIVE")


def _create_trigger(sql: str, tokens: list[_Tok], words: list[str]) -> Impact:
    upper = [w.upper() for w in words]
    table, _ = _qualified_name(tokens, upper.index("ON") + 1) if "ON" in upper else (None, 0)
    return Impact(sql, kind="CREATE TRIGGER", table=table, lock="SHARE ROW EXCLUSIVE")


def _dml(kind: str, at: int) -> Handler:
    return _simple(kind, "ROW EXCLUSIVE", at)


_SUE = "SHARE UPDATE EXCLUSIVE"
_HANDLERS: list[tuple[str, Handler]] = [
    ("ALTER TABLE", _alter_table),
    ("CREATE UNIQUE INDEX", _create_index),
    ("CREATE INDEX", _create_index),
    ("DROP INDEX", _drop_index),
    ("CREATE TABLE", _simple("CREATE TABLE", "ACCESS EXCLUSIVE", 2, "creates_table")),
    ("DROP TABLE", _simple("DROP TABLE", "ACCESS EXCLUSIVE", 2, "drops")),
    ("TRUNCATE", _simple("TRUNCATE", "ACCESS EXCLUSIVE", 1, "drops")),
    ("VACUUM FULL", _simple("VACUUM FULL", "ACCESS EXCLUSIVE", 2, "rewrites", "concurrent")),
    ("CLUSTER", _simple("CLUSTER", "ACCESS EXCLUSIVE", 1, "rewrites")),
    (
        "REINDEX TABLE CONCURRENTLY",
        _simple("REINDEX", "SHARE UPDATE EXCLUSIVE", 3, "concurrent"),
    ),
    ("REINDEX TABLE", _simple("REINDEX", "SHARE", 2, "scans")),
    ("LOCK", _lock_table),
    ("CREATE TRIGGER", _create_trigger),
    ("CREATE OR REPLACE TRIGGER", _create_trigger),
    ("INSERT INTO", _dml("INSERT", 2)),
    ("UPDATE", _dml("UPDATE", 1)),
    ("DELETE FROM", _dml("DELETE", 2)),
    ("SELECT", _simple("SELECT", "ACCESS SHARE", 99)),
    ("COMMENT ON", _simple("COMMENT", "SHARE UPDATE EXCLUSIVE", 99)),
    ("SET", _simple("SET", "NONE", 99)),
]

"""Statement handlers: which statement it is, its table, lock and costs (docs/postgres-facts.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from django_zero_downtime.sql import alter, parse
from django_zero_downtime.sql.classify import AE, SRE, SUE, Action, Impact
from django_zero_downtime.sql.parse import Parsed
from django_zero_downtime.sql.state import Schema

Handler = Callable[[Parsed, Schema], Impact]
TRANSACTION_CONTROL = ("BEGIN", "START", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE")


def classify(statement: Parsed, schema: Schema) -> Impact:
    words = [w for w in statement.words if w]
    head = " ".join(words[:4])
    for prefix, handler in _HANDLERS:
        if head.startswith(prefix) and (len(head) == len(prefix) or head[len(prefix)] == " "):
            return handler(statement, schema)
    kind = words[0] if words else (statement.toks[0].value.upper() if statement.toks else "")
    return Impact(statement.sql, kind=kind or "EMPTY", text=statement.text)


def _base(statement: Parsed, kind: str, lock: str, table: str | None = None) -> Impact:
    return Impact(statement.sql, kind=kind, table=table, lock=lock, text=statement.text)


def _table_after(statement: Parsed, word: str) -> str | None:
    words = statement.words
    return parse.qualified_name(statement.toks, words.index(word) + 1)[0] if word in words else None


def _create_index(statement: Parsed, schema: Schema) -> Impact:
    words = statement.words
    concurrent = "CONCURRENTLY" in words
    at = words.index("INDEX") + 1
    index = parse.qualified_name(statement.toks, at)[0] if words[at : at + 1] != ["ON"] else None
    table = _table_after(statement, "ON")
    lock = SUE if concurrent else "SHARE"
    action = Action("CREATE INDEX", lock=lock, name=index, builds_index=True, text=statement.text)
    return replace(
        _base(statement, "CREATE INDEX", lock, table), scans=True, builds_index=True,
        concurrent=concurrent, index=index, actions=(action,),
    )  # fmt: skip


def _drop_index(statement: Parsed, schema: Schema) -> Impact:
    concurrent = "CONCURRENTLY" in statement.words
    index, _ = parse.qualified_name(statement.toks, 2)
    lock = SUE if concurrent else AE
    return replace(_base(statement, "DROP INDEX", lock), concurrent=concurrent, index=index)


def _reindex(statement: Parsed, schema: Schema) -> Impact:
    words = statement.words
    concurrent = "CONCURRENTLY" in words
    table = parse.qualified_name(statement.toks, 2)[0] if words[1:2] == ["TABLE"] else None
    lock = SUE if concurrent else "SHARE"
    return replace(
        _base(statement, "REINDEX", lock, table), builds_index=True, concurrent=concurrent
    )


def _create_table(statement: Parsed, schema: Schema) -> Impact:
    words = statement.words
    at = words.index("TABLE") + 1
    table, _ = parse.qualified_name(statement.toks, at)
    references = []
    for k, word in enumerate(words):
        if word == "REFERENCES":
            references.append((parse.qualified_name(statement.toks, k + 1)[0] or "", SRE))
    indexed = "PRIMARY" in words or "UNIQUE" in words
    return replace(
        _base(statement, "CREATE TABLE", AE, table), creates_table=True, new_table=True,
        other_locks=tuple(references), builds_index=indexed,
    )  # fmt: skip


def _drop_table(statement: Parsed, schema: Schema) -> Impact:
    words = statement.words
    start = 4 if words[2:4] == ["IF", "EXISTS"] else 2
    names = []
    for part in parse.split_commas(list(statement.toks[start:])):
        name, _ = parse.qualified_name(part, 0)
        if name:
            names.append(name)
    actions = tuple(
        Action("DROP TABLE", name=name, breaks="drops a table the previous release uses")
        for name in names
    )
    breaks = tuple(a.breaks for a in actions if not schema.is_new_table(a.name or ""))
    table = names[0] if names else None
    return replace(
        _base(statement, "DROP TABLE", AE, table), drops=True, actions=actions, breaks=breaks
    )


def _simple(kind: str, lock: str, at: int, **flags: bool) -> Handler:
    """A statement naming its table at word ``at``, with fixed costs."""

    def handler(statement: Parsed, schema: Schema) -> Impact:
        table = parse.qualified_name(statement.toks, at)[0] if at >= 0 else None
        return replace(_base(statement, kind, lock, table), **flags)  # type: ignore[arg-type]

    return handler


def _on_table(kind: str, lock: str) -> Handler:
    """``DROP TRIGGER t ON table``, ``COMMENT ON TRIGGER t ON table``: the lock on ``table``."""

    def handler(statement: Parsed, schema: Schema) -> Impact:
        words = statement.words
        last_on = len(words) - 1 - words[::-1].index("ON") if "ON" in words else -1
        table = parse.qualified_name(statement.toks, last_on + 1)[0] if last_on >= 0 else None
        return _base(statement, kind, lock, table)

    return handler


def _vacuum(statement: Parsed, schema: Schema) -> Impact:
    words = statement.words
    full = "FULL" in words
    table = None
    for k in range(len(statement.toks) - 1, 0, -1):
        if parse.is_name(statement.toks[k]) and words[k] not in ("FULL", "ANALYZE", "VERBOSE"):
            table = statement.toks[k].ident
            break
    lock = AE if full else SUE
    return replace(
        _base(statement, "VACUUM FULL" if full else "VACUUM", lock, table), rewrites=full,
        concurrent=True,
    )  # fmt: skip


def _lock_table(statement: Parsed, schema: Schema) -> Impact:
    words = statement.words
    table, i = parse.qualified_name(statement.toks, 2 if words[1:2] == ["TABLE"] else 1)
    rest = words[i:]
    mode = " ".join(rest[rest.index("IN") + 1 : rest.index("MODE")]) if "MODE" in rest else ""
    return _base(statement, "LOCK TABLE", mode or AE, table)


def _create_trigger(statement: Parsed, schema: Schema) -> Impact:
    return _base(statement, "CREATE TRIGGER", SRE, _table_after(statement, "ON"))


def _alter_domain(statement: Parsed, schema: Schema) -> Impact:
    words = statement.words
    if "ADD" not in words:
        return _base(statement, "ALTER DOMAIN", AE)
    not_valid = words[-2:] == ["NOT", "VALID"]
    action = Action(
        "ADD CONSTRAINT", lock="SHARE", constraint="CHECK", scans=not not_valid,
        validates=not not_valid, not_valid=not_valid, text=statement.text,
    )  # fmt: skip
    return replace(
        _base(statement, "ALTER DOMAIN ADD CONSTRAINT", "SHARE"), scans=not not_valid,
        validates=not not_valid, actions=(action,),
    )  # fmt: skip


def _function(kind: str, breaks: str) -> Handler:
    def handler(statement: Parsed, schema: Schema) -> Impact:
        words = statement.words
        if kind == "ALTER FUNCTION" and not (
            "RENAME" in words or parse.has(words, "SET", "SCHEMA")
        ):
            return _base(statement, kind, "NONE")
        return replace(_base(statement, kind, "NONE"), breaks=(breaks,))

    return handler


def _dml(kind: str, at: int) -> Handler:
    return _simple(kind, "ROW EXCLUSIVE", at, dml=True)


def _with(statement: Parsed, schema: Schema) -> Impact:
    words = statement.words
    writes = any(w in ("INSERT", "UPDATE", "DELETE", "MERGE") for w in words)
    lock = "ROW EXCLUSIVE" if writes else "ACCESS SHARE"
    return replace(_base(statement, "WITH", lock), dml=writes)


_REPLACE = "CREATE OR REPLACE FUNCTION"
_HANDLERS: list[tuple[str, Handler]] = [
    ("ALTER TABLE", alter.alter_table),
    ("ALTER FOREIGN TABLE", _simple("ALTER FOREIGN TABLE", AE, 3)),
    ("CREATE UNIQUE INDEX", _create_index),
    ("CREATE INDEX", _create_index),
    ("DROP INDEX", _drop_index),
    ("ALTER INDEX", _simple("ALTER INDEX", SUE, -1)),
    ("CREATE TABLE", _create_table),
    ("CREATE UNLOGGED TABLE", _create_table),
    ("CREATE TEMP TABLE", _create_table),
    ("CREATE TEMPORARY TABLE", _create_table),
    ("DROP TABLE", _drop_table),
    ("TRUNCATE", _simple("TRUNCATE", AE, 1, drops=True)),
    ("VACUUM", _vacuum),
    ("CLUSTER", _simple("CLUSTER", AE, 1, rewrites=True)),
    ("REINDEX", _reindex),
    ("LOCK", _lock_table),
    ("CREATE TRIGGER", _create_trigger),
    ("CREATE OR REPLACE TRIGGER", _create_trigger),
    ("CREATE CONSTRAINT TRIGGER", _create_trigger),
    ("DROP TRIGGER", _on_table("DROP TRIGGER", AE)),
    ("ALTER DOMAIN", _alter_domain),
    ("CREATE OR REPLACE FUNCTION", _function("CREATE OR REPLACE FUNCTION", "replaces a function")),
    (
        "CREATE OR REPLACE PROCEDURE",
        _function("CREATE OR REPLACE FUNCTION", "replaces a procedure"),
    ),
    ("DROP FUNCTION", _function("DROP FUNCTION", "drops a function")),
    ("DROP PROCEDURE", _function("DROP FUNCTION", "drops a procedure")),
    ("DROP ROUTINE", _function("DROP FUNCTION", "drops a routine")),
    ("ALTER FUNCTION", _function("ALTER FUNCTION", "renames a function")),
    ("ALTER PROCEDURE", _function("ALTER FUNCTION", "renames a procedure")),
    ("ALTER ROUTINE", _function("ALTER FUNCTION", "renames a routine")),
    ("DROP DATABASE", _simple("DROP DATABASE", AE, -1, drops=True)),
    ("INSERT INTO", _dml("INSERT", 2)),
    ("UPDATE", _dml("UPDATE", 1)),
    ("DELETE FROM", _dml("DELETE", 2)),
    ("MERGE INTO", _dml("MERGE", 2)),
    ("COPY", _dml("COPY", 1)),
    ("WITH", _with),
    ("SELECT", _simple("SELECT", "ACCESS SHARE", -1)),
    ("ANALYZE", _simple("ANALYZE", SUE, 1)),
    ("COMMENT ON TRIGGER", _on_table("COMMENT", SUE)),
    ("COMMENT ON", _simple("COMMENT", SUE, -1)),
    ("REFRESH MATERIALIZED VIEW", _simple("REFRESH MATERIALIZED VIEW", AE, 3, rewrites=True)),
    *((word, _simple(word, "NONE", -1)) for word in TRANSACTION_CONTROL),
    ("SET", _simple("SET", "NONE", -1)),
    ("RESET", _simple("RESET", "NONE", -1)),
    ("SHOW", _simple("SHOW", "NONE", -1)),
    *(
        (f"CREATE {what}", _simple(f"CREATE {what}", "NONE", -1))
        for what in ("FUNCTION", "PROCEDURE", "EXTENSION", "SCHEMA", "SEQUENCE", "DOMAIN", "TYPE")
    ),
    ("ALTER TYPE", _simple("ALTER TYPE", "NONE", -1)),
    ("ALTER SEQUENCE", _simple("ALTER SEQUENCE", "NONE", -1)),
    ("GRANT", _simple("GRANT", "NONE", -1)),
    ("REVOKE", _simple("REVOKE", "NONE", -1)),
]

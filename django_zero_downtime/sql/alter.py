"""``ALTER TABLE`` actions: what each clause locks and costs, given what came before."""

from __future__ import annotations

from dataclasses import replace

from django_zero_downtime.sql import columns, parse
from django_zero_downtime.sql.classify import AE, SRE, SUE, Action, Impact, merge
from django_zero_downtime.sql.parse import Parsed, Tok
from django_zero_downtime.sql.state import Schema, not_null_column
from django_zero_downtime.sql.types import type_change

_CONSTRAINT_WORDS = {"CONSTRAINT", "CHECK", "FOREIGN", "UNIQUE", "PRIMARY", "EXCLUDE"}
_SUE_SETS = {"STATISTICS", "WITHOUT", "("}
BREAKS_DROP = "drops a column the previous release selects and inserts"
BREAKS_RENAME_COLUMN = "renames a column the previous release uses"
BREAKS_RENAME_TABLE = "renames a table the previous release uses"
BREAKS_NOT_NULL = "a NOT NULL column without a default: the previous release's INSERTs omit it"


def alter_table(statement: Parsed, schema: Schema) -> Impact:
    toks = statement.toks
    table, i = parse.qualified_name(toks, 2)
    base = Impact(statement.sql, kind="ALTER TABLE", table=table, lock=AE, text=statement.text)
    if table is None:
        return replace(base, lock="unknown")
    actions = [_action(table, part, schema) for part in parse.split_commas(list(toks[i:]))]
    return merge(base, actions)


def _action(table: str, toks: list[Tok], schema: Schema) -> Action:
    words = [t.up for t in toks]
    text = parse.text(toks)
    head = words[0] if words else ""
    if head == "ADD" and len(words) > 1 and words[1] in _CONSTRAINT_WORDS:
        return add_constraint(table, toks, schema, text)
    if head == "ADD":
        start = 2 if words[1:2] == ["COLUMN"] else 1
        return columns.add_column(table, toks, start, schema, text)
    if head == "DROP":
        return _drop(toks, words, text)
    if head == "ALTER" and words[1:2] == ["CONSTRAINT"]:
        return Action("ALTER CONSTRAINT", text=text, name=_name_at(toks, 2))
    if head == "ALTER":
        return _alter_column(table, toks, words, schema, text)
    if head == "VALIDATE":
        return _validate(toks, schema, text)
    if head == "RENAME":
        return _rename(toks, words, text)
    return _table_level(words, text)


def _name_at(toks: list[Tok], at: int) -> str | None:
    return parse.qualified_name(toks, at)[0]


def _drop(toks: list[Tok], words: list[str], text: str) -> Action:
    if words[1:2] == ["CONSTRAINT"]:
        return Action("DROP CONSTRAINT", name=_name_at(toks, 2), text=text)
    start = 2 if words[1:2] == ["COLUMN"] else 1
    return Action("DROP COLUMN", column=_name_at(toks, start), text=text, breaks=BREAKS_DROP)


def _rename(toks: list[Tok], words: list[str], text: str) -> Action:
    if words[1:2] == ["TO"]:
        return Action("RENAME TABLE", name=_name_at(toks, 2), text=text, breaks=BREAKS_RENAME_TABLE)
    if words[1:2] == ["CONSTRAINT"]:
        return Action("RENAME CONSTRAINT", name=_name_at(toks, 2), text=text)
    start = 2 if words[1:2] == ["COLUMN"] else 1
    column, after = parse.qualified_name(toks, start)
    new, _ = parse.qualified_name(toks, after + 1)
    return Action("RENAME COLUMN", column=column, name=new, text=text, breaks=BREAKS_RENAME_COLUMN)


def _validate(toks: list[Tok], schema: Schema, text: str) -> Action:
    return Action(
        "VALIDATE CONSTRAINT", lock=SUE, name=_name_at(toks, 2), text=text, scans=True,
        validates=True,
    )  # fmt: skip


def _table_level(words: list[str], text: str) -> Action:
    """SET TABLESPACE / LOGGED / UNLOGGED / ACCESS METHOD rewrite; triggers take SRE; ..."""
    head2 = " ".join(words[:3])
    for rewrite in ("SET TABLESPACE", "SET LOGGED", "SET UNLOGGED", "SET ACCESS METHOD"):
        if head2.startswith(rewrite):
            return Action(rewrite, text=text, rewrites=True)
    if words[:1] in (["ENABLE"], ["DISABLE"]) and "TRIGGER" in words:
        return Action("ENABLE/DISABLE TRIGGER", lock=SRE, text=text)
    if words[:2] == ["SET", "SCHEMA"]:
        return Action("SET SCHEMA", text=text, breaks="moves the table out of the schema in use")
    if (words[:1] == ["SET"] and words[1:2] and words[1] in _SUE_SETS) or words[:1] in (
        ["RESET"],
        ["CLUSTER"],
    ):
        return Action(" ".join(words[:2]), lock=SUE, text=text)
    if words[:1] in (["SET"], ["RESET"]) and text.upper().startswith(("SET(", "RESET(")):
        return Action("SET STORAGE PARAMETERS", lock=SUE, text=text)
    return Action(" ".join(words[:2]).strip() or "ALTER", text=text)


def _alter_column(
    table: str, toks: list[Tok], words: list[str], schema: Schema, text: str
) -> Action:
    start = 2 if words[1:2] == ["COLUMN"] else 1
    column, i = parse.qualified_name(toks, start, skip=False)
    rest = words[i:]
    base = Action("ALTER COLUMN", column=column, text=text)
    if column is None:
        return base
    if rest[:1] == ["TYPE"] or rest[:3] == ["SET", "DATA", "TYPE"]:
        return _type(table, column, toks[i + rest.index("TYPE") + 1 :], schema, base)
    if rest[:3] == ["SET", "NOT", "NULL"]:
        proved = schema.proves_not_null(table, column) or schema.column(table, column).null is False
        return replace(base, kind="SET NOT NULL", scans=not proved)
    if rest[:2] == ["SET", "DEFAULT"]:
        return replace(base, kind="SET DEFAULT", default=parse.text(toks[i + 2 :]))
    if rest[:2] in (["DROP", "DEFAULT"], ["DROP", "IDENTITY"]):
        return replace(base, kind=f"DROP {rest[1]}")
    if rest[:3] == ["DROP", "NOT", "NULL"]:
        return replace(base, kind="DROP NOT NULL")
    if rest[:2] == ["SET", "STATISTICS"] or (rest[:1] == ["SET"] and rest[1:2] == [""]):
        return replace(base, kind="SET STATISTICS", lock=SUE)
    if text.upper().endswith(")") and rest[:1] in (["SET"], ["RESET"]) and "(" in text:
        return replace(base, kind="SET ATTRIBUTE OPTIONS", lock=SUE)
    if rest[:1] == ["ADD"] and "IDENTITY" in rest:
        return replace(base, kind="ADD IDENTITY")
    return replace(base, kind=f"ALTER COLUMN {' '.join(w for w in rest[:2] if w)}".strip())


def _type(table: str, column: str, toks: list[Tok], schema: Schema, base: Action) -> Action:
    words = parse.top_level(toks)
    end = next((k for k, w in enumerate(words) if w in ("USING", "COLLATE")), len(toks))
    new_type = parse.text(toks[:end])
    old_type = schema.column(table, column).type
    action = replace(base, kind="ALTER COLUMN TYPE", new_type=new_type, old_type=old_type)
    if "USING" in words and not _plain_cast(toks[words.index("USING") + 1 :], column, new_type):
        return replace(action, rewrites=True)
    if old_type is None:
        return replace(action, rewrites=not columns.may_widen(new_type))
    change = type_change(old_type, new_type, utc=schema.utc and schema.version >= 12)
    return replace(action, rewrites=change.rewrites, builds_index=change.rebuilds_indexes)


def _plain_cast(using: list[Tok], column: str, new_type: str) -> bool:
    """``USING col`` or ``USING col::new_type``: PostgreSQL's own default conversion."""
    if not using or not parse.is_name(using[0]) or using[0].ident != column:
        return False
    rest = parse.text(using[1:]).replace(" ", "").lower()
    return rest in ("", "::" + new_type.replace(" ", "").lower())


def add_constraint(table: str, toks: list[Tok], schema: Schema, text: str) -> Action:
    words = [t.up for t in toks]
    name = _name_at(toks, 2) if words[1] == "CONSTRAINT" else None
    at = 3 if name else 1
    kind_words = words[at : at + 2]
    kind = " ".join(kind_words) if kind_words[:1] in (["FOREIGN"], ["PRIMARY"]) else words[at]
    if kind == "NOT":
        kind = "NOT NULL"
    not_valid = words[-2:] == ["NOT", "VALID"]
    base = Action("ADD CONSTRAINT", name=name, constraint=kind, text=text, not_valid=not_valid)
    if kind == "CHECK":
        return _check(base, toks, at + 1, not_valid)
    if kind == "FOREIGN KEY":
        return _foreign_key(base, toks, not_valid)
    if kind == "NOT NULL":
        column = _name_at(toks, at + 2)
        proved = schema.proves_not_null(table, column or "")
        return replace(base, column=column, scans=not (not_valid or proved))
    if "USING" in words and "INDEX" in words:
        return replace(base, using_index=True)
    if kind == "PRIMARY KEY":
        inner, _ = parse.paren_group(toks, words.index("KEY") + 1)
        names = [t.ident for t in inner if parse.is_name(t)]
        nullable = any(schema.column(table, name).null is not False for name in names)
        return replace(base, builds_index=True, scans=nullable)
    return replace(base, builds_index=True)


def _check(base: Action, toks: list[Tok], at: int, not_valid: bool) -> Action:
    inner, _ = parse.paren_group(toks, at)
    check = parse.text(inner)
    return replace(
        base, default=check, column=not_null_column(check), scans=not not_valid,
        validates=not not_valid,
    )  # fmt: skip


def _foreign_key(base: Action, toks: list[Tok], not_valid: bool) -> Action:
    words = [t.up for t in toks]
    references = None
    if "REFERENCES" in words:
        references, _ = parse.qualified_name(toks, words.index("REFERENCES") + 1)
    inner, _ = parse.paren_group(toks, words.index("KEY") + 1) if "KEY" in words else ([], 0)
    column = inner[0].ident if len(inner) == 1 and parse.is_name(inner[0]) else None
    return replace(
        base, lock=SRE, references=references, column=column, scans=not not_valid,
        validates=not not_valid,
    )  # fmt: skip

"""SQL of a type change: the cast trigger (expand) and the swap (contract).

The trigger is built on the dual-write trigger's template (``triggers.py``: named ``zdt_*``,
so pgtrigger never prunes it, and never in the model state). The swap is one ``DO`` block,
so it runs in one transaction under the runner's ``lock_timeout``: the locks are taken
first, every step is a catalog change, and nothing scans a table.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django_zero_downtime.operations.triggers import DualWriteTrigger
from django_zero_downtime.sql.identifiers import quote_ident, quote_literal, zdt_name

if TYPE_CHECKING:
    from django_zero_downtime.operations.retype import Target

_BOUNDED = re.compile(r"^(?:varchar|character varying|char|character)\((\d+)\)")
_NUMERIC = re.compile(r"^(?:numeric|decimal)\((\d+),\s*(\d+)\)")
_RANGES = {"smallint": 2**15, "integer": 2**31}


def _too_big(value: str, sql_type: str) -> tuple[str, str] | None:
    """(PL/pgSQL condition, SQLSTATE) true when ``value`` does not fit ``sql_type`` where
    an explicit cast would change it silently (truncate, round) or fail without naming the
    column (out of range); None when every value fits or the cast says it itself."""
    bounded, numeric = _BOUNDED.match(sql_type), _NUMERIC.match(sql_type)
    if bounded:
        return f"char_length({value}) > {int(bounded.group(1))}", "22001"
    if numeric:
        digits, scale = int(numeric.group(1)), int(numeric.group(2))
        limit = f"abs({value}) >= 10::numeric ^ {digits - scale}"
        return f"({limit} OR {value} <> round({value}, {scale}))", "22003"
    if sql_type in _RANGES:
        bound = _RANGES[sql_type]
        return f"({value} >= {bound} OR {value} < -{bound})", "22003"
    return None


def fit_check(column: str, new_type: str, into: str = "", why: str = "") -> str:
    """PL/pgSQL refusing a value of ``NEW.column`` that does not fit ``new_type``, with a
    message naming the column, the value and the type (see :func:`_too_big`)."""
    qc = quote_ident(column)
    found = _too_big(f"NEW.{qc}", new_type)
    if found is None:
        return ""
    condition, state = found
    why = why or "the type this column is being changed to (django-zero-downtime RetypeField)"
    message = (
        f"%s.{column}: the value %s does not fit {new_type}{into}, {why}; write a value "
        f"that fits {new_type}"
    )
    return (
        f"IF {condition} THEN\n"
        f"    RAISE EXCEPTION USING ERRCODE = '{state}', MESSAGE = format("
        f"{quote_literal(message)}, TG_TABLE_NAME, left(NEW.{qc}::text, 40));\nEND IF;\n"
    )


FUNC = """IF (TG_OP = 'INSERT' AND NEW.{new} IS NULL)
   OR (TG_OP = 'UPDATE' AND NEW.{new} IS NOT DISTINCT FROM OLD.{new}) THEN
{to_new}    NEW.{new} := NEW.{old}::{new_type};
ELSE
{to_old}    NEW.{old} := NEW.{new}::{old_type};
END IF;
RETURN NEW;
"""


class RetypeTrigger(DualWriteTrigger):
    """BEFORE INSERT OR UPDATE, both ways: a write of the column (the previous release)
    sets the shadow, cast; a write of the shadow sets the column, cast back. The backfill's
    ``SET shadow = NULL`` leaves the shadow unchanged, so it is the first way."""

    name = "zdt_retype"

    def __init__(
        self, *, table: str, old_column: str, new_column: str, new_type: str, old_type: str = ""
    ) -> None:
        self.new_type = new_type
        self.old_type = old_type
        super().__init__(table=table, old_column=old_column, new_column=new_column)

    @classmethod
    def of(cls, target: Target) -> RetypeTrigger:
        return cls(
            table=target.table,
            old_column=target.column,
            new_column=target.shadow,
            new_type=target.new_type,
            old_type=target.old_type,
        )

    def get_pgid(self, model: object = None) -> str:
        return zdt_name("rt", self.table, self.old_column, self.new_column)

    def get_func(self, model: object = None) -> str:
        qc, qs = quote_ident(self.old_column), quote_ident(self.new_column)
        to_new = fit_check(self.old_column, self.new_type)
        if not self.old_type:  # a trigger of the one-way version (no old type known)
            return f"{to_new}NEW.{qs} := NEW.{qc}::{self.new_type};\nRETURN NEW;\n"
        why = f"the type of {self.old_column} that the previous release still uses"
        to_old = fit_check(self.new_column, self.old_type, f" (into {self.old_column})", why)
        return FUNC.format(
            old=qc,
            new=qs,
            new_type=self.new_type,
            old_type=self.old_type,
            to_new=_indent(to_new),
            to_old=_indent(to_old),
        )


def _indent(block: str) -> str:
    return "".join(f"    {line}\n" for line in block.splitlines())


def _fmt(template: str) -> str:
    """A ``format()`` template literal: names in it are already quoted, ``%`` doubled."""
    return quote_literal(template)


def _name(name: str) -> str:
    return quote_ident(name).replace("%", "%%")


def _regclass(table: str) -> str:
    return f"{quote_literal(quote_ident(table))}::regclass"


def _attnum(table: str, column: str) -> str:
    return (
        f"(SELECT attnum FROM pg_attribute WHERE attrelid = {_regclass(table)} "
        f"AND attname = {quote_literal(column)})"
    )


def _drop_constraints(target: Target) -> str:
    """Drop foreign keys pointing at the column and its own PK/unique/FK constraints,
    remembering the foreign keys and the PK and unique names to re-create them."""
    rel, num = _regclass(target.table), _attnum(target.table, target.column)
    return f"""
  FOR r IN SELECT oid, conname, conrelid::regclass AS rel FROM pg_constraint
           WHERE contype = 'f' AND ((confrelid = {rel} AND confkey = ARRAY[{num}])
              OR (conrelid = {rel} AND conkey = ARRAY[{num}])) LOOP
    fks := fks || format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', r.rel, r.conname,
                         pg_get_constraintdef(r.oid));
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.rel, r.conname);
  END LOOP;
  pk_name := NULL; uq_name := NULL;
  FOR r IN SELECT conname, contype FROM pg_constraint WHERE conrelid = {rel}
           AND contype IN ('p', 'u') AND conkey = ARRAY[{num}] LOOP
    IF r.contype = 'p' THEN pk_name := r.conname; ELSE uq_name := r.conname; END IF;
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', {rel}, r.conname);
  END LOOP;"""


def _move_generator(target: Target) -> str:
    """Identity, or a sequence default, or a plain default, from the old to the new column."""
    qt, qc, qo = (quote_ident(n) for n in (target.table, target.column, target.old))
    table, column = quote_literal(qt), quote_literal(target.column)
    as_bigint = f"EXECUTE format({_fmt('ALTER SEQUENCE %s AS bigint')}, seq);"
    as_bigint = as_bigint if target.new_type == "bigint" else ""
    at = f"ALTER TABLE {_name(target.table)} ALTER COLUMN {_name(target.column)}"
    identity = _fmt(f"{at} ADD GENERATED %s AS IDENTITY")
    default = _fmt(f"{at} SET DEFAULT %s")
    owned_by = _fmt(f"ALTER SEQUENCE %s OWNED BY {_name(target.table)}.{_name(target.column)}")
    return f"""
  SELECT attidentity INTO ident FROM pg_attribute
   WHERE attrelid = {_regclass(target.table)} AND attname = {column};
  SELECT pg_get_expr(d.adbin, d.adrelid) INTO def FROM pg_attrdef d
   WHERE d.adrelid = {_regclass(target.table)} AND d.adnum = {_attnum(target.table, target.column)};
  seq := pg_get_serial_sequence({table}, {column});
  IF seq IS NOT NULL THEN
    EXECUTE format('SELECT last_value, is_called FROM %s', seq) INTO last, called;
  END IF;
  ALTER TABLE {qt} RENAME COLUMN {qc} TO {qo};
  ALTER TABLE {qt} RENAME COLUMN {quote_ident(target.shadow)} TO {qc};
  IF ident IN ('a', 'd') THEN
    ALTER TABLE {qt} ALTER COLUMN {qo} DROP IDENTITY;
    EXECUTE format({identity}, CASE ident WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END);
    PERFORM setval(pg_get_serial_sequence({table}, {column}), last, called);
  ELSIF def IS NOT NULL THEN
    ALTER TABLE {qt} ALTER COLUMN {qo} DROP DEFAULT;
    EXECUTE format({default}, def);
    IF seq IS NOT NULL THEN
      EXECUTE format({owned_by}, seq);
      {as_bigint}
    END IF;
  END IF;
  ALTER TABLE {qt} ALTER COLUMN {qo} DROP NOT NULL;"""


def _attach(target: Target) -> str:
    unique_index = quote_literal(target.index_name("u"))
    renames = "".join(
        f"""
  IF to_regclass({quote_literal(quote_ident(django))}) IS NOT NULL THEN
    ALTER INDEX {quote_ident(django)} RENAME TO {quote_ident(zdt_name("rtold", django))};
  END IF;
  ALTER INDEX {quote_ident(new)} RENAME TO {quote_ident(django)};"""
        for new, django in target.index_names
    )
    add = f"ALTER TABLE {_name(target.table)} ADD CONSTRAINT %I"
    primary, unique = (
        _fmt(f"{add} PRIMARY KEY USING INDEX %I"),
        _fmt(f"{add} UNIQUE USING INDEX %I"),
    )
    return f"""
  IF pk_name IS NOT NULL THEN
    EXECUTE format({primary}, pk_name, {unique_index});
  END IF;
  IF uq_name IS NOT NULL THEN
    EXECUTE format({unique}, uq_name, {unique_index});
  END IF;{renames}"""


def swap_sql(found: list[Target], composites: str = "") -> str:
    """One DO block: lock every table, drop the triggers, swap each column, give the
    multi-column indexes their place (``composites``, from ``retype_multi``), re-point FKs."""
    # Referencing tables first, the key's table last: a client's write to a child locks it
    # and then (its foreign key check) the parent, so the other order can deadlock with it.
    names = list(dict.fromkeys(quote_ident(t.table) for t in found))
    body = [f"\n  LOCK TABLE {', '.join(reversed(names))} IN ACCESS EXCLUSIVE MODE;"]
    for target in found:  # the primary key first: it drops the foreign keys pointing at it
        uninstall = RetypeTrigger.of(target).uninstall_sql.replace("; ", ";\n  ")
        body += [f"\n  {uninstall}", _drop_constraints(target)]
        body += [_move_generator(target), _attach(target)]
    # The foreign keys as they were (names, ON DELETE, deferrable): their column names now
    # name the new columns. NOT VALID here; validated one by one after the swap.
    body.append(composites)
    body.append("\n  FOREACH stmt IN ARRAY fks LOOP EXECUTE stmt; END LOOP;")
    declare = (
        'r record; pk_name text; uq_name text; ident "char"; def text; seq text; '
        "last bigint; called boolean; stmt text; fks text[] := '{}';"
    )
    return f"DO $zdt_swap$\nDECLARE {declare}\nBEGIN{''.join(body)}\nEND\n$zdt_swap$;"

"""The dual-write trigger that keeps an old and a new column equal during a rename.

Built on django-pgtrigger (its install template, its ``pgtrigger.ignore`` support), but:

- named ``zdt_dw_<hash>``, not ``pgtrigger_*``, so ``pgtrigger install`` / ``prune`` never
  see it as an orphan and never drop it;
- never registered on a model and never put in the migration state's ``triggers`` option,
  so pgtrigger's autodetector does not compare it and ``makemigrations`` never removes it.
  The migration operation that installs it is the only owner.

Semantics (a BEFORE ROW trigger, so it runs before NOT NULL checks):

- INSERT: the new column has no default while dual-writing, so a non-NULL value there was set
  by the writer and wins; otherwise the old column's value is copied into the new one.
- UPDATE: the column whose value changed wins; when neither changed, the new column is
  healed from the old (this is what the backfill's no-op update relies on).

Both are one test: ``OLD`` is NULL in an INSERT trigger (PostgreSQL 11+), so "the new column
differs from ``OLD``'s" is "the writer set it" there. The common path is that one test and
one assignment, the cost of a minimal one-assignment trigger (benchmarks/trigger_overhead.py).
"""

from __future__ import annotations

import pgtrigger
from pgtrigger import compiler

from django_zero_downtime.sql.identifiers import quote_ident, zdt_name

FUNC_TEMPLATE = """
IF NEW.{new} IS DISTINCT FROM OLD.{new} THEN
    NEW.{old} := NEW.{new};
ELSE
    NEW.{new} := NEW.{old};
END IF;
RETURN NEW;
"""


class DualWriteTriggerSql(compiler.UpsertTriggerSql):
    """pgtrigger's installation SQL with a cheaper ``pgtrigger.ignore`` check.

    pgtrigger's own template calls ``_pgtrigger_should_ignore()``, which reads the setting
    inside an EXCEPTION block: a subtransaction on every row, most of the trigger's cost.
    Here it is one ``strpos`` on ``current_setting(name, true)`` (NULL when unset, never an
    error), with no cast to an array: the trigger is off while its name is in the setting,
    as with ``pgtrigger.ignore()`` and the backfill's bypass. Names are
    ``zdt_<kind>_<12 hex digits>``, so one cannot contain another. Not a ``WHEN`` clause:
    PostgreSQL parses and prepares a trigger's ``WHEN`` for every statement, which costs
    single-row writes more than the check itself.
    """

    def get_template(self) -> str:
        return """
            CREATE OR REPLACE FUNCTION {pgid}()
            RETURNS TRIGGER AS $$
                BEGIN
                    IF strpos(current_setting('pgtrigger.ignore', true), '{pgid}') > 0 THEN
                        RETURN NEW;
                    END IF;
                    {func}
                END;
            $$ LANGUAGE plpgsql;

            DROP TRIGGER IF EXISTS {pgid} ON {table};
            CREATE TRIGGER {pgid}
                {when} {operation} ON {table}
                FOR EACH {level}
                EXECUTE PROCEDURE {execute};

            COMMENT ON TRIGGER {pgid} ON {table} IS '{hash}';
        """


def dual_write_pgid(table: str, old_column: str, new_column: str) -> str:
    """Name of the trigger and of its function: ``zdt_dw_`` + a hash of the three names."""
    return zdt_name("dw", table, old_column, new_column)


class DualWriteTrigger(pgtrigger.Trigger):
    """A pgtrigger trigger bound to one table and column pair rather than to a model."""

    name = "zdt_dual_write"
    when = pgtrigger.Before
    operation = pgtrigger.Insert | pgtrigger.Update

    def __init__(self, *, table: str, old_column: str, new_column: str) -> None:
        self.table = table
        self.old_column = old_column
        self.new_column = new_column
        super().__init__()

    def get_pgid(self, model: object = None) -> str:
        return dual_write_pgid(self.table, self.old_column, self.new_column)

    def get_func(self, model: object = None) -> str:
        return FUNC_TEMPLATE.format(
            old=quote_ident(self.old_column), new=quote_ident(self.new_column)
        )

    def compile(self, model: object = None) -> compiler.Trigger:
        """Compile without a model; the table is passed already quoted (pgtrigger keeps it)."""
        return compiler.Trigger(
            name=self.name,
            sql=DualWriteTriggerSql(
                pgid=self.get_pgid(),
                func=self.get_func(),
                table=quote_ident(self.table),
                when=self.when,
                operation=self.operation,
            ),
        )

    @property
    def install_sql(self) -> str:
        return self.compile().install_sql

    @property
    def uninstall_sql(self) -> str:
        pgid = self.get_pgid()
        table = quote_ident(self.table)
        return f"DROP TRIGGER IF EXISTS {pgid} ON {table}; DROP FUNCTION IF EXISTS {pgid}();"


def installed_dual_write_triggers(cursor: object, table: str) -> list[str]:
    """Names of ``zdt_dw_*`` triggers on ``table`` (for tests and reports)."""
    cursor.execute(  # type: ignore[attr-defined]
        "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%s) "
        "AND tgname LIKE 'zdt\\_dw\\_%%' ORDER BY tgname",
        [quote_ident(table)],
    )
    return [row[0] for row in cursor.fetchall()]  # type: ignore[attr-defined]

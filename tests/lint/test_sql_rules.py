"""SQL rules (ZDT2xx) over raw SQL: case, comments, several statements, literals."""

from __future__ import annotations

import pytest
from django.db import migrations

from django_zero_downtime.lint.collect import offline_connection
from django_zero_downtime.lint.engine import Linter, LintError, LintResult
from django_zero_downtime.lint.rules.sql import SqlScope, check_sql, clean_statements
from tests.lint.helpers import codes, initial_operations, lint, make_migration


def run_plan(later: list[migrations.Migration], selected: set[tuple[str, str]]) -> LintResult:
    connection = offline_connection("default")
    plan = [make_migration("0001_initial", initial_operations()), *later]
    return Linter(connection).run(plan, selected)


def sql_codes(sql: str, atomic: bool = True, new_tables: set[str] | None = None) -> list[str]:
    scope = SqlScope(atomic=atomic, new_tables=set(new_tables or ()))
    return [violation.code for violation in check_sql(sql, scope)]


def test_clean_statements_drops_comments_and_blanks_literals() -> None:
    sql = """-- a comment; DROP TABLE x
    alter   table "T" add column c text default 'a; DROP TABLE y' ; /* DROP DATABASE z */
    create function f() returns int as $$ begin drop table w; end $$ language plpgsql;"""
    statements = clean_statements(sql)
    assert statements[0] == "alter table \"T\" add column c text default ''"
    assert "drop table" not in statements[1].lower()
    assert len(statements) == 2


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("ALTER TABLE shop_item DROP COLUMN note", ["ZDT201"]),
        ("alter table only public.shop_item drop note cascade", ["ZDT201"]),
        ('ALTER TABLE "shop_item" RENAME COLUMN note TO remark', ["ZDT202"]),
        ("ALTER TABLE shop_item RENAME TO shop_items", ["ZDT204"]),
        ("DROP TABLE IF EXISTS shop_item, shop_tag CASCADE", ["ZDT203", "ZDT203"]),
        ("ALTER TABLE shop_item ALTER COLUMN count TYPE bigint", ["ZDT205"]),
        ("ALTER TABLE shop_item ALTER COLUMN name SET NOT NULL", ["ZDT206"]),
        ("ALTER TABLE shop_item ADD COLUMN n int NOT NULL", ["ZDT207"]),
        ("ALTER TABLE shop_item ADD COLUMN n uuid DEFAULT gen_random_uuid()", ["ZDT208"]),
        ("ALTER TABLE shop_item ADD COLUMN n bigserial", ["ZDT208"]),
        ("CREATE INDEX i ON shop_item (name)", ["ZDT209"]),
        ("create unique index if not exists i on shop_item using btree (name)", ["ZDT209"]),
        ("ALTER TABLE shop_item ADD CONSTRAINT c CHECK (count >= 0)", ["ZDT210"]),
        ("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id)", ["ZDT210"]),
        ("ALTER TABLE shop_item ADD CONSTRAINT u UNIQUE (name)", ["ZDT210"]),
        ("DROP INDEX i", ["ZDT211"]),
        ("LOCK TABLE shop_item IN ACCESS EXCLUSIVE MODE", ["ZDT212"]),
        ("VACUUM (FULL, ANALYZE) shop_item", ["ZDT213", "ZDT302"]),
        ("CLUSTER shop_item USING i", ["ZDT213"]),
        ("REINDEX TABLE shop_item", ["ZDT213"]),
        ("ALTER TABLE shop_item SET TABLESPACE fast", ["ZDT213"]),
        ("DROP DATABASE prod", ["ZDT214"]),
        ("CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql", ["ZDT215"]),
        ("ALTER FUNCTION f() RENAME TO g", ["ZDT215"]),
        ("DROP PROCEDURE p", ["ZDT215"]),
    ],
)
def test_dangerous_sql_is_flagged(sql: str, expected: list[str]) -> None:
    assert sql_codes(sql) == expected


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE shop_item ADD COLUMN n int",
        "ALTER TABLE shop_item ADD COLUMN n int DEFAULT 0 NOT NULL",
        "ALTER TABLE shop_item ADD COLUMN n timestamptz DEFAULT now()",
        "ALTER TABLE shop_item ALTER COLUMN name TYPE varchar(200)",
        "ALTER TABLE shop_item ALTER COLUMN name DROP NOT NULL",
        "ALTER TABLE shop_item DROP CONSTRAINT c",
        "ALTER TABLE shop_item ADD CONSTRAINT c CHECK (count >= 0) NOT VALID",
        "ALTER TABLE shop_item ADD CONSTRAINT u UNIQUE USING INDEX i",
        "ALTER TABLE shop_item RENAME CONSTRAINT a TO b",
        "CREATE FUNCTION f_v2() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql",
        "SELECT 1; -- DROP TABLE shop_item",
        "CREATE TABLE shop_new (id int); CREATE INDEX i ON shop_new (id); "
        "ALTER TABLE shop_new ADD COLUMN x int NOT NULL; DROP TABLE shop_new",
    ],
)
def test_safe_sql_is_not_flagged(sql: str) -> None:
    assert sql_codes(sql) == []


def test_concurrently_is_safe_outside_a_transaction_only() -> None:
    sql = "CREATE INDEX CONCURRENTLY i ON shop_item (name); DROP INDEX CONCURRENTLY j"
    assert sql_codes(sql, atomic=False) == []
    assert sql_codes(sql, atomic=True) == ["ZDT302", "ZDT302"]
    assert sql_codes("REINDEX INDEX CONCURRENTLY i", atomic=True) == ["ZDT302"]
    assert sql_codes("VACUUM ANALYZE shop_item", atomic=True) == ["ZDT302"]
    assert sql_codes("VACUUM ANALYZE shop_item", atomic=False) == []


def test_tables_created_earlier_in_the_migration_are_safe() -> None:
    assert sql_codes("ALTER TABLE shop_new DROP COLUMN x", new_tables={"shop_new"}) == []


def test_validate_in_the_transaction_that_added_not_valid() -> None:
    add = "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID"
    validate = "ALTER TABLE t VALIDATE CONSTRAINT c"
    assert sql_codes(f"{add}; {validate}") == ["ZDT304"]
    assert sql_codes(f"{add}; {validate}", atomic=False) == []
    assert sql_codes(validate) == []


def test_run_sql_in_a_migration_list_and_params_forms() -> None:
    operations = [
        migrations.RunSQL(["ALTER TABLE shop_item DROP COLUMN note"]),
        migrations.RunSQL([("UPDATE shop_item SET name = %s", ["x"])]),
    ]
    assert codes(operations) == ["ZDT201", "ZDT301"]


def test_run_sql_rendered_by_the_collector_gives_the_same_verdict() -> None:
    operation = migrations.RunSQL("ALTER TABLE shop_item ALTER COLUMN note SET NOT NULL")
    assert codes([operation], collect=True) == codes([operation]) == ["ZDT206"]


def test_sql_judged_against_the_project_state() -> None:
    """Column facts come from the state: "name" is already NOT NULL (no scan), "price" is
    numeric(8, 2) (more precision at the same scale: no rewrite), and the hint names the
    model and field instead of placeholders."""
    name = "ALTER TABLE shop_item ALTER COLUMN name SET NOT NULL"
    widen = "ALTER TABLE shop_item ALTER COLUMN price TYPE numeric(10, 2)"
    rescale = "ALTER TABLE shop_item ALTER COLUMN price TYPE numeric(10, 3)"
    assert codes([migrations.RunSQL(name), migrations.RunSQL(widen)]) == []
    [finding] = lint([migrations.RunSQL(rescale)])
    assert finding.rule == "ZDT205" and "Item.price" in finding.hint
    [drop] = lint([migrations.RunSQL("ALTER TABLE shop_item DROP COLUMN note")])
    assert 'zdt.DeprecateColumn("Item", "note")' in drop.hint and "<" not in drop.hint


def test_not_null_proof_from_an_earlier_migration() -> None:
    """A CHECK (col IS NOT NULL) validated in an earlier migration lets SET NOT NULL skip the
    scan, as the ZDT106 hint recommends; dropping it brings the scan back."""
    check = "ALTER TABLE shop_item ADD CONSTRAINT item_note_nn CHECK (note IS NOT NULL)"
    set_not_null = "ALTER TABLE shop_item ALTER COLUMN note SET NOT NULL"
    assert codes([migrations.RunSQL(check + " NOT VALID")], atomic=False) == []
    first = make_migration("0002_check", [migrations.RunSQL(check)])
    second = make_migration("0003_not_null", [migrations.RunSQL(set_not_null)])
    result = run_plan([first, second], {("shop", "0003_not_null")})
    assert [f.rule for f in result.findings] == []
    dropped = make_migration(
        "0003_not_null",
        [migrations.RunSQL("ALTER TABLE shop_item DROP CONSTRAINT item_note_nn; " + set_not_null)],
    )
    result = run_plan([first, dropped], {("shop", "0003_not_null")})
    assert [f.rule for f in result.findings] == ["ZDT206"]


def test_drop_default_is_judged_at_the_commit() -> None:
    add = "ALTER TABLE shop_item ADD COLUMN n int DEFAULT 0 NOT NULL"
    drop = "ALTER TABLE shop_item ALTER COLUMN n DROP DEFAULT"
    restore = drop + ", ALTER COLUMN n SET DEFAULT 0"
    assert codes([migrations.RunSQL(add), migrations.RunSQL(drop)]) == ["ZDT217"]
    assert codes([migrations.RunSQL(add), migrations.RunSQL(restore)]) == []
    assert codes([migrations.RunSQL(f"{add}; {drop}")], atomic=False) == ["ZDT217"]


def test_several_alter_table_statements_on_one_table() -> None:
    sql = ";".join(f"ALTER TABLE shop_item ADD COLUMN c{i} int" for i in range(3))
    assert codes([migrations.RunSQL(sql)]) == ["ZDT216"]
    assert codes([migrations.RunSQL(sql.rsplit(";", 1)[0])]) == []
    combined = "ALTER TABLE shop_item ADD COLUMN c1 int, ADD COLUMN c2 int, ADD COLUMN c3 int"
    assert codes([migrations.RunSQL(combined)]) == []


def test_separate_database_and_state_judges_its_database_operations_only() -> None:
    state_only = migrations.SeparateDatabaseAndState(
        state_operations=[migrations.RemoveField("item", "note")]
    )
    assert codes([state_only]) == []
    raw = migrations.SeparateDatabaseAndState(
        database_operations=[migrations.RunSQL("ALTER TABLE shop_item DROP COLUMN note")],
        state_operations=[migrations.RemoveField("item", "note")],
    )
    [finding] = lint([raw])
    assert (finding.rule, finding.operation_index, finding.operation) == ("ZDT201", 0, "RunSQL")


def test_malformed_migration_is_a_clear_error_not_a_traceback() -> None:
    with pytest.raises(LintError, match=r"shop\.0002_change, operation 0 \(RemoveField\)"):
        lint([migrations.RemoveField("item", "no_such_field")])


def test_statements_beyond_sqlparse_grouping_limit_are_read() -> None:
    rows = ",".join(f"({i}, 'x')" for i in range(3000))  # > 10,000 tokens
    sql = f"INSERT INTO shop_log VALUES {rows}; ALTER TABLE shop_item DROP COLUMN note"
    assert sql_codes(sql) == ["ZDT201"]

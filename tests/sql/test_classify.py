"""The one statement classification: kind, table, lock and costs of each statement."""

from __future__ import annotations

import pytest

from django_zero_downtime.sql.classify import classify_sql
from django_zero_downtime.sql.state import Schema


@pytest.mark.parametrize(
    ("sql", "kind", "table", "lock", "flags"),
    [
        ('ALTER TABLE "t" ADD COLUMN "c" integer NULL', "ALTER TABLE ADD COLUMN", "t",
         "ACCESS EXCLUSIVE", {"adds"}),
        ("ALTER TABLE t ADD COLUMN c uuid DEFAULT gen_random_uuid() NOT NULL",
         "ALTER TABLE ADD COLUMN", "t", "ACCESS EXCLUSIVE", {"adds", "rewrites"}),
        ("ALTER TABLE t ADD COLUMN c bigserial", "ALTER TABLE ADD COLUMN", "t",
         "ACCESS EXCLUSIVE", {"adds", "rewrites"}),
        ('ALTER TABLE t ADD COLUMN "stored" integer DEFAULT 1', "ALTER TABLE ADD COLUMN", "t",
         "ACCESS EXCLUSIVE", {"adds"}),
        ("ALTER TABLE t ADD COLUMN c uuid DEFAULT uuid_generate_v1mc()",
         "ALTER TABLE ADD COLUMN", "t", "ACCESS EXCLUSIVE", {"adds", "rewrites"}),
        ('ALTER TABLE "t" DROP COLUMN "c" CASCADE', "ALTER TABLE DROP COLUMN", "t",
         "ACCESS EXCLUSIVE", {"drops"}),
        ('ALTER TABLE "t" ALTER COLUMN "c" TYPE bigint USING "c"::bigint',
         "ALTER TABLE ALTER COLUMN TYPE", "t", "ACCESS EXCLUSIVE", {"rewrites"}),
        ('ALTER TABLE "t" ALTER COLUMN "c" SET NOT NULL', "ALTER TABLE SET NOT NULL", "t",
         "ACCESS EXCLUSIVE", {"scans"}),
        ('ALTER TABLE "t" ALTER COLUMN "c" DROP NOT NULL', "ALTER TABLE DROP NOT NULL",
         "t", "ACCESS EXCLUSIVE", set()),
        ("ALTER TABLE t ADD CONSTRAINT k CHECK (a > 0)", "ALTER TABLE ADD CONSTRAINT", "t",
         "ACCESS EXCLUSIVE", {"scans"}),
        ("ALTER TABLE t ADD CONSTRAINT k CHECK (a > 0) NOT VALID",
         "ALTER TABLE ADD CONSTRAINT", "t", "ACCESS EXCLUSIVE", set()),
        ("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES p (id)",
         "ALTER TABLE ADD CONSTRAINT", "t", "SHARE ROW EXCLUSIVE", {"scans"}),
        ("ALTER TABLE t VALIDATE CONSTRAINT k", "ALTER TABLE VALIDATE CONSTRAINT", "t",
         "SHARE UPDATE EXCLUSIVE", {"scans"}),
        ('CREATE INDEX "i" ON "t" ("a")', "CREATE INDEX", "t", "SHARE", {"scans"}),
        ('CREATE UNIQUE INDEX CONCURRENTLY "i" ON public."t" ("a")', "CREATE INDEX", "t",
         "SHARE UPDATE EXCLUSIVE", {"scans", "concurrent"}),
        ('DROP INDEX CONCURRENTLY IF EXISTS "i"', "DROP INDEX", None,
         "SHARE UPDATE EXCLUSIVE", {"concurrent"}),
        ('DROP TABLE "t" CASCADE', "DROP TABLE", "t", "ACCESS EXCLUSIVE", {"drops"}),
        ('CREATE TABLE "n" ("id" bigint)', "CREATE TABLE", "n", "ACCESS EXCLUSIVE",
         {"creates_table"}),
        ("LOCK TABLE t IN SHARE ROW EXCLUSIVE MODE", "LOCK TABLE", "t", "SHARE ROW EXCLUSIVE",
         set()),
        ("CREATE TRIGGER zdt_x AFTER UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f()",
         "CREATE TRIGGER", "t", "SHARE ROW EXCLUSIVE", set()),
        ("UPDATE t SET a = 1 WHERE id < 1000", "UPDATE", "t", "ROW EXCLUSIVE", set()),
        ("VACUUM FULL t", "VACUUM FULL", "t", "ACCESS EXCLUSIVE", {"rewrites", "concurrent"}),
        ("frobnicate everything", "FROBNICATE", None, "unknown", set()),
    ],
)  # fmt: skip
def test_classifier(sql: str, kind: str, table: str | None, lock: str, flags: set[str]) -> None:
    (impact,) = classify_sql(sql)
    assert (impact.kind, impact.table, impact.lock) == (kind, table, lock)
    names = ("rewrites", "scans", "drops", "adds", "concurrent", "creates_table")
    assert {name for name in names if getattr(impact, name)} == flags


def test_classifier_merges_several_actions_and_skips_comments() -> None:
    sql = "-- comment\nALTER TABLE t ADD COLUMN a int, DROP COLUMN b; ; SELECT 1;"
    first, second = classify_sql(sql)
    assert first.adds and first.drops and first.lock == "ACCESS EXCLUSIVE"
    assert second.kind == "SELECT"


def test_judged_means_rewrite_strong_scan_drop_or_add() -> None:
    judged = {s: classify_sql(s)[0].judged for s in (
        "CREATE INDEX i ON t (a)", "CREATE INDEX CONCURRENTLY i ON t (a)",
        "ALTER TABLE t VALIDATE CONSTRAINT k", "ALTER TABLE t ALTER COLUMN c SET DEFAULT 1",
        "ALTER TABLE t ADD COLUMN c int", "CREATE TABLE n (id int)",
    )}  # fmt: skip
    assert [k for k, v in judged.items() if v] == [
        "CREATE INDEX i ON t (a)", "ALTER TABLE t ADD COLUMN c int"
    ]  # fmt: skip


def test_type_change_records_the_new_type() -> None:
    (impact,) = classify_sql('ALTER TABLE "t" ALTER COLUMN "c" TYPE varchar(50);')
    assert impact.type_changes == (("c", "varchar(50)"),)


def test_validated_not_null_check_proves_set_not_null_across_statements() -> None:
    schema = Schema()
    classify_sql('ALTER TABLE t ADD CONSTRAINT k CHECK ("a" IS NOT NULL) NOT VALID', schema)
    (before,) = classify_sql("ALTER TABLE t ALTER COLUMN a SET NOT NULL", schema)
    classify_sql("ALTER TABLE t VALIDATE CONSTRAINT k", schema)
    (after,) = classify_sql("ALTER TABLE t ALTER COLUMN a SET NOT NULL", schema)
    assert before.scans and not after.scans


def test_dropped_default_breaks_old_inserts_unless_restored_before_the_commit() -> None:
    schema = Schema()
    classify_sql("ALTER TABLE t ADD COLUMN n int DEFAULT 0 NOT NULL", schema)
    classify_sql("ALTER TABLE t ALTER COLUMN n DROP DEFAULT", schema)
    assert [key for key, _ in schema.end_transaction()] == [("t", "n")]
    classify_sql("ALTER TABLE t ALTER COLUMN n DROP DEFAULT", schema)
    classify_sql("ALTER TABLE t ALTER COLUMN n SET DEFAULT 1", schema)
    assert schema.end_transaction() == []


@pytest.mark.parametrize(
    ("sql", "facts"),
    [
        ("ALTER TABLE t ADD COLUMN c int CHECK (c > 0)", {"scans", "validates"}),
        ("ALTER TABLE t ADD COLUMN c int UNIQUE", {"builds_index"}),
        ("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT clock_timestamp()", {"rewrites"}),
        ("ALTER TABLE t ADD COLUMN p int REFERENCES p (id)", set()),
        ("ALTER TABLE t SET LOGGED", {"rewrites"}),
        ("ALTER TABLE t SET ACCESS METHOD heap", {"rewrites"}),
        ("ALTER TABLE t ALTER COLUMN c TYPE numeric(10, 2)", set()),
    ],
)
def test_costs(sql: str, facts: set[str]) -> None:
    (impact,) = classify_sql(sql)
    names = ("rewrites", "scans", "validates", "builds_index")
    assert {name for name in names if getattr(impact, name)} == facts

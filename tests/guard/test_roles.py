"""zdt.W020 on real PostgreSQL roles: superuser, table owner, inherited owner, DML-only.

Roles are created inside the test's transaction (CREATE ROLE is transactional), so they
vanish on rollback; their names carry a hash of the checkout so parallel checkouts sharing
one server do not collide. ``SET ROLE`` makes the test connection act as each role.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import ProgrammingError, connection, transaction
from django.test import override_settings

from django_zero_downtime import checks
from django_zero_downtime.guard.roles import RoleFacts, role_facts, role_finding, two_roles_sql

SUFFIX = hashlib.sha1(str(Path(__file__).resolve().parents[2]).encode()).hexdigest()[:8]
OWNER = f"zdt_t_{SUFFIX}_owner"
APP = f"zdt_t_{SUFFIX}_app"
HEIR = f"zdt_t_{SUFFIX}_heir"


def execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


@pytest.fixture
def roles(db: None) -> Iterator[None]:
    execute(f"CREATE ROLE {OWNER} NOLOGIN; CREATE ROLE {APP} NOLOGIN")
    execute(f"CREATE ROLE {HEIR} NOLOGIN IN ROLE {OWNER}")
    execute(f"ALTER TABLE people_person OWNER TO {OWNER}")
    execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON people_person TO {APP}")
    try:
        yield
    finally:
        execute("RESET ROLE")


def act_as(role: str) -> RoleFacts:
    execute(f"SET ROLE {role}")
    return role_facts(connection)


def test_superuser_can_run_ddl(db: None) -> None:
    facts = role_facts(connection)
    assert facts.superuser
    assert facts.can_run_ddl


def test_owner_and_inheriting_member_can_run_ddl_dml_role_cannot(roles: None) -> None:
    owner = act_as(OWNER)
    assert (owner.superuser, owner.owned_tables) == (False, ("people_person",))
    heir = act_as(HEIR)
    assert heir.owned_tables == ("people_person",)
    app = act_as(APP)
    assert app == RoleFacts(APP, False, False, ())
    assert not app.can_run_ddl


def test_check_warns_for_the_owner_role_in_production(roles: None) -> None:
    act_as(OWNER)
    with override_settings(ZDT_PRODUCTION=True):
        messages = checks.check_web_role(databases=["default"])
        assert [m.id for m in messages] == ["zdt.W020"]
        assert f"role '{OWNER}'" in messages[0].msg
        assert "owns people_person" in messages[0].msg
        assert "docs/checks.md#zdtw020" in (messages[0].hint or "")
        act_as(APP)
        assert checks.check_web_role(databases=["default"]) == []


def test_check_is_quiet_when_two_roles_are_neither_configured_nor_recommended(db: None) -> None:
    assert checks.check_web_role(databases=["default"]) == []


FACTS = RoleFacts("app", superuser=False, can_create_in_schema=False, owned_tables=("t",))


@pytest.mark.parametrize(
    ("alias", "migration_alias", "production", "warns"),
    [
        ("default", "migrator", False, True),  # two roles configured, web role owns tables
        ("default", None, True, True),  # recommended in production
        ("default", None, False, False),  # local development: not asked for
        ("migrator", "migrator", True, False),  # the migration alias itself may run DDL
    ],
)
def test_role_finding(
    alias: str, migration_alias: str | None, production: bool, warns: bool
) -> None:
    found = role_finding(alias, FACTS, migration_alias, production)
    assert (found is not None) == warns
    if found:
        assert found.rule == "zdt.W020"


def test_many_owned_tables_are_summarised() -> None:
    facts = RoleFacts("web", False, True, tuple(f"t{i}" for i in range(5)))
    found = role_finding("default", facts, "migrator", False)
    assert found is not None
    assert "owns t0, t1, t2 and 2 more; may CREATE in the schema" in found.message
    assert "migrations use 'migrator'" in found.message


MIGRATOR = f"zdt_t_{SUFFIX}_migrator"
WEB = f"zdt_t_{SUFFIX}_web"


def ddl_is_refused(sql: str) -> bool:
    try:
        with transaction.atomic():
            execute(sql)
    except ProgrammingError as exc:
        return "permission denied" in str(exc) or "must be owner" in str(exc)
    return False


def test_the_documented_two_roles_sql_gives_a_dml_only_web_role(db: None) -> None:
    execute(two_roles_sql(MIGRATOR, WEB))
    try:
        web = act_as(WEB)
        assert not web.can_run_ddl, web
        execute("INSERT INTO people_person (first_name, surname) VALUES ('Ada', 'L')")
        assert ddl_is_refused("ALTER TABLE people_person ADD COLUMN nick text")
        assert ddl_is_refused("CREATE TABLE zdt_should_not_exist (id int)")
        migrator = act_as(MIGRATOR)
        assert "people_person" in migrator.owned_tables
        assert not ddl_is_refused("ALTER TABLE people_person ADD COLUMN nick text")
    finally:
        execute("RESET ROLE")


def test_the_docs_show_the_sql_the_code_generates() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "checks.md").read_text()
    assert two_roles_sql("app_migrator", "app_web") in docs

"""Can the web process's database role run DDL? (``zdt.W020``; needs a database)

The web process should connect as a role that can read and write rows but cannot change the
schema, so a migration started from it fails at the database even if every other guard is
bypassed. Migrations then run as a separate, DDL-capable role through
``ZDT_MIGRATION_DATABASE``. :func:`role_facts` asks PostgreSQL what the connected role may
do; :func:`role_finding` (pure) decides whether that deserves a warning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from django_zero_downtime.findings.model import Finding

ROLE_QUERY = """
SELECT current_user,
       r.rolsuper,
       has_schema_privilege(current_user, current_schema(), 'CREATE'),
       ARRAY(
           SELECT c.relname FROM pg_class c
           WHERE c.relname = ANY(%s) AND c.relkind IN ('r', 'p')
             AND pg_table_is_visible(c.oid)
             AND pg_has_role(current_user, c.relowner, 'USAGE')
           ORDER BY c.relname
       )
FROM pg_roles r WHERE r.rolname = current_user
"""

DOCS = "docs/checks.md#zdtw020"

TWO_ROLES_SQL = """\
-- Run once per database as its owner or a superuser; set the passwords yourself.
CREATE ROLE {migrator} LOGIN;
CREATE ROLE {web} LOGIN;
REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA {schema} TO {migrator};
GRANT USAGE ON SCHEMA {schema} TO {web};
-- The migrator owns every existing table (and, with them, their sequences).
DO $$
DECLARE t record;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = '{schema}' LOOP
        EXECUTE format('ALTER TABLE {schema}.%I OWNER TO {migrator}', t.tablename);
    END LOOP;
END $$;
-- The web role reads and writes rows, now and in every table the migrator creates later.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {web};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {web};
ALTER DEFAULT PRIVILEGES FOR ROLE {migrator} IN SCHEMA {schema}
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {web};
ALTER DEFAULT PRIVILEGES FOR ROLE {migrator} IN SCHEMA {schema}
    GRANT USAGE, SELECT ON SEQUENCES TO {web};
"""


def two_roles_sql(migrator: str, web: str, schema: str = "public") -> str:
    """The SQL that sets up a DDL-capable migrator role and a DML-only web role."""
    return TWO_ROLES_SQL.format(migrator=migrator, web=web, schema=schema)


@dataclass(frozen=True)
class RoleFacts:
    """What the role a connection uses may do to the project's schema."""

    role: str
    superuser: bool
    can_create_in_schema: bool
    owned_tables: tuple[str, ...]
    """Project tables the role owns, directly or through a role it inherits."""

    @property
    def can_run_ddl(self) -> bool:
        return self.superuser or self.can_create_in_schema or bool(self.owned_tables)


def project_tables() -> list[str]:
    """Tables of every installed model, plus ``django_migrations``."""
    models = apps.get_models(include_auto_created=True)
    return sorted({model._meta.db_table for model in models} | {"django_migrations"})


def role_facts(connection: BaseDatabaseWrapper) -> RoleFacts:
    """Ask PostgreSQL about the role ``connection`` is logged in (or ``SET ROLE``) as."""
    with connection.cursor() as cursor:
        cursor.execute(ROLE_QUERY, [project_tables()])
        role, superuser, can_create, owned = cursor.fetchone()
    return RoleFacts(role, bool(superuser), bool(can_create), tuple(owned))


def _capabilities(facts: RoleFacts) -> str:
    found = []
    if facts.superuser:
        found.append("is a superuser")
    if facts.owned_tables:
        sample = ", ".join(facts.owned_tables[:3])
        more = f" and {len(facts.owned_tables) - 3} more" if len(facts.owned_tables) > 3 else ""
        found.append(f"owns {sample}{more}")
    if facts.can_create_in_schema:
        found.append("may CREATE in the schema")
    return "; ".join(found)


def role_finding(
    alias: str, facts: RoleFacts, migration_alias: str | None, production: bool
) -> Finding | None:
    """``zdt.W020`` when the web alias's role can run DDL while two roles are in order (pure).

    Two roles are in order when ``ZDT_MIGRATION_DATABASE`` names another alias (they are
    configured) or ``ZDT_PRODUCTION`` is true (they are recommended).
    """
    if alias == migration_alias or not facts.can_run_ddl:
        return None
    if migration_alias is None and not production:
        return None
    setup = (
        f"migrations use {migration_alias!r}"
        if migration_alias
        else "ZDT_PRODUCTION is on and ZDT_MIGRATION_DATABASE is not set"
    )
    return Finding(
        rule="zdt.W020",
        name="web-role-can-run-ddl",
        severity="warning",
        message=(
            f"Database {alias!r} connects as role {facts.role!r}, which can change the schema "
            f"({_capabilities(facts)}), while {setup}."
        ),
        hint=(
            "Use two roles: a migrator that owns the tables (for ZDT_MIGRATION_DATABASE) and a "
            "DML-only app role for the web process (GRANT SELECT, INSERT, UPDATE, DELETE); "
            f"the SQL is in {DOCS}."
        ),
        app="",
        migration="",
    )


def web_role_findings(
    aliases: Iterable[str], migration_alias: str | None, production: bool
) -> list[Finding]:
    """``zdt.W020`` for each PostgreSQL alias whose role can run DDL when it should not."""
    found = []
    for alias in aliases:
        connection = connections[alias]
        if connection.vendor == "postgresql" and alias != migration_alias:
            finding = role_finding(alias, role_facts(connection), migration_alias, production)
            found += [finding] if finding else []
    return found

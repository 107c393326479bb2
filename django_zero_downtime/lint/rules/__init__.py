"""The checker's rules over operations and SQL, one module per family.

Importing this package registers every checker (each module registers its own with the
``checks`` / ``statement_rule`` decorators); the engine imports it before it judges. The
SQL statement rules (:mod:`.sql_statements`, with the SQL parser) register when SQL is first
judged (:func:`.sql.check_sql`): a history without SQL never imports them.
"""

from django_zero_downtime.lint.rules import (  # noqa: F401  (registers the checkers)
    indexes,
    operations,
    sql,
    transactions,
)

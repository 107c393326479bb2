"""The checker's rules over operations and SQL, one module per family.

Importing this package registers every checker (each module registers its own with the
``checks`` / ``statement_rule`` decorators); the engine imports it before it judges.
"""

from django_zero_downtime.lint.rules import (  # noqa: F401  (registers the checkers)
    indexes,
    operations,
    sql,
    sql_statements,
    transactions,
)

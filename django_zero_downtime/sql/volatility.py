"""Which functions are volatile, for column defaults: the checker asks it of a model field's
``db_default`` without loading the SQL parser (:mod:`.columns` judges whole definitions)."""

from __future__ import annotations

import re

VOLATILE_DEFAULT = re.compile(
    r"\b(?:random|clock_timestamp|timeofday|gen_random_uuid|uuid_generate_v[14]\w*|nextval"
    r"|uuidv[47]|gen_random_bytes|txid_current|random_normal)\s*\(",
    re.IGNORECASE,
)
"""A call to a volatile function: as a column default it makes ADD COLUMN rewrite the table."""


def function_volatile(name: str) -> bool:
    """A call to a function known to be volatile. Other functions are not assumed volatile:
    the server test shows PostgreSQL inlining a simple SQL function declared VOLATILE into a
    constant default (no rewrite), so only the known ones are judged."""
    return bool(VOLATILE_DEFAULT.search(name.lower().rsplit(".", 1)[-1] + "("))


def volatile_default(expression: str) -> bool:
    """Whether a default expression (literals blanked) calls a volatile function."""
    return bool(VOLATILE_DEFAULT.search(expression))

"""Zero-downtime schema changes for Django on PostgreSQL.

The public API is re-exported from submodules as it lands; migration operations are
imported from :mod:`django_zero_downtime.operations` (a frozen import path).
"""

__version__ = "0.1.0.dev0"

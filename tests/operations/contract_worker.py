"""Subprocess for the killed-contract test: runs CompleteDualWriteRename, holds after a
given statement.

Usage: python -m tests.operations.contract_worker SPEC_JSON STOP_AFTER
Rebuilds the model state of the scenario (tests/operations/rename_scenarios.py) after its
DualWriteRename, applies the contract the way ``migrate`` does (``atomic = False``), and after
statement number STOP_AFTER has run (committed) prints ``holding <sql>`` and blocks on stdin,
so the parent can SIGKILL it exactly there. Prints ``finished`` if it gets to the end.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import django


def main(spec_json: str, stop_after: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from django.db import connection
    from django.db.migrations.state import ProjectState
    from django.test.utils import override_settings

    from django_zero_downtime.operations import CompleteDualWriteRename, DualWriteRename
    from tests.operations.conftest import APP
    from tests.operations.rename_scenarios import Spec, create_operations

    state = ProjectState()
    for operation in create_operations(Spec.loads(spec_json), "original", APP):
        operation.state_forwards(APP, state)
    DualWriteRename("Thing", "original", "renamed").state_forwards(APP, state)
    count = 0
    with (
        override_settings(ZDT_DEPRECATION_CYCLES=0),
        connection.schema_editor(atomic=False) as editor,
    ):
        execute = editor.execute

        def holding_execute(sql: Any, params: Any = None) -> Any:
            nonlocal count
            result = execute(sql, params)
            count += 1
            if count == stop_after:
                print("holding", " ".join(str(sql).split())[:200], flush=True)
                sys.stdin.readline()
            return result

        editor.execute = holding_execute  # type: ignore[method-assign]
        CompleteDualWriteRename("Thing", "original", "renamed").database_forwards(
            APP, editor, state, state
        )
    print("finished", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))

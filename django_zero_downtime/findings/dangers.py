"""One approval covers the same danger wherever it is judged.

A table rewrite is judged statically (ZDT105 type change, ZDT108 rewriting column, their
SQL twins), by the rehearsal on real data (ZDT451) and by the runner against the live table
size (ZDT401). A reviewer who approved the rewrite once, ``zero_downtime = {"ZDT105":
"reason"}``, must not be asked again by the next judge. :func:`covering_approval` finds the
approval that covers a rule: the rule's own code first, then the codes of the same danger.

Note for the approvals reader (findings/approvals.py, issue 18): this table is the only
mapping; read it from there when the reader grows a "covers" notion.
"""

from __future__ import annotations

from collections.abc import Mapping

REWRITE = ("ZDT105", "ZDT108", "ZDT205", "ZDT208", "ZDT213")
"""Static codes of a table rewrite under ACCESS EXCLUSIVE."""
SCAN_OR_BUILD = ("ZDT106", "ZDT109", "ZDT110", "ZDT111", "ZDT112", "ZDT206", "ZDT209", "ZDT210")
"""Static codes of a scan or an index build under a lock that blocks writes."""

COVERED_BY: dict[str, tuple[str, ...]] = {
    "ZDT451": (*REWRITE, "ZDT401"),
    "ZDT401": (*REWRITE, *SCAN_OR_BUILD, "ZDT451"),
}


def covering_approval(approvals: Mapping[str, object], rule: str) -> tuple[str, object] | None:
    """``(code, reason)`` of the approval in ``approvals`` that covers ``rule``, if any."""
    for code in (rule, *COVERED_BY.get(rule, ())):
        if code in approvals:
            return code, approvals[code]
    return None

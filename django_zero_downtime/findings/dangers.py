"""One approval covers the same danger wherever it is judged.

A table rewrite is judged statically (ZDT105 type change, ZDT108 rewriting column, their
SQL twins), by the rehearsal on real data (ZDT451) and by the runner against the live table
size (ZDT401). A reviewer who approved the rewrite once, ``zero_downtime = {"ZDT105":
"reason"}``, must not be asked again by the next judge. The approvals reader
(:func:`django_zero_downtime.findings.approvals.approval`) and the runner's
``approval_reason`` look up a rule's own code first, then the codes that cover it here.
"""

from __future__ import annotations

REWRITE = ("ZDT105", "ZDT108", "ZDT205", "ZDT208", "ZDT213")
"""Static codes of a table rewrite under ACCESS EXCLUSIVE."""
SCAN_OR_BUILD = ("ZDT106", "ZDT109", "ZDT110", "ZDT111", "ZDT112", "ZDT206", "ZDT209", "ZDT210")
"""Static codes of a scan or an index build under a lock that blocks writes."""

COVERED_BY: dict[str, tuple[str, ...]] = {
    "ZDT451": (*REWRITE, "ZDT401"),
    "ZDT401": (*REWRITE, *SCAN_OR_BUILD, "ZDT451"),
}

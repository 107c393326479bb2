"""One rule policy for every family: codes and prefixes in ZDT_RULES_* mean the same in the
checker, the runner, the rehearsal and the blue/green check (docs/settings.md)."""

from __future__ import annotations

from django.db import connection, migrations
from django.test import override_settings

from django_zero_downtime.findings.catalogue import RULES, Violation, hint_for, unknown_codes
from django_zero_downtime.findings.factory import make_finding
from django_zero_downtime.findings.locate import Location
from django_zero_downtime.findings.policy import Policy, effective_severity
from django_zero_downtime.lint import suppress
from django_zero_downtime.rehearsal.run import MigrationReport, verdicts


def test_every_family_is_in_the_one_catalogue() -> None:
    families = {code[:4] for code in RULES}
    assert families == {"ZDT1", "ZDT2", "ZDT3", "ZDT4", "ZDT5"}
    assert {"ZDT401", "ZDT402", "ZDT403", "ZDT450", "ZDT451", "ZDT452"} <= set(RULES)
    assert {f"ZDT50{n}" for n in range(1, 10)} <= set(RULES)
    assert unknown_codes(["ZDT5", "ZDT45", "ZDT4", "ZDT6"]) == ["ZDT6"]


def test_prefixes_select_ignore_and_override_in_every_family() -> None:
    assert effective_severity("ZDT502", ignore=["ZDT5"]) is None
    assert effective_severity("ZDT451", ignore=["zdt45"]) is None
    assert effective_severity("ZDT401", select=["ZDT1"]) is None
    assert effective_severity("ZDT502", select=["ZDT5"]) == "error"
    assert effective_severity("ZDT507", overrides={"ZDT5": "error"}) == "error"
    assert effective_severity("ZDT507", overrides={"ZDT5": "off", "ZDT507": "warning"}) == (
        "warning"
    )  # the longest pattern wins


def test_refusals_the_product_enforces_ignore_the_settings() -> None:
    policy = Policy(ignore=("ZDT4",), severity={"ZDT402": "off"})
    assert policy.severity_of("ZDT401") is None
    assert policy.severity_of("ZDT402") == "error"
    assert policy.severity_of("ZDT403") == "error"


def test_factory_fills_name_hint_template_severity_and_approval() -> None:
    where = Location("shop", "0002_x", 0, "AddField", "shop/migrations/0002_x.py", 9)
    advice = {"advice": "Add it nullable."}
    verdict = Violation("ZDT401", "Alter field x would rewrite t.", params=advice)
    finding = make_finding(verdict, where)
    assert finding is not None
    assert (finding.name, finding.severity, finding.line) == ("large-table", "error", 9)
    assert finding.hint == hint_for(verdict)
    assert finding.hint.startswith("Add it nullable. Or run it in a maintenance window")
    approved = make_finding(Violation("ZDT502", "gone."), where, approval="DBA ok")
    assert approved is not None and approved.severity == "warning"
    assert approved.message == "gone. Approved: DBA ok"
    assert make_finding(verdict, where, policy=Policy(ignore=("ZDT4",))) is None


def _rehearsed(migration: migrations.Migration) -> MigrationReport:
    return MigrationReport(migration.app_label, migration.name, seconds=9.0)


def test_rehearsal_obeys_the_policy_and_per_operation_approvals() -> None:
    migration = migrations.Migration("0002_slow", "shop")
    migration.operations = [suppress(migrations.RunSQL("SELECT 1"), {"ZDT451": "small"})]  # type: ignore[misc]
    [over] = verdicts(_rehearsed(migration), migration, budget=1.0)
    assert (over.rule, over.severity, over.file) == ("ZDT450", "error", "")
    with override_settings(ZDT_RULES_IGNORE=["ZDT45"]):
        assert verdicts(_rehearsed(migration), migration, budget=1.0) == []
    migration.zero_downtime = {"ZDT450": "nightly window"}  # type: ignore[attr-defined]
    [approved] = verdicts(_rehearsed(migration), migration, budget=1.0)
    assert approved.severity == "warning" and approved.message.endswith("nightly window")


def test_blue_green_obeys_the_prefix_and_per_operation_approvals() -> None:
    from django_zero_downtime.bluegreen.compatibility import find_breaks
    from tests.bluegreen.scenarios import APP, migration, previous_state

    drop = migrations.RemoveField("person", "last_name")
    step = migration("0002_new", [drop])
    [finding] = find_breaks(previous_state(), [(APP, step)], connection)
    assert (finding.rule, finding.severity) == ("ZDT502", "error")
    with override_settings(ZDT_RULES_IGNORE=["ZDT5"]):
        assert find_breaks(previous_state(), [(APP, step)], connection) == []
    approved = migration("0002_new", [suppress(drop, {"ZDT502": "nobody reads it"})])
    [finding] = find_breaks(previous_state(), [(APP, approved)], connection)
    assert finding.severity == "warning" and "Approved: nobody reads it" in finding.message

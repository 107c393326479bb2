"""``safemigrate --plan --format json|github``: the one JSON document, relative paths, lines."""

from __future__ import annotations

import json
from io import StringIO

import jsonschema
import pytest
from django.core.management import call_command

from tests.conftest import ROOT

PEOPLE = "example_project/people/migrations/"


def plan(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("safemigrate", "--plan", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
def test_plan_json_is_the_one_document_with_locations() -> None:
    code, out = plan("people", "0001", "--format", "json")  # backwards: refused (ZDT402)
    assert code == 1
    document = json.loads(out)
    assert (document["version"], document["command"]) == (1, "plan")
    assert {f["rule"] for f in document["findings"]} == {"ZDT402"}
    for finding in document["findings"]:
        assert finding["file"].startswith(PEOPLE) and finding["line"] > 0
    assert document["summary"]["errors"] == len(document["findings"]) > 0


@pytest.mark.django_db
def test_plan_github_annotations() -> None:
    code, out = plan("people", "0001", "--format", "github")
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith(f"::error file={PEOPLE}") and ",line=" in first
    assert "title=ZDT402 backwards-migration" in first


@pytest.mark.django_db
def test_plan_text_is_unchanged_by_default() -> None:
    code, out = plan("people")
    assert code == 0 and not out.lstrip().startswith("{")


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["sarif", "gitlab"])
def test_plan_in_sarif_and_gitlab_carries_relative_paths_and_lines(fmt: str) -> None:
    code, out = plan("people", "0001", "--format", fmt)
    assert code == 1
    document = json.loads(out)
    if fmt == "sarif":
        schema = json.loads((ROOT / "tests/findings/sarif-schema-2.1.0.json").read_text())
        jsonschema.Draft4Validator(schema).validate(document)
        results = document["runs"][0]["results"]
        assert results and {r["ruleId"] for r in results} == {"ZDT402"}
        for result in results:
            physical = result["locations"][0]["physicalLocation"]
            assert physical["artifactLocation"]["uri"].startswith(PEOPLE)
            assert physical["region"]["startLine"] > 0
    else:
        assert all(i["location"]["path"].startswith(PEOPLE) for i in document)
        assert all(i["location"]["lines"]["begin"] > 1 for i in document)

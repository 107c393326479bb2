"""The real-project trial: lint wagtail + taggit's ~200 migrations as a new user would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.lint_scratch_project import environment, manage, write_project
from django_zero_downtime.findings.catalogue import RULES

pytest.importorskip("wagtail", reason="the real-project trial needs wagtail (test extra)")


@pytest.mark.slow
def test_wagtail_corpus_lints_without_a_crash_or_a_database(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    env = environment("postgres://nobody@127.0.0.1:9/no_server_here")
    done, _seconds = manage(
        project, "safemigrate", "--check", "--all", "--format", "json", "--skip-checks", env=env
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stderr  # wagtail's history has unsafe steps
    report = json.loads(done.stdout)
    assert report["summary"]["migrations_linted"] >= 150
    for finding in report["findings"]:
        assert RULES[finding["rule"]].name == finding["name"]
        assert Path(finding["file"]).is_file() and finding["line"] > 0
    found = {(f["app"], f["migration"], f["rule"]) for f in report["findings"]}
    assert ("taggit", "0003_taggeditem_add_unique_index", "ZDT110") in found
    assert ("wagtailcore", "0070_rename_pagerevision_revision", "ZDT104") in found

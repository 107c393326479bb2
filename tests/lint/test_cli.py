"""``safemigrate --check``: formats, exit codes and what gets linted."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from django_zero_downtime.lint import select as select_module
from django_zero_downtime.lint.select import SelectionError, changed_since

UNSAFE = override_settings(MIGRATION_MODULES={"people": "tests.lint.fixtures.people_unsafe"})
SAFE = override_settings(MIGRATION_MODULES={"people": "tests.lint.fixtures.people_safe"})
ROOT = Path(__file__).resolve().parents[2]


def check(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("safemigrate", "--check", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


@UNSAFE
def test_json_format_and_exit_code_on_error_findings() -> None:
    code, out = check("--all", "--format", "json", "people")
    assert code == 1
    report = json.loads(out)
    assert (report["version"], report["command"]) == (1, "check")  # the one document
    [finding] = report["findings"]
    assert list(finding) == [
        "app",
        "migration",
        "operation_index",
        "operation",
        "rule",
        "name",
        "severity",
        "message",
        "hint",
        "file",
        "line",
    ]
    assert (finding["rule"], finding["name"], finding["severity"]) == (
        "ZDT101",
        "drop-column",
        "error",
    )
    assert finding["file"].endswith("people_unsafe/0002_unsafe.py")
    assert finding["line"] == 9
    assert report["summary"]["errors"] == 1
    assert report["summary"]["migrations_linted"] == 2


@SAFE
def test_safe_migrations_exit_zero_and_count_the_suppression() -> None:
    code, out = check("--all", "--format", "json", "people")
    assert code == 0
    summary = json.loads(out)["summary"]
    assert (summary["errors"], summary["suppressed"]) == (0, 1)


@UNSAFE
def test_github_format_prints_annotations() -> None:
    code, out = check("--all", "--format", "github", "people")
    first = out.splitlines()[0]
    assert first.startswith("::error file=")
    assert "0002_unsafe.py,line=9,title=ZDT101 drop-column::RemoveField people.Person" in first
    assert "%0A" in first  # the hint follows on the annotation's next line
    assert code == 1


@UNSAFE
def test_sarif_and_gitlab_formats_locate_the_finding_relative_to_the_project() -> None:
    code, out = check("--all", "--format", "sarif", "people")
    [result] = json.loads(out)["runs"][0]["results"]
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "tests/lint/fixtures/people_unsafe/0002_unsafe.py"
    assert (result["ruleId"], physical["region"]["startLine"], code) == ("ZDT101", 9, 1)
    code, out = check("--all", "--format", "gitlab", "people")
    [issue] = json.loads(out)
    assert issue["location"] == {
        "path": "tests/lint/fixtures/people_unsafe/0002_unsafe.py",
        "lines": {"begin": 9},
    }


@UNSAFE
def test_text_format_names_file_rule_and_hint() -> None:
    code, out = check("--all", "people", "0002")
    assert code == 1
    assert "0002_unsafe.py:9: error: ZDT101 drop-column" in out
    assert 'zdt.DeprecateColumn("Person", "last_name")' in out
    assert out.strip().endswith("1 error(s), 0 warning(s) in 1 migration(s).")


@pytest.mark.django_db
@UNSAFE
def test_default_lints_only_unapplied_migrations() -> None:
    code, out = check("--format", "json")
    report = json.loads(out)
    assert report["summary"]["migrations_linted"] == 1  # people.0002; 0001 is applied
    assert {f["migration"] for f in report["findings"]} == {"0002_unsafe"}
    assert code == 1


@UNSAFE
def test_baseline_exempts_history(capsys: pytest.CaptureFixture[str]) -> None:
    with override_settings(ZDT_BASELINE={"people": "0002_unsafe"}):
        code, out = check("--all", "--format", "json", "people")
    assert (code, json.loads(out)["summary"]["migrations_linted"]) == (0, 0)
    with override_settings(ZDT_BASELINE={"people": "0009_nope"}):
        assert check("--all")[0] == 3
    err = capsys.readouterr().err
    assert 'names "people": "0009_nope", which is not a migration' in err
    assert 'its last one is "0002_unsafe"' in err


def test_unknown_app_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("safemigrate", "--check", "--all", "nope", stderr=err)
    assert exc.value.code == 3
    assert "No installed app with label 'nope'" in err.getvalue()


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_since_selects_changed_and_new_files(tmp_path: Path, monkeypatch: Any) -> None:
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("x = 1\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    (tmp_path / "b.py").write_text("x = 2\n")
    (tmp_path / "c.py").write_text("x = 3\n")
    plan = [SimpleNamespace(app_label="shop", name=n) for n in ("a", "b", "c")]
    monkeypatch.setattr(
        select_module, "migration_path", lambda m: os.path.realpath(tmp_path / f"{m.name}.py")
    )
    with override_settings(BASE_DIR=tmp_path):  # the project's repository, whatever the cwd
        assert changed_since("HEAD", plan) == {("shop", "b"), ("shop", "c")}  # type: ignore[arg-type]
        with pytest.raises(SelectionError, match="ref that exists"):
            changed_since("no-such-ref", plan)  # type: ignore[arg-type]


@pytest.mark.slow
def test_check_all_needs_no_database() -> None:
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
    }
    # python -m django: manage.py itself insists on a reachable server.
    command = [sys.executable, "-m", "django", "safemigrate", "--check"]
    done = subprocess.run(
        [*command, "--all", "people"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "0 error(s)" in done.stdout
    unapplied = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert unapplied.returncode == 3
    assert "Lint without a database with --all or --since GIT_REF" in unapplied.stderr
    assert "Traceback" not in unapplied.stderr


@pytest.mark.django_db
@UNSAFE
def test_default_check_includes_the_blue_green_compatibility_check() -> None:
    """The previous release (people.0001 applied) reads last_name, which 0002 drops."""
    code, out = check("--format", "json")
    findings = json.loads(out)["findings"]
    compat = [f for f in findings if f["rule"].startswith("ZDT5")]
    assert compat, findings
    assert all(f["migration"] == "0002_unsafe" for f in compat)
    assert any("last_name" in f["message"] for f in compat)
    assert code == 1


@UNSAFE
def test_all_mode_has_no_previous_release_to_compare() -> None:
    _, out = check("--all", "--format", "json", "people")
    assert not [f for f in json.loads(out)["findings"] if f["rule"].startswith("ZDT5")]


@pytest.mark.slow
@pytest.mark.django_db
def test_fresh_ci_database_does_not_fail_on_installed_packages(scratch_database_url: str) -> None:
    """Everything is unapplied on a fresh database, Django's contrib migrations included:
    their findings are warnings by default, errors when the app is named."""
    from tests.conftest import manage

    result = manage(scratch_database_url, "safemigrate", "--check", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    contrib = [f for f in report["findings"] if f["app"] == "contenttypes"]
    assert contrib and {f["severity"] for f in contrib} == {"warning"}
    assert any("installed packages (contenttypes" in note for note in report["summary"]["notes"])
    named = manage(scratch_database_url, "safemigrate", "--check", "contenttypes")
    assert named.returncode == 1, named.stdout

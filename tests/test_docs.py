"""The docs site builds strictly and names everything the code defines.

Names are discovered from the code, never listed here: every rule code and check id that
appears in ``django_zero_downtime/``, every operation ``django_zero_downtime.operations``
exports, every setting in ``conf.SETTING_NAMES``. Each must appear somewhere in ``docs/``.
"""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from django_zero_downtime import conf

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CODE = ROOT / "django_zero_downtime"
RULE_CODE = re.compile(r"\bZDT\d{3}\b")
CHECK_ID = re.compile(r"\bzdt\.[EW]\d{3}\b")


def _code_text() -> str:
    return "\n".join(p.read_text() for p in sorted(CODE.rglob("*.py")))


def _docs_text() -> str:
    return "\n".join(p.read_text() for p in sorted(DOCS.rglob("*.md")))


def _undocumented(names: set[str]) -> list[str]:
    docs = _docs_text()
    return sorted(n for n in names if not re.search(rf"(?<![\w.]){re.escape(n)}(?!\w)", docs))


def operation_names() -> set[str]:
    module = importlib.import_module("django_zero_downtime.operations")
    exported = getattr(module, "__all__", None)
    if exported is None:
        exported = [n for n, v in vars(module).items() if inspect.isclass(v) and n[0] != "_"]
    return set(exported)


def test_discovery_finds_codes_and_ids_in_text() -> None:
    text = 'zero_downtime = {"ZDT401": "ok"}; id="zdt.E020"; zdt.W001, ZDT1234, xzdt.E0011'
    assert set(RULE_CODE.findall(text)) == {"ZDT401"}
    assert set(CHECK_ID.findall(text)) == {"zdt.E020", "zdt.W001"}


def test_every_rule_code_is_documented() -> None:
    assert _undocumented(set(RULE_CODE.findall(_code_text()))) == []


def test_every_check_id_is_documented() -> None:
    ids = set(CHECK_ID.findall(_code_text()))
    assert {"zdt.E001", "zdt.W001"} <= ids
    assert _undocumented(ids) == []


def test_every_operation_is_documented() -> None:
    names = operation_names()
    assert {"DualWriteRename", "CompleteDualWriteRename"} <= names
    assert _undocumented(names) == []


def test_every_setting_is_documented() -> None:
    assert conf.SETTING_NAMES
    assert _undocumented(set(conf.SETTING_NAMES)) == []


def test_every_docs_page_is_in_the_nav() -> None:
    config = (ROOT / "mkdocs.yml").read_text()
    pages = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert [p for p in pages if not re.search(rf":\s*{re.escape(p)}\s*$", config, re.M)] == []


@pytest.mark.slow
def test_mkdocs_build_is_strict_clean(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="mkdocs comes with the dev and docs extras")
    pytest.importorskip("material", reason="mkdocs-material comes with the dev and docs extras")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert (tmp_path / "deploy" / "index.html").exists()

"""Progress of long steps: one updating line per step on a (pseudo-)terminal, a few lines in
a log, nothing at -v 0."""

from __future__ import annotations

import os
import re
import sys

import pytest

from tests.runner.conftest import (
    CREATE_ITEM,
    REPO,
    MigrationsPackage,
    database_url,
    fill,
    migration,
    safemigrate,
)

pytestmark = pytest.mark.django_db(transaction=True)
LABEL = "rapp.Item: copy n → amount"
RENAME = migration(
    ["0001_item"],
    '        zdt.DualWriteRename("item", "n", "amount", batch_size=500, pause_s=0.01),',
    atomic=False,
).replace("from django.db", "import django_zero_downtime.operations as zdt\nfrom django.db")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def final_screen(output: str) -> list[str]:
    """What a terminal shows at the end: apply CR, LF, erase-line and cursor-up to ``output``."""
    rows: list[str] = [""]
    row = col = 0
    for token in re.findall(r"\x1b\[[0-9;?]*[A-Za-z]|\r|\n|[^\x1b\r\n]+", output):
        if token == "\n":
            row, col = row + 1, 0
            rows += [""] * (row + 1 - len(rows))
        elif token == "\r":
            col = 0
        elif token.endswith("2K"):
            rows[row] = ""
        elif token.endswith("A") and token.startswith("\x1b["):
            row = max(row - int(token[2:-1] or 1), 0)
        elif not token.startswith("\x1b"):
            rows[row] = rows[row][:col] + token + rows[row][col + len(token) :]
            col += len(token)
    return rows


@pytest.fixture
def renaming(rapp: MigrationsPackage) -> MigrationsPackage:
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    fill("rapp_item", 20_000)
    rapp.write(**{"0002_rename": RENAME})
    return rapp


def test_a_terminal_shows_one_updating_line_per_step(renaming: MigrationsPackage) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "ZDT_TEST_MIGRATIONS": renaming.name,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(renaming.path.parent)]),
        "DJANGO_SETTINGS_MODULE": "tests.runner.proc_settings",
        "TERM": "xterm-256color",
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "django", "safemigrate", "--no-input", "rapp"],
        env=env,
        cwd=str(REPO),
        dimensions=(40, 200),
        encoding="utf-8",
        timeout=180,
    )
    output = child.read()
    child.close()
    assert child.exitstatus == 0, output
    screen = final_screen(output)
    bars = [line for line in screen if LABEL in line and "waiting" in line]
    assert len(bars) == 1, screen  # one line on the screen, redrawn in place
    assert "20000/20000" in bars[0] and "100%" in bars[0] and "rows/s" in bars[0]
    frames = ANSI.sub("", output).count(" waiting")
    assert frames >= 3, output  # it updated while the backfill ran
    assert "backfill rapp.Item: copy n → amount: done, 20,000 rows updated" in output


def test_piped_output_is_a_few_lines_and_nothing_at_verbosity_0(
    renaming: MigrationsPackage, capsys: pytest.CaptureFixture[str]
) -> None:
    quiet = safemigrate("rapp", verbosity=0)
    assert quiet.code == 0 and quiet.out == ""
    assert capsys.readouterr().out == ""  # the engine printed nothing either

"""makemigrations --noinput refuses a likely rename it cannot ask about (real command)."""

from __future__ import annotations

from tests.autodetect.harness import Project, models


def test_noinput_refuses_a_removed_and_added_field_of_the_same_type(project: Project) -> None:
    project.write_models(models())
    project.ok("makemigrations", "shop")
    project.write_models(models().replace("qty = models", "quantity = models"))
    before = project.migrations()
    done = project.django("makemigrations", "shop", "--noinput")
    assert done.returncode != 0
    assert "shop.item: qty -> quantity" in done.stderr
    assert "without --noinput and answer the rename question" in done.stderr
    assert project.migrations() == before  # nothing written
    answered = project.django("makemigrations", "shop", answers="y\n")
    assert answered.returncode == 0, answered.stderr
    assert "DualWriteRename(" in project.migration_text("0002")

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
    assert "without --noinput and say yes to the rename question" in done.stderr
    assert project.migrations() == before  # nothing written
    answered = project.django("makemigrations", "shop", answers="y\n")
    assert answered.returncode == 0, answered.stderr
    assert "DualWriteRename(" in project.migration_text("0002")


def test_the_refusal_names_the_rename_option_and_the_option_answers(project: Project) -> None:
    project.write_models(models())
    project.ok("makemigrations", "shop")
    project.write_models(models().replace("qty = models", "quantity = models"))
    refused = project.django("makemigrations", "shop", "--noinput")
    assert "--rename shop.item.qty:quantity" in refused.stderr
    typo = project.django(
        "makemigrations", "shop", "--noinput", "--rename", "shop.Item.qt:quantity"
    )
    assert typo.returncode != 0 and "no such rename was found" in typo.stderr
    assert "Traceback" not in typo.stderr
    bad = project.django("makemigrations", "shop", "--noinput", "--rename", "qty-quantity")
    assert bad.returncode != 0 and "app.Model.old_field:new_field" in bad.stderr
    project.ok("makemigrations", "shop", "--noinput", "--rename", "shop.Item.qty:quantity")
    assert "DualWriteRename(" in project.migration_text("0002")


def test_parse_renames() -> None:
    from django_zero_downtime.autodetect.answers import Rename, parse_renames

    assert parse_renames(["shop.Item.qty:quantity", "Item.a:b"]) == [
        Rename("item", "qty", "quantity", "shop", "shop.Item.qty:quantity"),
        Rename("item", "a", "b", "", "Item.a:b"),
    ]

"""A scratch project as a team has it: real reusable apps with their shipped migration
histories (django contrib, taggit; wagtail in the long form), an app of its own with a
history (``shop``, which has a wagtail ``StreamField`` and a foreign key), an app installed
from another git repository (``vendored``), settings for PostgreSQL and for SQLite.
Written into a directory at test time; never committed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BASE_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "taggit",
    "pgtrigger",
    "django_zero_downtime",
    "vendored",
    "shop",
]
WAGTAIL_APPS = [
    "wagtail.sites",
    "wagtail.users",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "django.contrib.admin",
    "django.contrib.messages",
]

SETTINGS = """\
import os
from pathlib import Path

from example_project.database import database_url, parse_database_url

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "scratch-only"
INSTALLED_APPS = {apps!r}
MIDDLEWARE = []
ROOT_URLCONF = "urls"
TEMPLATES = [{{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "OPTIONS": {{"context_processors": ["django.contrib.auth.context_processors.auth",
    "django.contrib.messages.context_processors.messages",
    "django.template.context_processors.request"]}}}}]
if os.environ.get("SCRATCH_SQLITE"):
    DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3",
                               "NAME": os.environ["SCRATCH_SQLITE"]}}}}
else:
    DATABASES = {{"default": parse_database_url(database_url())}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "/static/"
WAGTAIL_SITE_NAME = "scratch"
WAGTAILADMIN_BASE_URL = "http://localhost"
"""

MANAGE = """\
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""

SHOP_MODELS = """\
from django.db import models
from wagtail import blocks
from wagtail.fields import StreamField


class Category(models.Model):
    name = models.CharField(max_length=50)


class Product(models.Model):
    name = models.CharField(max_length=100)
    price = models.IntegerField(default=0)
    category = models.ForeignKey(Category, on_delete=models.CASCADE)
    body = StreamField([("text", blocks.CharBlock())], blank=True)
"""

SHOP_0001 = """\
import django.db.models.deletion
import wagtail.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Category",
            fields=[
                ("id", models.BigAutoField(
                    auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=50)),
            ],
        ),
        migrations.CreateModel(
            name="Product",
            fields=[
                ("id", models.BigAutoField(
                    auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100)),
                ("legacy_code", models.CharField(max_length=10)),
                ("category", models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE, to="shop.category")),
                ("body", wagtail.fields.StreamField(
                    [("text", 0)], blank=True,
                    block_lookup={0: ("wagtail.blocks.CharBlock", (), {})})),
            ],
        ),
    ]
"""

# Shipped years ago, when the table was empty: unsafe by today's rules (ZDT101, ZDT108-ish).
SHOP_0002 = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.RemoveField("product", "legacy_code"),
        migrations.AddField("product", "price", models.IntegerField(default=0)),
    ]
"""

SHOP_TESTS = """\
from django.test import TestCase

from shop.models import Category, Product


class ProductTests(TestCase):
    def test_a_product_is_saved_and_read(self):
        category = Category.objects.create(name="tea")
        Product.objects.create(name="green", price=3, category=category)
        self.assertEqual(Product.objects.get().category.name, "tea")
"""

PREVIOUS_RELEASE_TEST = """\
def test_previous_release_works_on_the_new_schema(zdt_migrator):
    done = zdt_migrator.check_previous_release(
        {{"shop": "{previous}"}}, values={{"shop.Category": {{"name": "given"}}}}
    )
    assert "shop.Product" in done and "shop.Category" in done
    from shop.models import Category
    assert not Category.objects.exclude(name="given").exists()
"""

VENDORED_0001 = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    operations = [
        migrations.CreateModel("Widget", [
            ("id", models.BigAutoField(primary_key=True, serialize=False)),
            ("size", models.IntegerField()),
        ]),
    ]
"""


def write(root: Path, long: bool = False) -> Path:
    """The project under ``root/project`` (a git repository, one commit) and the vendored
    app under ``root/elsewhere`` (a second repository); returns the project directory."""
    project, elsewhere = root / "project", root / "elsewhere"
    apps = BASE_APPS[:-2] + (WAGTAIL_APPS if long else []) + BASE_APPS[-2:]
    files = {
        project / "settings.py": SETTINGS.format(apps=apps),
        project / "urls.py": "urlpatterns = []\n",
        project / "manage.py": MANAGE,
        project / "pytest.ini": "[pytest]\nDJANGO_SETTINGS_MODULE = settings\n",
        project / "shop" / "__init__.py": "",
        project / "shop" / "models.py": SHOP_MODELS,
        project / "shop" / "tests.py": SHOP_TESTS,
        project / "shop" / "migrations" / "__init__.py": "",
        project / "shop" / "migrations" / "0001_initial.py": SHOP_0001,
        project / "shop" / "migrations" / "0002_price.py": SHOP_0002,
        elsewhere / "vendored" / "__init__.py": "",
        elsewhere / "vendored" / "models.py": "",
        elsewhere / "vendored" / "migrations" / "__init__.py": "",
        elsewhere / "vendored" / "migrations" / "0001_initial.py": VENDORED_0001,
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for repo in (project, elsewhere):
        commit(repo, "shipped", init=True)
    return project


def commit(repo: Path, message: str, init: bool = False) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    if init:
        subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", message], check=True)


def environment(project: Path, database_url: str, sqlite: Path | None = None) -> dict[str, str]:
    path = os.pathsep.join([str(REPO), str(project.parent / "elsewhere")])
    env = {**os.environ, "PYTHONPATH": path, "DATABASE_URL": database_url}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if sqlite is not None:
        env["SCRATCH_SQLITE"] = str(sqlite)
    return env


def run(
    project: Path, env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python args`` in the project directory (``manage.py ...`` or ``-m pytest ...``)."""
    return subprocess.run(
        [sys.executable, *args], cwd=project, env=env, input=stdin,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip

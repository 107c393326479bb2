from pathlib import Path

from base_settings import *  # noqa: F403

BASE_DIR = Path(__file__).resolve().parent.parent

INSTALLED_APPS = [*INSTALLED_APPS, "shop.apps.ShopConfig"]  # noqa: F405

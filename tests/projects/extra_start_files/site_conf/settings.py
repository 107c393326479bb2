from pathlib import Path

from base_settings import *  # noqa: F403

BASE_DIR = Path(__file__).resolve().parent.parent

ZDT_EXTRA_START_FILES = ["deploy/run-web", "deploy/missing-start"]

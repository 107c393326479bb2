import os
import sys

sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_conf.settings")

from django.core.management import execute_from_command_line

execute_from_command_line(sys.argv)

"""WSGI entry point for the console face: `gunicorn config.wsgi_console:application`."""

import os

os.environ["SP_FACE"] = "console"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()

"""WSGI entry point for the intake face: `gunicorn config.wsgi_intake:application`."""

import os

os.environ["SP_FACE"] = "intake"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()

"""WSGI entry point for the console face: `gunicorn config.wsgi_console:application`."""

import os

os.environ["SP_FACE"] = "console"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.wsgi import get_wsgi_application

from config.malloc import keep_freed_buffers

keep_freed_buffers()  # large request buffers come and go per chunk: see config/malloc.py
application = get_wsgi_application()

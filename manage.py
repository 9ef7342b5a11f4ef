#!/usr/bin/env python3
"""Django's command-line utility for Safe Passage."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
    except KeyboardInterrupt:
        # Ctrl+C while a command is still loading (before `serve` or `worker` catch it):
        # stop quietly, with the status a shell gives an interrupted program.
        sys.exit(130)

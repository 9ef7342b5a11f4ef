"""The child process scrub.clean runs to clean one file (see scrub/__init__.py): reads the
file from stdin, bounds its own memory and processor time, writes the cleaned copy to stdout.
Run with ``python -I -S confined.py <content type> [<task>]``; nothing is written to disk. The
task is "clean" unless named: "describe" writes scrub.report's record of the file instead."""

import resource
import site
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
site.main()  # the interpreter's (virtual environment's) packages, without reading PYTHON* variables

import scrub  # noqa: E402
import scrub.report  # noqa: E402


def _describe(data: bytes, content_type: str) -> bytes:
    return scrub.report.describe_here(data, content_type).to_json().encode()


TASKS = {"clean": scrub.clean_here, "describe": _describe}


def main() -> int:
    data = sys.stdin.buffer.read()
    task = TASKS[sys.argv[2] if len(sys.argv) > 2 else "clean"]
    resource.setrlimit(resource.RLIMIT_AS, (scrub.CHILD_MEMORY, scrub.CHILD_MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (scrub.CHILD_CPU_SECONDS, scrub.CHILD_CPU_SECONDS))
    try:
        cleaned = task(data, sys.argv[1])
    except scrub.CannotClean as reason:
        sys.stderr.write(str(reason))
        return scrub.CANNOT_CLEAN_EXIT
    sys.stdout.buffer.write(cleaned)
    return 0


if __name__ == "__main__":
    sys.exit(main())

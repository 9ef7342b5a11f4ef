"""Settings for the test suite: the real settings module under a test environment.

Argon2id runs with tiny parameters here (the production minimum is enforced by the system
checks, see core/checks.py), and everything the tests write lands under SP_VAR_DIR
(var/test/ by default) so the canary test can search the raw files. Two suites running at
once need different SP_VAR_DIR and SP_DB_TEST_NAME values.
"""

import os
from pathlib import Path

_VAR = Path(os.environ.setdefault("SP_VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test")))
os.environ.setdefault("SP_ENV", "test")
os.environ.setdefault("SP_ARGON2_TIME_COST", "1")
os.environ.setdefault("SP_ARGON2_MEMORY_KIB", "1024")
os.environ.setdefault("SP_CONTACT_ARGON2_TIME_COST", "1")
os.environ.setdefault("SP_CONTACT_ARGON2_MEMORY_KIB", "1024")
os.environ.setdefault("SP_LOG_FILE", str(_VAR / "test.log"))
os.environ.setdefault("SP_FILE_STORE", str(_VAR / "files"))
# A small floor, so a nearly full disk on a test machine does not refuse the tests' uploads.
os.environ.setdefault("SP_MIN_FREE_BYTES", str(16 * 1024 * 1024))
_VAR.mkdir(parents=True, exist_ok=True)

from config.settings import *  # noqa: E402,F403

from evacuation.checkins.tests.conftest import clock  # noqa: F401  (the check-ins' controllable clock)

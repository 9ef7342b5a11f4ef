from evacuation.checkins.tests.conftest import clock  # noqa: F401  (the check-ins' controllable clock)
from evacuation.safehouses.tests.conftest import logistics, verifiers  # noqa: F401

from evacuation.checkins.tests.conftest import clock  # noqa: F401  (the check-ins' controllable clock)
from evacuation.handoff.tests.test_handoff import two_orgs  # noqa: F401  (the hand-off fixture)
from evacuation.safehouses.tests.conftest import logistics, verifiers  # noqa: F401

"""The two organisations every hand-off test needs, for the test modules that do not import
them themselves."""

from evacuation.handoff.tests.test_handoff import _english, two_orgs

__all__ = ["_english", "two_orgs"]

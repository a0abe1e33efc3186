"""Fakes and scene builders shared by the tests (imported as ``tests.helpers.*``)."""

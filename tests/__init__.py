"""Tests of hhpnet: one sub-package per package family (training/, video/, draw/, commands/,
bench/, detectors/), shared fixtures in conftest.py, shared fakes in helpers/."""

"""Tests of hhpnet.detectors."""

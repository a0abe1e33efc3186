"""Tests of hhpnet.draw (pose and interaction drawings)."""

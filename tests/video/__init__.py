"""Tests of hhpnet.video (sources, processing, resume, tracking, smoothing, timeline, sinks)."""

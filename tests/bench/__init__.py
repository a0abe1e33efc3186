"""Tests of the benchmark harness (hhpnet.bench) and benchmarks/."""

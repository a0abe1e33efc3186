"""Tests of hhpnet.training (synthetic data, network, training, data sets, evaluation)."""

"""Tests of the command line (hhpnet.cli, hhpnet.commands) and batch runs."""

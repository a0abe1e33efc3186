"""CLI command modules (one per command); see hhpnet.cli."""

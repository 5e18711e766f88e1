"""Durable functions of prbot, one module per function."""

"""Tests of the command line: `prbot dev`, `prbot replay --html`."""

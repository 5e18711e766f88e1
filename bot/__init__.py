"""prbot: GitHub pull requests as Discord threads, on durable event-driven functions."""

"""One module per `prbot` subcommand."""

"""`gim-etl` subcommands that live outside etl/cli.py (the CLI's own layer)."""

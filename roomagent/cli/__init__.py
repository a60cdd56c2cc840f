"""Command-line entry points; one module per concern registers its sub-commands."""

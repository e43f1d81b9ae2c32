"""Sub-commands of `python -m suite`."""

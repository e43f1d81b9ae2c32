"""The zoo's errors, in plain Python: a caller (the suite's CLI) catches them without importing torch."""

from __future__ import annotations

from zoo.registry import UnknownName


class UnknownModelError(UnknownName):
    """Raised for a model name that is not registered; the message names the closest ones."""

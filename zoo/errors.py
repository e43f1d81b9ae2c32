"""The zoo's errors, in plain Python: a caller (the suite's CLI) catches them without importing torch."""

from __future__ import annotations


class UnknownModelError(KeyError):
    """Raised for a model name that is not registered; the message names the closest ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])

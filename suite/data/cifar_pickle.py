"""Reading CIFAR pickles without running code from them.

A pickle names the callables that rebuild its objects, so a crafted ``data_batch_1`` could name ``os.system``.
The official files (and the re-packs the suite accepts) only rebuild numpy arrays, dtypes and scalars, so the
unpickler admits exactly those and plain Python values; any other global is refused before it is called.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

from suite.data.common import damaged

# (module, name) pairs the official CIFAR pickles (Python 2, numpy 1.x) and numpy >= 2 re-packs refer to.
_NUMPY_CORE = ("numpy.core.multiarray", "numpy._core.multiarray")
_ALLOWED: frozenset[tuple[str, str]] = frozenset(
    [(m, n) for m in _NUMPY_CORE for n in ("_reconstruct", "scalar")]
    + [(m, "_frombuffer") for m in ("numpy.core.numeric", "numpy._core.numeric")]
    + [("numpy", "ndarray"), ("numpy", "dtype")]
    # protocol-2 pickles written by Python 3 spell bytes as _codecs.encode(text, "latin1")
    + [("_codecs", "encode")]
    + [(m, n) for m in ("builtins", "__builtin__") for n in ("set", "frozenset", "bytearray", "list", "dict",
                                                              "tuple", "str", "bytes", "int", "float", "complex",
                                                              "bool")]
)
NOT_CIFAR = "not a CIFAR pickle"


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle names a callable the CIFAR format never uses."""


class CifarUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise RefusedGlobal(f"{NOT_CIFAR}: it refers to {module}.{name}")
        return super().find_class(module, name)


def loads(data: bytes) -> Any:
    """Unpickle CIFAR bytes, admitting only numpy arrays, dtypes, scalars and plain values."""
    return CifarUnpickler(io.BytesIO(data), encoding="latin1").load()


def load_file(path: Path) -> Any:
    """The object in a CIFAR pickle file; a refused or broken pickle is a one-line damaged-file error."""
    try:
        with Path(path).open("rb") as fh:
            return CifarUnpickler(fh, encoding="latin1").load()
    except RefusedGlobal as exc:
        raise damaged(path, str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a damaged file
        raise damaged(path, f"cannot unpickle: {type(exc).__name__}: {exc}") from None

"""What every data set shares: where data is looked for, the warnings, damaged-file errors, class-balanced subsets."""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from suite.core.errors import SuiteError

DATA_DIR_ENV = "SUITE_DATA_DIR"
DOWNLOAD_ENV = "SUITE_DOWNLOAD"  # "0": never download, "1": always try; unset: automatic
WORKERS_ENV = "SUITE_DATA_WORKERS"  # DataLoader workers of the streamed (ImageNet-size) data sets
SUBSET_RULE = "class-balanced, numpy default_rng(0) permutation, sorted indices"


class DataWarning(UserWarning):
    """Something about the data a user should know, that does not stop the run (one line)."""


class DatasetChecksumWarning(DataWarning):
    """A dataset file is not byte-identical to the official release but passed the structural check."""


class SubsetWarning(DataWarning):
    """A requested subset is larger than the data set: all of it is used."""


class DamagedFileError(SuiteError):
    """A data file that cannot be read, named in one line.

    Raised in a DataLoader worker, torch re-raises it in the training process as
    ``DamagedFileError("Caught DamagedFileError in DataLoader worker process 0.\\nOriginal Traceback ...")``;
    the constructor keeps only the original one-line message so the CLI still prints one line.
    """

    def __init__(self, message: str):
        text = str(message)
        if "Original Traceback" in text:
            last = [line for line in text.splitlines() if line.strip()][-1]
            text = last.split(f"{type(self).__name__}: ", 1)[-1]
        super().__init__(text)


REDOWNLOAD = "or delete it: a missing data set is downloaded where its host is reachable"


def damaged(path: Path | str, what: str, fix: str = REDOWNLOAD) -> DamagedFileError:
    return DamagedFileError(f"dataset file {path} is damaged ({what}); replace it with a fresh copy ({fix})")


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: the argument, else ``$SUITE_DATA_DIR``, else ``./data``."""
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_ENV) or "data"
    return Path(data_dir).expanduser().resolve()


def md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def balanced_subset(labels: ArrayLike, n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` indices, as equal per class as the data allows, the same on every call (sorted ascending)."""
    labels = np.asarray(labels)
    if n >= labels.size:
        return np.arange(labels.size)
    if n < 1:
        raise SuiteError(f"subset size must be at least 1, got {n}")
    order = np.random.default_rng(seed).permutation(labels.size)
    # Rank of each (shuffled) image within its class; taking the lowest ranks first fills classes evenly.
    shuffled = labels[order]
    rank = np.empty(labels.size, dtype=np.int64)
    for c in np.unique(shuffled):
        where = np.flatnonzero(shuffled == c)
        rank[where] = np.arange(where.size)
    chosen = order[np.lexsort((np.arange(labels.size), rank))[:n]]
    return np.sort(chosen)


def pick_subset(labels: ArrayLike, n: int | None, *, dataset: str, split: str) -> np.ndarray | None:
    """Indices of the class-balanced subset of ``n`` images, or None for the whole split.

    Asking for more images than the split has uses all of them and says so (a SubsetWarning), so that a
    ``--train-subset`` above the data set's size never silently means something else than it reads.
    """
    if n is None:
        return None
    n = int(n)
    size = int(np.asarray(labels).size)
    if n < 1:
        raise SuiteError(f"--{split}-subset must be at least 1, got {n}")
    if n > size:
        noun = "training" if split == "train" else "test"
        warnings.warn(f"--{split}-subset {n} is more than the {size} {noun} images of {dataset}: using all "
                      f"{size}", SubsetWarning, stacklevel=3)
        return None
    if n == size:
        return None  # the same images as no subset: the same fingerprint
    return balanced_subset(labels, n)


def subset_fingerprint(digest: hashlib._Hash, picks: dict[str, np.ndarray | None]) -> None:
    """Add the chosen subset indices to a data fingerprint (a subset is other data)."""
    for split in ("train", "test"):
        if picks.get(split) is not None:
            digest.update(f"{split}:".encode() + np.asarray(picks[split], dtype=np.int64).tobytes())

"""The small data sets in torchvision's on-disk layouts: the files each has, their checks, their readers.

Each file's structural check returns its number of images or raises a one-line error naming the file; the
readers are torchvision's own classes with only their MD5 gate removed (suite.data verifies the files itself,
and accepts re-packed copies after the structural check).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from torchvision.datasets import CIFAR10, CIFAR100, STL10, SVHN
from torchvision.datasets.vision import VisionDataset

from suite.data import cifar_pickle
from suite.data.catalog import DATASETS, DataSet
from suite.data.common import damaged
from zoo.registry import KeyedRegistry

# --- torchvision readers with the MD5 gate removed: suite.data verifies the files itself first --------------

class _NoMD5Cifar:
    """torchvision's CIFAR reader, reading every pickle through the restricted CIFAR unpickler."""

    # torchvision's CIFAR10/CIFAR100 (after this class in the MRO) set these
    root: str
    base_folder: str
    train_list: list[list[str]]
    test_list: list[list[str]]
    meta: dict[str, str]

    def __init__(self, root: str, train: bool = True, transform: Callable[..., Any] | None = None,
                 target_transform: Callable[..., Any] | None = None) -> None:
        VisionDataset.__init__(self, root, transform=transform, target_transform=target_transform)
        self.train = train
        data, targets = [], []
        for file_name, _ in self.train_list if train else self.test_list:
            entry = _unpickle(Path(self.root, self.base_folder, file_name), "'data' and 'labels'")
            data.append(entry["data"])
            targets.extend(entry["labels"] if "labels" in entry else entry["fine_labels"])
        self.data = np.vstack(data).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))  # HWC, as torchvision keeps it
        self.targets = targets
        self._load_meta()

    def _check_integrity(self) -> bool:
        return True

    def _load_meta(self) -> None:  # torchvision's version insists on the official MD5
        path = Path(os.path.join(self.root, self.base_folder, self.meta["filename"]))
        self.classes = _unpickle(path, repr(self.meta["key"]))[self.meta["key"]]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}


class _CIFAR10(_NoMD5Cifar, CIFAR10):  # type: ignore[misc]  # torchvision is untyped (no py.typed)
    pass


class _CIFAR100(_NoMD5Cifar, CIFAR100):  # type: ignore[misc]  # torchvision is untyped (no py.typed)
    pass


class _SVHN(SVHN):  # type: ignore[misc]  # torchvision is untyped (no py.typed)
    def _check_integrity(self) -> bool:
        return True


class _STL10(STL10):  # type: ignore[misc]  # torchvision is untyped (no py.typed)
    def _check_integrity(self) -> bool:
        return True


# --- per-format structural checks: each returns the number of images in the file or raises SuiteError -------

def _unpickle(path: Path, what: str) -> dict[str, Any]:
    """A CIFAR pickle as a dict with str keys (official files have str keys, some re-packs bytes keys)."""
    entry = cifar_pickle.load_file(path)
    if not isinstance(entry, dict):
        raise damaged(path, f"expected a dict with {what}, got {type(entry).__name__}")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in entry.items()}


def _load_cifar_batch(path: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    entry = _unpickle(path, "'data' and 'labels'")
    data = entry.get("data")
    labels = entry.get("labels", entry.get("fine_labels"))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        shape = getattr(data, "shape", None)
        raise damaged(path, f"data must be a uint8 array of shape (n, 3072), got {shape} "
                             f"{getattr(data, 'dtype', type(data).__name__)}")
    if labels is None or len(labels) != data.shape[0]:
        raise damaged(path, f"{data.shape[0]} images but {None if labels is None else len(labels)} labels")
    labels = np.asarray(labels, dtype=np.int64)
    _check_labels(path, labels, 0, num_classes)
    return data, labels


def _check_cifar_batch(path: Path, num_classes: int) -> int:
    return int(_load_cifar_batch(path, num_classes)[0].shape[0])


def _cifar_class_names(path: Path, key: str) -> list[str]:
    names = _unpickle(path, repr(key)).get(key)
    if not isinstance(names, list | tuple):
        raise damaged(path, f"no {key!r} list")
    return [n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names]


def _check_cifar_meta(path: Path, key: str, num_classes: int) -> int:
    names = _cifar_class_names(path, key)
    if len(names) != num_classes:
        raise damaged(path, f"{len(names)} class names, expected {num_classes}")
    return 0


def _check_svhn_mat(path: Path, num_classes: int) -> int:
    import scipy.io

    try:
        shapes = {name: (shape, cls) for name, shape, cls in scipy.io.whosmat(str(path))}
    except Exception as exc:  # noqa: BLE001
        raise damaged(path, f"not a readable .mat file: {type(exc).__name__}: {exc}") from None
    x, y = shapes.get("X"), shapes.get("y")
    if x is None or y is None:
        raise damaged(path, f"expected variables X and y, found {sorted(shapes)}")
    if len(x[0]) != 4 or tuple(x[0][:3]) != (32, 32, 3) or x[1] != "uint8":
        raise damaged(path, f"X must be uint8 of shape (32, 32, 3, n), got {x[0]} {x[1]}")
    if int(np.prod(y[0])) != x[0][3]:
        raise damaged(path, f"{x[0][3]} images but {int(np.prod(y[0]))} labels")
    return int(x[0][3])


_STL_IMAGE_BYTES = 3 * 96 * 96


def _check_stl_images(path: Path, num_classes: int) -> int:
    size = path.stat().st_size
    if size == 0 or size % _STL_IMAGE_BYTES:
        raise damaged(path, f"{size} bytes is not a whole number of 3x96x96 images")
    return size // _STL_IMAGE_BYTES


def _check_stl_labels(path: Path, num_classes: int) -> int:
    labels = np.fromfile(path, dtype=np.uint8)
    _check_labels(path, labels, 1, num_classes + 1)  # STL-10 labels are 1-based on disk
    return int(labels.size)


def _check_labels(path: Path, labels: np.ndarray, low: int, high: int) -> None:
    if labels.size and (labels.min() < low or labels.max() >= high):
        raise damaged(path, f"labels span {labels.min()}..{labels.max()}, expected {low}..{high - 1}")


# --- dataset specifications ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DataFile:
    name: str  # relative to the dataset folder
    md5: str  # official checksum (taken from torchvision's class)
    split: str  # "train", "test" or "meta"
    check: Callable[[Path, int], int]
    official_count: int = 0


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    reader: type[Any]  # a torchvision dataset class (untyped)
    folder: str  # where the files sit under the data directory ("" = directly in it)
    num_classes: int
    files: tuple[DataFile, ...]
    how: str  # what to put where, for the missing-data message
    labels_files: dict[str, str] = field(default_factory=dict)  # STL-10: image file -> its label file

    def read(self, root: Path, split: str) -> Any:
        if self.reader in (_CIFAR10, _CIFAR100):
            return self.reader(str(root), train=split == "train")
        return self.reader(str(root), split=split)

    def download(self, root: Path) -> None:
        # The untouched torchvision class downloads and verifies the official archive.
        official = next(c for c in self.reader.__mro__ if c.__module__.startswith("torchvision."))
        if self.reader in (_CIFAR10, _CIFAR100):
            official(str(root), train=True, download=True)
        elif self.reader is _SVHN:
            for split in ("train", "test"):
                official(str(root), split=split, download=True)
        else:
            official(str(root), split="test", download=True)

    def hosts(self) -> list[tuple[str, int]]:
        """(host, port) of every URL torchvision downloads this data set from."""
        official: type[Any] = next(c for c in self.reader.__mro__ if c.__module__.startswith("torchvision."))
        if self.reader is _SVHN:
            urls = [official.split_list[s][0] for s in ("train", "test")]
        else:
            urls = [official.url]
        out = []
        for url in urls:
            parts = urlsplit(url)
            out.append((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)))
        return list(dict.fromkeys(out))


def _cifar_files(cls: type[Any], check_meta_key: str, num_classes: int,
                 counts: tuple[int, int]) -> tuple[DataFile, ...]:
    def meta_check(path: Path, num_classes: int) -> int:
        return _check_cifar_meta(path, check_meta_key, num_classes)

    files = [DataFile(n, m, "train", _check_cifar_batch, counts[0]) for n, m in cls.train_list]
    files += [DataFile(n, m, "test", _check_cifar_batch, counts[1]) for n, m in cls.test_list]
    files.append(DataFile(cls.meta["filename"], cls.meta["md5"], "meta", meta_check))
    return tuple(files)


def _spec(name: str, reader: type, files: Callable[[DataSet], tuple[DataFile, ...]], how: str,
          labels_files: dict[str, str] | None = None) -> DatasetSpec:
    # folder and classes come from the one declaration of the data set (suite.data.catalog)
    info = DATASETS[name]
    return DatasetSpec(name, reader, info.folder, info.num_classes, files(info), how, labels_files or {})


# a cifar batch file holds 10,000 images: train is five of them (CIFAR-10) or one (CIFAR-100)
SPECS = KeyedRegistry("data set reader", lambda s: s.name, (
    _spec("cifar10", _CIFAR10,
          lambda d: _cifar_files(CIFAR10, "label_names", d.num_classes, (d.train_count // 5, d.test_count)),
          "extract cifar-10-python.tar.gz there (torchvision's cifar-10-batches-py folder)"),
    _spec("cifar100", _CIFAR100,
          lambda d: _cifar_files(CIFAR100, "fine_label_names", d.num_classes, (d.train_count, d.test_count)),
          "extract cifar-100-python.tar.gz there (torchvision's cifar-100-python folder)"),
    _spec("svhn", _SVHN,
          lambda d: tuple(DataFile(SVHN.split_list[s][1], SVHN.split_list[s][2], s, _check_svhn_mat, c)
                          for s, c in (("train", d.train_count), ("test", d.test_count))),
          "put train_32x32.mat and test_32x32.mat there (torchvision's SVHN layout)"),
    _spec("stl10", _STL10,
          lambda d: (DataFile("train_X.bin", STL10.train_list[0][1], "train", _check_stl_images, d.train_count),
                     DataFile("train_y.bin", STL10.train_list[1][1], "train", _check_stl_labels, d.train_count),
                     DataFile("test_X.bin", STL10.test_list[0][1], "test", _check_stl_images, d.test_count),
                     DataFile("test_y.bin", STL10.test_list[1][1], "test", _check_stl_labels, d.test_count)),
          "extract stl10_binary.tar.gz there (torchvision's stl10_binary folder)",
          {"train_X.bin": "train_y.bin", "test_X.bin": "test_y.bin"}),
))



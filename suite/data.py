"""Datasets: read once with torchvision's readers, verified, held as uint8 NCHW tensors on the device.

Supported: cifar10, cifar100, svhn, stl10, in torchvision's on-disk layouts under the data directory
(argument, else ``$SUITE_DATA_DIR``, else ``./data``). Files whose MD5 differs from the official release
(re-packed copies) are accepted after a structural check, with a warning and
``meta["checksum_verified"] = False``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torchvision.datasets import CIFAR10, CIFAR100, STL10, SVHN

from suite.errors import SuiteError, unknown

DATA_DIR_ENV = "SUITE_DATA_DIR"
DOWNLOAD_ENV = "SUITE_DOWNLOAD"


class DatasetChecksumWarning(UserWarning):
    """A dataset file is not byte-identical to the official release but passed the structural check."""


@dataclass
class DeviceDataset:
    """A whole dataset decoded once: uint8 NCHW images and int64 labels, both on ``device``."""

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    classes: list[str]
    meta: dict = field(default_factory=dict)  # provenance: root, files, checksums, subsets, fingerprint

    @property
    def train_count(self) -> int:
        return int(self.train_x.shape[0])

    @property
    def test_count(self) -> int:
        return int(self.test_x.shape[0])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train_x.shape[1:])  # type: ignore[return-value]

    @property
    def device(self) -> torch.device:
        return self.train_x.device

    def to(self, device: torch.device | str) -> DeviceDataset:
        d = torch.device(device)
        return DeviceDataset(self.name, self.train_x.to(d), self.train_y.to(d), self.test_x.to(d),
                             self.test_y.to(d), self.num_classes, list(self.classes), dict(self.meta))


# --- torchvision readers with the MD5 gate removed: suite.data verifies the files itself first --------------

class _NoMD5Cifar:
    def _check_integrity(self) -> bool:
        return True

    def _load_meta(self) -> None:  # torchvision's version insists on the official MD5
        with open(os.path.join(self.root, self.base_folder, self.meta["filename"]), "rb") as fh:
            self.classes = pickle.load(fh, encoding="latin1")[self.meta["key"]]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}


class _CIFAR10(_NoMD5Cifar, CIFAR10):
    pass


class _CIFAR100(_NoMD5Cifar, CIFAR100):
    pass


class _SVHN(SVHN):
    def _check_integrity(self) -> bool:
        return True


class _STL10(STL10):
    def _check_integrity(self) -> bool:
        return True


# --- per-format structural checks: each returns the number of images in the file or raises SuiteError -------

def _corrupt(path: Path, what: str) -> SuiteError:
    return SuiteError(f"dataset file {path} is damaged ({what}); replace it with a fresh copy "
                      "(or delete it and pass --download where a network is available)")


def _unpickle(path: Path, what: str) -> dict:
    """A CIFAR pickle as a dict with str keys (official files have str keys, some re-packs bytes keys)."""
    try:
        with path.open("rb") as fh:
            entry = pickle.load(fh, encoding="latin1")
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a damaged file
        raise _corrupt(path, f"cannot unpickle: {type(exc).__name__}: {exc}") from None
    if not isinstance(entry, dict):
        raise _corrupt(path, f"expected a dict with {what}, got {type(entry).__name__}")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in entry.items()}


def _load_cifar_batch(path: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    entry = _unpickle(path, "'data' and 'labels'")
    data = entry.get("data")
    labels = entry.get("labels", entry.get("fine_labels"))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        shape = getattr(data, "shape", None)
        raise _corrupt(path, f"data must be a uint8 array of shape (n, 3072), got {shape} "
                             f"{getattr(data, 'dtype', type(data).__name__)}")
    if labels is None or len(labels) != data.shape[0]:
        raise _corrupt(path, f"{data.shape[0]} images but {None if labels is None else len(labels)} labels")
    labels = np.asarray(labels, dtype=np.int64)
    _check_labels(path, labels, 0, num_classes)
    return data, labels


def _check_cifar_batch(path: Path, num_classes: int) -> int:
    return int(_load_cifar_batch(path, num_classes)[0].shape[0])


def _cifar_class_names(path: Path, key: str) -> list[str]:
    names = _unpickle(path, repr(key)).get(key)
    if not isinstance(names, list | tuple):
        raise _corrupt(path, f"no {key!r} list")
    return [n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names]


def _check_cifar_meta(path: Path, key: str, num_classes: int) -> int:
    names = _cifar_class_names(path, key)
    if len(names) != num_classes:
        raise _corrupt(path, f"{len(names)} class names, expected {num_classes}")
    return 0


def _check_svhn_mat(path: Path, num_classes: int) -> int:
    import scipy.io

    try:
        shapes = {name: (shape, cls) for name, shape, cls in scipy.io.whosmat(str(path))}
    except Exception as exc:  # noqa: BLE001
        raise _corrupt(path, f"not a readable .mat file: {type(exc).__name__}: {exc}") from None
    x, y = shapes.get("X"), shapes.get("y")
    if x is None or y is None:
        raise _corrupt(path, f"expected variables X and y, found {sorted(shapes)}")
    if len(x[0]) != 4 or tuple(x[0][:3]) != (32, 32, 3) or x[1] != "uint8":
        raise _corrupt(path, f"X must be uint8 of shape (32, 32, 3, n), got {x[0]} {x[1]}")
    if int(np.prod(y[0])) != x[0][3]:
        raise _corrupt(path, f"{x[0][3]} images but {int(np.prod(y[0]))} labels")
    return int(x[0][3])


_STL_IMAGE_BYTES = 3 * 96 * 96


def _check_stl_images(path: Path, num_classes: int) -> int:
    size = path.stat().st_size
    if size == 0 or size % _STL_IMAGE_BYTES:
        raise _corrupt(path, f"{size} bytes is not a whole number of 3x96x96 images")
    return size // _STL_IMAGE_BYTES


def _check_stl_labels(path: Path, num_classes: int) -> int:
    labels = np.fromfile(path, dtype=np.uint8)
    _check_labels(path, labels, 1, num_classes + 1)  # STL-10 labels are 1-based on disk
    return int(labels.size)


def _check_labels(path: Path, labels: np.ndarray, low: int, high: int) -> None:
    if labels.size and (labels.min() < low or labels.max() >= high):
        raise _corrupt(path, f"labels span {labels.min()}..{labels.max()}, expected {low}..{high - 1}")


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
    reader: type
    folder: str  # where the files sit under the data directory ("" = directly in it)
    num_classes: int
    files: tuple[DataFile, ...]
    how: str  # what to put where, for the missing-data message
    labels_files: dict[str, str] = field(default_factory=dict)  # STL-10: image file -> its label file

    def read(self, root: Path, split: str):
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


def _cifar_files(cls, check_meta_key: str, num_classes: int, counts: tuple[int, int]) -> tuple[DataFile, ...]:
    def meta_check(path: Path, num_classes: int) -> int:
        return _check_cifar_meta(path, check_meta_key, num_classes)

    files = [DataFile(n, m, "train", _check_cifar_batch, counts[0]) for n, m in cls.train_list]
    files += [DataFile(n, m, "test", _check_cifar_batch, counts[1]) for n, m in cls.test_list]
    files.append(DataFile(cls.meta["filename"], cls.meta["md5"], "meta", meta_check))
    return tuple(files)


SPECS: dict[str, DatasetSpec] = {
    "cifar10": DatasetSpec(
        "cifar10", _CIFAR10, CIFAR10.base_folder, 10,
        _cifar_files(CIFAR10, "label_names", 10, (10000, 10000)),
        "extract cifar-10-python.tar.gz there (torchvision's cifar-10-batches-py folder)"),
    "cifar100": DatasetSpec(
        "cifar100", _CIFAR100, CIFAR100.base_folder, 100,
        _cifar_files(CIFAR100, "fine_label_names", 100, (50000, 10000)),
        "extract cifar-100-python.tar.gz there (torchvision's cifar-100-python folder)"),
    "svhn": DatasetSpec(
        "svhn", _SVHN, "", 10,
        tuple(DataFile(SVHN.split_list[s][1], SVHN.split_list[s][2], s, _check_svhn_mat, c)
              for s, c in (("train", 73257), ("test", 26032))),
        "put train_32x32.mat and test_32x32.mat there (torchvision's SVHN layout)"),
    "stl10": DatasetSpec(
        "stl10", _STL10, STL10.base_folder, 10,
        (DataFile("train_X.bin", STL10.train_list[0][1], "train", _check_stl_images, 5000),
         DataFile("train_y.bin", STL10.train_list[1][1], "train", _check_stl_labels, 5000),
         DataFile("test_X.bin", STL10.test_list[0][1], "test", _check_stl_images, 8000),
         DataFile("test_y.bin", STL10.test_list[1][1], "test", _check_stl_labels, 8000)),
        "extract stl10_binary.tar.gz there (torchvision's stl10_binary folder)",
        {"train_X.bin": "train_y.bin", "test_X.bin": "test_y.bin"}),
}


def dataset_names() -> list[str]:
    return sorted(SPECS)


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The data directory: the argument, else ``$SUITE_DATA_DIR``, else ``./data``."""
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_ENV) or "data"
    return Path(data_dir).expanduser().resolve()


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(spec: DatasetSpec, folder: Path) -> dict[str, dict]:
    """MD5 every file; structurally check (and warn about) those that are not the official bytes."""
    report: dict[str, dict] = {}
    differing: list[str] = []
    for f in spec.files:
        path = folder / f.name
        md5 = _md5(path)
        entry = {"md5": md5, "official_md5": f.md5, "checksum_verified": md5 == f.md5}
        if md5 != f.md5:
            count = entry["count"] = f.check(path, spec.num_classes)
            same = f.split == "meta" or count == f.official_count
            note = "" if same else f" ({count} images, official {f.official_count})"
            differing.append(f.name + note)
        report[f.name] = entry
    if differing:
        # One warning per load: re-packed copies (like the tests' 1,000-image test batch) are legitimate.
        message = (f"{spec.name}: {len(differing)} file(s) in {folder} differ from the official release and "
                   f"were accepted after a structural check: {', '.join(differing)}")
        warnings.warn(message, DatasetChecksumWarning, stacklevel=3)
    for images, labels in spec.labels_files.items():
        n_img, n_lab = report[images].get("count"), report[labels].get("count")
        if n_img is not None and n_lab is not None and n_img != n_lab:
            raise _corrupt(folder / labels, f"{n_lab} labels for {n_img} images in {images}")
    return report


def _read_split(spec: DatasetSpec, root: Path, folder: Path, split: str) -> tuple[np.ndarray, np.ndarray, list]:
    names = [f.name for f in spec.files if f.split == split]
    try:
        ds = spec.read(root, split)
    except SuiteError:
        raise
    except Exception as exc:  # noqa: BLE001 - the reader's own error names no file
        where = ", ".join(str(folder / n) for n in names)
        raise SuiteError(f"cannot read {spec.name} {split} data from {where}: {type(exc).__name__}: {exc}; "
                         "replace the file(s) with a fresh copy") from None
    data = np.asarray(ds.data)
    labels = np.asarray(ds.labels if hasattr(ds, "labels") else ds.targets, dtype=np.int64)
    if spec.reader in (_CIFAR10, _CIFAR100):
        data = data.transpose(0, 3, 1, 2)  # torchvision keeps CIFAR as NHWC
    where = ", ".join(str(folder / n) for n in names)
    if data.dtype != np.uint8 or data.ndim != 4 or data.shape[1] != 3 or data.shape[0] != labels.shape[0]:
        raise SuiteError(f"{spec.name} {split} data in {where} has an unexpected layout "
                         f"{data.shape} {data.dtype} with {labels.shape[0]} labels")
    if labels.size and (labels.min() < 0 or labels.max() >= spec.num_classes):
        raise SuiteError(f"{spec.name} {split} labels in {where} span {labels.min()}..{labels.max()}, "
                         f"expected 0..{spec.num_classes - 1}")
    classes = list(getattr(ds, "classes", None) or [])
    return np.ascontiguousarray(data), labels, classes


def balanced_subset(labels: np.ndarray | torch.Tensor, n: int, *, seed: int = 0) -> np.ndarray:
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


def _missing_message(spec: DatasetSpec, folder: Path, missing: list[str], data_dir: Path) -> str:
    return (f"{spec.name} not found: looked for {', '.join(str(folder / m) for m in missing)}; "
            f"{spec.how.replace('there', f'in {data_dir}')}, or point --data-dir / ${DATA_DIR_ENV} at a "
            "directory that has it (downloading needs --download and a network)")


def load_dataset(name: str, *, data_dir: str | os.PathLike | None = None, train_subset: int | None = None,
                 test_subset: int | None = None, device: torch.device | str = "cpu",
                 download: bool | None = None) -> DeviceDataset:
    """Load ``name`` from torchvision's on-disk layout, verify it, and put it on ``device`` as uint8 tensors.

    ``download=None`` downloads only if ``$SUITE_DOWNLOAD`` is 1; offline and without files this raises
    a one-line SuiteError naming the path it looked in.
    """
    key = str(name).lower()
    if key not in SPECS:
        raise unknown("dataset", name, SPECS)
    spec = SPECS[key]
    root = resolve_data_dir(data_dir)
    folder = root / spec.folder
    if download is None:
        download = os.environ.get(DOWNLOAD_ENV, "") == "1"

    missing = [f.name for f in spec.files if not (folder / f.name).is_file()]
    if missing and download:
        try:
            spec.download(root)
        except Exception as exc:  # noqa: BLE001 - network and archive errors alike
            raise SuiteError(f"downloading {spec.name} into {root} failed ({type(exc).__name__}: {exc}); "
                             f"{spec.how.replace('there', f'in {root}')} by hand") from None
        missing = [f.name for f in spec.files if not (folder / f.name).is_file()]
    if missing:
        raise SuiteError(_missing_message(spec, folder, missing, root))

    files = _verify(spec, folder)
    train_x, train_y, classes = _read_split(spec, root, folder, "train")
    test_x, test_y, test_classes = _read_split(spec, root, folder, "test")
    classes = classes or test_classes or [str(i) for i in range(spec.num_classes)]
    full = {"train": int(train_y.size), "test": int(test_y.size)}

    picks = {}
    for split, n, labels in (("train", train_subset, train_y), ("test", test_subset, test_y)):
        picks[split] = None if n is None else balanced_subset(labels, int(n))
    if picks["train"] is not None:
        train_x, train_y = train_x[picks["train"]], train_y[picks["train"]]
    if picks["test"] is not None:
        test_x, test_y = test_x[picks["test"]], test_y[picks["test"]]

    fingerprint = hashlib.sha256()
    for fname in sorted(files):
        fingerprint.update(f"{fname}:{files[fname]['md5']};".encode())
    for split in ("train", "test"):
        if picks[split] is not None:
            fingerprint.update(f"{split}:".encode() + picks[split].astype(np.int64).tobytes())
    meta = {
        "dataset": spec.name,
        "root": str(folder),
        "files": files,
        "checksum_verified": all(f["checksum_verified"] for f in files.values()),
        "full_counts": full,
        "train_count": int(train_y.size),
        "test_count": int(test_y.size),
        "train_subset": train_subset,
        "test_subset": test_subset,
        "subset_rule": "class-balanced, numpy default_rng(0) permutation, sorted indices",
        "fingerprint": fingerprint.hexdigest()[:16],
    }
    device = torch.device(device)
    return DeviceDataset(
        name=spec.name,
        train_x=torch.from_numpy(train_x).to(device),
        train_y=torch.from_numpy(train_y).to(device),
        test_x=torch.from_numpy(test_x).to(device),
        test_y=torch.from_numpy(test_y).to(device),
        num_classes=spec.num_classes,
        classes=[str(c) for c in classes],
        meta=meta,
    )

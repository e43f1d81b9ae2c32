"""The small data sets held whole on the training device: read once, verified, uint8 NCHW tensors."""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from suite.core.errors import SuiteError
from suite.data.common import SUBSET_RULE, DatasetChecksumWarning, damaged, md5, pick_subset, subset_fingerprint
from suite.data.formats import _CIFAR10, _CIFAR100, DatasetSpec


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
    meta: dict[str, Any] = field(default_factory=dict)  # provenance: root, files, checksums, subsets, fingerprint
    kind: ClassVar[str] = "device"  # the training engine draws batches by index on the device

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


def _verify(spec: DatasetSpec, folder: Path) -> dict[str, dict[str, Any]]:
    """MD5 every file; structurally check (and warn about) those that are not the official bytes."""
    report: dict[str, dict[str, Any]] = {}
    differing: list[str] = []
    for f in spec.files:
        path = folder / f.name
        digest = md5(path)
        entry = {"md5": digest, "official_md5": f.md5, "checksum_verified": digest == f.md5}
        if digest != f.md5:
            count = entry["count"] = f.check(path, spec.num_classes)
            same = f.split == "meta" or count == f.official_count
            note = "" if same else f" ({count} images, official {f.official_count})"
            differing.append(f.name + note)
        report[f.name] = entry
    if differing:
        # One warning per load: re-packed copies (like the tests' 1,000-image test batch) are legitimate.
        message = (f"{spec.name}: {len(differing)} file(s) in {folder} differ from the official release and "
                   f"were accepted after a structural check: {', '.join(differing)}")
        warnings.warn(message, DatasetChecksumWarning, stacklevel=4)
    for images, labels in spec.labels_files.items():
        n_img, n_lab = report[images].get("count"), report[labels].get("count")
        if n_img is not None and n_lab is not None and n_img != n_lab:
            raise damaged(folder / labels, f"{n_lab} labels for {n_img} images in {images}")
    return report


def _read_split(spec: DatasetSpec, root: Path, folder: Path,
                split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    names = [f.name for f in spec.files if f.split == split]
    where = ", ".join(str(folder / n) for n in names)
    try:
        ds = spec.read(root, split)
    except SuiteError:
        raise
    except Exception as exc:  # noqa: BLE001 - the reader's own error names no file
        raise SuiteError(f"cannot read {spec.name} {split} data from {where}: {type(exc).__name__}: {exc}; "
                         "replace the file(s) with a fresh copy") from None
    data = np.asarray(ds.data)
    labels = np.asarray(ds.labels if hasattr(ds, "labels") else ds.targets, dtype=np.int64)
    if spec.reader in (_CIFAR10, _CIFAR100):
        data = data.transpose(0, 3, 1, 2)  # torchvision keeps CIFAR as NHWC
    if data.dtype != np.uint8 or data.ndim != 4 or data.shape[1] != 3 or data.shape[0] != labels.shape[0]:
        raise SuiteError(f"{spec.name} {split} data in {where} has an unexpected layout "
                         f"{data.shape} {data.dtype} with {labels.shape[0]} labels")
    if labels.size and (labels.min() < 0 or labels.max() >= spec.num_classes):
        raise SuiteError(f"{spec.name} {split} labels in {where} span {labels.min()}..{labels.max()}, "
                         f"expected 0..{spec.num_classes - 1}")
    classes = list(getattr(ds, "classes", None) or [])
    return np.ascontiguousarray(data), labels, classes


def load_arrays(spec: DatasetSpec, root: Path, *, train_subset: int | None, test_subset: int | None,
                device: torch.device) -> DeviceDataset:
    """Verify and read both splits of ``spec`` under ``root``, take the subsets, put them on ``device``."""
    folder = root / spec.folder
    files = _verify(spec, folder)
    train_x, train_y, classes = _read_split(spec, root, folder, "train")
    test_x, test_y, test_classes = _read_split(spec, root, folder, "test")
    classes = classes or test_classes or [str(i) for i in range(spec.num_classes)]
    full = {"train": int(train_y.size), "test": int(test_y.size)}

    picks = {"train": pick_subset(train_y, train_subset, dataset=spec.name, split="train"),
             "test": pick_subset(test_y, test_subset, dataset=spec.name, split="test")}
    if picks["train"] is not None:
        train_x, train_y = train_x[picks["train"]], train_y[picks["train"]]
    if picks["test"] is not None:
        test_x, test_y = test_x[picks["test"]], test_y[picks["test"]]

    fingerprint = hashlib.sha256()
    for fname in sorted(files):
        fingerprint.update(f"{fname}:{files[fname]['md5']};".encode())
    subset_fingerprint(fingerprint, picks)
    meta = {
        "dataset": spec.name,
        "layout": f"torchvision {spec.folder or spec.name}",
        "root": str(folder),
        "files": files,
        "checksum_verified": all(f["checksum_verified"] for f in files.values()),
        "full_counts": full,
        "train_count": int(train_y.size),
        "test_count": int(test_y.size),
        "train_subset": train_subset,
        "test_subset": test_subset,
        "subset_rule": SUBSET_RULE,
        "fingerprint": fingerprint.hexdigest()[:16],
        "data_path": "device",
    }
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

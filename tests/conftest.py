"""Shared fixtures. Real CIFAR-10 comes from ../shared (never copied into the repository)."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SUITE_SHARED_DIR", REPO.parent / "shared"))
SPRITES = SHARED / "datasets" / "cifar10-ml4a"
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _sprite_rows(index: int) -> np.ndarray:
    from PIL import Image

    a = np.asarray(Image.open(SPRITES / f"cifar10_batch_{index}.png").convert("RGB"))
    # Pixel i of a row is (y, x) = divmod(i, 32): the channel planes side by side give the pickle layout.
    return np.concatenate([a[:, :, 0], a[:, :, 1], a[:, :, 2]], axis=1)


def _write_batch(path: Path, rows: np.ndarray, labels: list[int], label: str) -> None:
    # str keys and values: what the official (Python 2) pickles give under pickle.load(..., encoding="latin1").
    batch = {"batch_label": label, "labels": labels, "data": rows,
             "filenames": [f"{label}_{i}.png" for i in range(len(labels))]}
    with path.open("wb") as fh:
        pickle.dump(batch, fh, protocol=2)


def build_cifar10(root: Path) -> Path:
    """The standard `cifar-10-batches-py` layout under ``root`` from the shared sprites (1,000 test images)."""
    if not SPRITES.is_dir():
        pytest.skip(f"real CIFAR-10 sprites not found at {SPRITES}")
    labels = json.loads((SPRITES / "cifar10_labels.json").read_text())["labels"]
    out = root / "cifar-10-batches-py"
    out.mkdir(parents=True)
    for b in range(5):
        rows = np.concatenate([_sprite_rows(10 * b + s) for s in range(10)])
        _write_batch(out / f"data_batch_{b + 1}", rows, labels[10000 * b:10000 * (b + 1)],
                     f"training batch {b + 1} of 5")
    _write_batch(out / "test_batch", _sprite_rows(50), labels[50000:51000], "testing batch 1 of 1")
    with (out / "batches.meta").open("wb") as fh:
        pickle.dump({"label_names": CLASSES, "num_cases_per_batch": 10000, "num_vis": 3072}, fh, protocol=2)
    return root


@pytest.fixture(scope="session")
def cifar10_root(tmp_path_factory) -> Path:
    """A data directory holding real CIFAR-10 in torchvision's on-disk layout."""
    return build_cifar10(tmp_path_factory.mktemp("data"))

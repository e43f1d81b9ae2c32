"""``load_dataset``: one entry point for every data set, small (held on the device) or ImageNet-size (streamed)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch

from suite.core.errors import SuiteError, unknown
from suite.data.catalog import DATASETS
from suite.data.common import DATA_DIR_ENV, resolve_data_dir
from suite.data.device import DeviceDataset, load_arrays
from suite.data.download import Reachable, maybe_download
from suite.data.formats import SPECS, DatasetSpec
from suite.data.imagenet import FOLDER as IMAGENET_FOLDER
from suite.data.imagenet import StreamDataset, load_imagenet


def dataset_names() -> list[str]:
    return sorted(n for n, info in DATASETS.items() if n in SPECS or info.streamed)


def load_dataset(name: str, *, data_dir: str | os.PathLike[str] | None = None, train_subset: int | None = None,
                 test_subset: int | None = None, device: torch.device | str = "cpu",
                 download: bool | None = None, workers: int | None = None,
                 reachable: Reachable | None = None) -> DeviceDataset | StreamDataset:
    """Load ``name`` from its torchvision on-disk layout under the data directory.

    cifar10, cifar100, svhn, stl10: verified, decoded once, uint8 NCHW tensors on ``device`` (DeviceDataset).
    imagenet: ``<data-dir>/imagenet/{train,val}``, listed and checked, streamed through a DataLoader with
    ``workers`` processes (default ``$SUITE_DATA_WORKERS``, else min(8, CPUs)) (StreamDataset).

    ``download``: None (default) downloads missing files when every download host answers a TCP connect
    (``reachable(host, port)``, default a 3 s probe; ``$SUITE_DOWNLOAD`` 0/1 overrides None), False never,
    True always tries. ImageNet is never downloaded. ``train_subset`` / ``test_subset``: class-balanced,
    deterministic; above the split's size, all of it with a SubsetWarning. Missing or damaged data raise a
    one-line SuiteError naming where it looked and the layout it expects.
    """
    key = str(name).lower()
    if key not in dataset_names():
        raise unknown("dataset", name, dataset_names())
    root = dataset_parent(key, resolve_data_dir(data_dir))
    device = torch.device(device)
    if key == "imagenet":
        return load_imagenet(root, train_subset=train_subset, test_subset=test_subset, device=device,
                             workers=workers)
    spec = SPECS[key]
    folder = root / spec.folder
    missing = [f.name for f in spec.files if not (folder / f.name).is_file()]
    why = ""
    if missing:
        downloaded, why = maybe_download(spec, root, download, reachable)
        if downloaded:
            missing = [f.name for f in spec.files if not (folder / f.name).is_file()]
    if missing:
        raise _missing(spec, folder, missing, root, why)
    return load_arrays(spec, root, train_subset=train_subset, test_subset=test_subset, device=device)


def dataset_parent(key: str, root: Path) -> Path:
    """The data directory, or its parent when ``--data-dir`` names the data set's own folder (says so)."""
    if key == "imagenet":
        inside = root.name == IMAGENET_FOLDER and (root / "train").is_dir() and (root / "val").is_dir()
        found = "train/ and val/"
    else:
        spec = SPECS[key]
        inside = root.name == spec.folder and all((root / f.name).is_file() for f in spec.files)
        found = f"{len(spec.files)} {spec.name} file(s)"
    if not inside:
        return root
    warnings.warn(f"--data-dir {root} is the {key} folder itself (found {found} in it): using it from "
                  f"{root.parent}", stacklevel=2)
    return root.parent


def _missing(spec: DatasetSpec, folder: Path, missing: list[str], data_dir: Path, why: str) -> SuiteError:
    tail = f" ({why})" if why else ""
    return SuiteError(f"{spec.name} not found: looked for {', '.join(str(folder / m) for m in missing)}; "
                      f"{spec.how.replace('there', f'in {data_dir}')}, or point --data-dir / ${DATA_DIR_ENV} at a "
                      f"directory that has it{tail}")


__all__ = ["IMAGENET_FOLDER", "dataset_names", "load_dataset"]

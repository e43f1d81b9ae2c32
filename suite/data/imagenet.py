"""ImageNet-size data: JPEG files listed once, decoded and augmented in DataLoader workers, streamed per batch.

Layouts under ``<data-dir>/imagenet/``: torchvision's ImageNet (``train/`` and ``val/`` with one folder per
WordNet id, and ``meta.bin``, which gives the class names), or any ImageFolder tree with ``train/`` and ``val/``
(one folder per class, the same classes in both). Listing is torchvision's (``ImageNet`` / ``ImageFolder``),
decoding ``torchvision.io.decode_image`` (RGB), augmentation ``torchvision.transforms.v2`` on uint8 tensors:

- training: ``RandomResizedCrop(size)`` (scale 0.08-1, ratio 3/4-4/3) and ``RandomHorizontalFlip``;
- evaluation: ``Resize(round(size / 0.875))`` (256 for 224) and ``CenterCrop(size)``.

Batches leave the workers as uint8 (a quarter of float32's bytes), pinned when training on CUDA; the engine
copies them with ``non_blocking=True`` and converts / normalises on the device. Each image's augmentation is
drawn from its own seed (the epoch's seed and the image index), so the numbers do not depend on how many workers
there are. The data never fits in memory and is never downloaded.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from suite.core.errors import SuiteError
from suite.data.catalog import DATASETS
from suite.data.common import SUBSET_RULE, WORKERS_ENV, DamagedFileError, damaged, pick_subset, subset_fingerprint
from suite.data.datapath import num_batches

FOLDER = DATASETS["imagenet"].folder
DEFAULT_SIZE = 224
EVAL_CROP_FRACTION = 0.875  # resize 256, centre crop 224
SAMPLE_CHECKS = 8  # images per split decoded at load time, so a broken tree fails before training
HOW = ("expects torchvision's ImageNet layout or an ImageFolder tree: {folder}/train/<class>/*.JPEG and "
       "{folder}/val/<class>/*.JPEG (one folder per class, the same classes in both; meta.bin beside them "
       "gives the class names). ImageNet is never downloaded: get ILSVRC2012_img_train.tar, "
       "ILSVRC2012_img_val.tar and ILSVRC2012_devkit_t12.tar.gz from https://image-net.org (registration), "
       "put them in {folder} and unpack them once with torchvision.datasets.ImageNet('{folder}', split='train') "
       "and split='val'")
ARCHIVES = ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar", "ILSVRC2012_devkit_t12.tar.gz")


def default_workers() -> int:
    """``$SUITE_DATA_WORKERS``, else min(8, the CPUs this process may use)."""
    env = os.environ.get(WORKERS_ENV, "").strip()
    if env:
        try:
            return max(0, int(env))
        except ValueError:
            raise SuiteError(f"${WORKERS_ENV}={env!r} is not a number of workers") from None
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(8, cpus)


def decode(path: str) -> torch.Tensor:
    """uint8 CHW RGB image of ``path`` (torchvision's decoder), or a one-line error naming the file."""
    from torchvision.io import ImageReadMode, decode_image

    try:
        image: torch.Tensor = decode_image(path, mode=ImageReadMode.RGB)
        return image
    except Exception as exc:  # noqa: BLE001 - truncated, not an image, unreadable
        # torchvision prefixes "decode_jpeg, <file>.cpp:<line>, ": keep only what is wrong with the image.
        what = " ".join(re.sub(r"^\w+, \S+\.cpp:\d+, ", "", str(exc)).split()) or type(exc).__name__
        raise damaged(path, f"cannot decode: {what}", "ImageNet: from the ILSVRC2012 archive it came from") from None


def train_transform(size: int, flip: bool) -> Transform:
    from torchvision.transforms import v2

    steps = [v2.RandomResizedCrop(size, antialias=True)]
    if flip:
        steps.append(v2.RandomHorizontalFlip())
    compose: Transform = v2.Compose(steps)
    return compose


def eval_transform(size: int) -> Transform:
    from torchvision.transforms import v2

    compose: Transform = v2.Compose([v2.Resize(round(size / EVAL_CROP_FRACTION), antialias=True), v2.CenterCrop(size)])
    return compose


Transform = Callable[[torch.Tensor], torch.Tensor]  # a torchvision v2 transform on a uint8 CHW image
Item = tuple[torch.Tensor, int]  # one image and its label
Sample = tuple[str, int]  # torchvision's (path, class index)


class ImageFiles(Dataset[Item]):
    """Image files and labels; paths kept in a numpy array (no per-path Python objects for workers to copy)."""

    def __init__(self, root: str, paths: np.ndarray, targets: np.ndarray, transform: Transform | None = None,
                 seed: int | None = None):
        self.root, self.paths, self.targets = root, paths, targets
        self.transform, self.seed = transform, seed

    def __len__(self) -> int:
        return int(self.targets.size)

    def path(self, i: int) -> str:
        return os.path.join(self.root, self.paths[i].decode())

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        image = decode(self.path(i))
        if self.transform is not None:
            if self.seed is None:
                image = self.transform(image)
            else:
                # Each image's own seed: the same crops and flips whatever the number of workers.
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed((self.seed + int(i) * 0x9E3779B97F4A7C15) % (1 << 63))
                    image = self.transform(image)
        return image, int(self.targets[i])

    def subset(self, idx: np.ndarray | None) -> ImageFiles:
        if idx is None:
            return self
        return ImageFiles(self.root, self.paths[idx], self.targets[idx], self.transform, self.seed)

    def with_transform(self, transform: Transform, seed: int | None = None) -> ImageFiles:
        return ImageFiles(self.root, self.paths, self.targets, transform, seed)


def iterate(loader: DataLoader[Any]) -> Iterator[Any]:
    """Iterate ``loader``; when the consumer stops early (an error, Ctrl-C), stop its workers at once.

    torch's own shutdown joins each worker for up to 5 s when batches are still queued (a worker cannot exit
    while its result pipe is full): 10 s of nothing before a damaged file's one-line error.
    """
    it = iter(loader)
    try:
        yield from it
    except BaseException:
        for worker in getattr(it, "_workers", ()):
            if worker.is_alive():
                worker.terminate()
        raise


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)  # workers decode in parallel processes; more threads each only contend


@dataclass
class StreamDataset:
    """A data set read from files batch by batch through a DataLoader; same attributes as DeviceDataset."""

    name: str
    train_files: ImageFiles
    test_files: ImageFiles
    num_classes: int
    classes: list[str]
    meta: dict[str, Any] = field(default_factory=dict)
    workers: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    image_size: int = DEFAULT_SIZE
    kind: ClassVar[str] = "stream"  # the training engine iterates DataLoaders and copies each batch over

    @property
    def train_count(self) -> int:
        return len(self.train_files)

    @property
    def test_count(self) -> int:
        return len(self.test_files)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (3, self.image_size, self.image_size)

    def to(self, device: torch.device | str) -> StreamDataset:
        return replace(self, device=torch.device(device), meta=dict(self.meta))

    def _loader(self, files: ImageFiles, batches: list[list[int]]) -> DataLoader[Item]:
        return DataLoader(files, batch_sampler=batches, num_workers=self.workers,
                          pin_memory=self.device.type == "cuda", worker_init_fn=_worker_init,
                          prefetch_factor=4 if self.workers else None)

    def train_loader(self, batch_size: int, generator: torch.Generator, *, flip: bool = True,
                     image_size: int | None = None) -> DataLoader[Item]:
        """One epoch's batches (uint8 images, int64 labels), order and augmentation seeded from ``generator``."""
        n = self.train_count
        order = torch.randperm(n, generator=generator).tolist()
        seed = int(torch.randint(0, 1 << 62, (1,), generator=generator))
        batches = [order[b * batch_size:(b + 1) * batch_size] for b in range(num_batches(n, batch_size))]
        files = self.train_files.with_transform(train_transform(image_size or self.image_size, flip), seed)
        return self._loader(files, batches)

    def test_loader(self, batch_size: int, *, image_size: int | None = None) -> DataLoader[Item]:
        n = self.test_count
        batches = [list(range(s, min(s + batch_size, n))) for s in range(0, n, batch_size)]
        return self._loader(self.test_files.with_transform(eval_transform(image_size or self.image_size)), batches)


# --- finding and listing the files --------------------------------------------------------------------------

def _missing(folder: Path) -> SuiteError:
    found = [a for a in ARCHIVES if (folder / a).is_file()]
    have = (f" ({', '.join(found)} found but not unpacked)" if found else "")
    return SuiteError(f"imagenet not found: looked for {folder / 'train'} and {folder / 'val'}{have}; "
                      + HOW.format(folder=folder))


def _list_split(folder: Path, split: str, torchvision_layout: bool) -> tuple[list[str], list[str], list[Sample]]:
    """(class ids, class names, samples) of one split through torchvision's own listing."""
    from torchvision.datasets import ImageFolder, ImageNet

    try:
        if torchvision_layout:
            ds = ImageNet(str(folder), split=split)
            names = [c[0] if isinstance(c, tuple | list) else str(c) for c in ds.classes]
            return list(ds.wnids), names, ds.samples
        ds = ImageFolder(str(folder / split))
        return list(ds.classes), list(ds.classes), ds.samples
    except (FileNotFoundError, RuntimeError, OSError) as exc:
        text = " ".join(str(exc).split())[:300]
        raise SuiteError(f"imagenet {split} data in {folder / split} is not usable ({text}); "
                         + HOW.format(folder=folder)) from None


def _relative(samples: list[Sample], base: str) -> list[str]:
    # torchvision joins base, class and file name: slicing is exact there and far cheaper than os.path.relpath
    # on 1.3 M paths.
    cut = len(base) + 1
    return [p[cut:] if p.startswith(base + os.sep) else os.path.relpath(p, base) for p, _ in samples]


def _files(base: str, relative: list[str], samples: list[Sample]) -> ImageFiles:
    paths = np.array([p.encode() for p in relative], dtype=np.bytes_)
    targets = np.array([t for _, t in samples], dtype=np.int64)
    return ImageFiles(base, paths, targets)


def _sample_check(files: ImageFiles) -> None:
    n = len(files)
    for i in sorted({round(k * (n - 1) / max(SAMPLE_CHECKS - 1, 1)) for k in range(min(SAMPLE_CHECKS, n))}):
        decode(files.path(i))


def load_imagenet(root: Path, *, train_subset: int | None, test_subset: int | None, device: torch.device,
                  workers: int | None = None, image_size: int = DEFAULT_SIZE) -> StreamDataset:
    folder = root / FOLDER
    if not ((folder / "train").is_dir() and (folder / "val").is_dir()):
        raise _missing(folder)
    torchvision_layout = (folder / "meta.bin").is_file()
    wnids, names, train_samples = _list_split(folder, "train", torchvision_layout)
    val_ids, _, val_samples = _list_split(folder, "val", torchvision_layout)
    if val_ids != wnids:
        only_train, only_val = sorted(set(wnids) - set(val_ids)), sorted(set(val_ids) - set(wnids))
        raise SuiteError(f"imagenet in {folder}: train/ has {len(wnids)} class folders and val/ {len(val_ids)}; "
                         f"only in train/: {', '.join(only_train[:5]) or '-'}; only in val/: "
                         f"{', '.join(only_val[:5]) or '-'}; both need the same class folders")
    splits = {"train": train_samples, "val": val_samples}
    relative = {split: _relative(samples, str(folder / split)) for split, samples in splits.items()}
    train, test = (_files(str(folder / split), relative[split], splits[split]) for split in ("train", "val"))
    for files in (train, test):
        _sample_check(files)
    full = {"train": len(train), "test": len(test)}
    picks = {"train": pick_subset(train.targets, train_subset, dataset="imagenet", split="train"),
             "test": pick_subset(test.targets, test_subset, dataset="imagenet", split="test")}
    train, test = train.subset(picks["train"]), test.subset(picks["test"])

    # Paths, not contents: hashing 150 GB on every start is not practical (the class list and counts are in).
    digest = hashlib.sha256(f"{'torchvision' if torchvision_layout else 'imagefolder'};{wnids};".encode())
    for split, samples in splits.items():
        digest.update(f"{split}:{len(samples)};".encode())
        digest.update("".join(f"{rel}:{t};" for rel, (_, t) in zip(relative[split], samples, strict=True)).encode())
    subset_fingerprint(digest, picks)
    workers = default_workers() if workers is None else int(workers)
    if workers < 0:
        raise SuiteError(f"--workers must be 0 or more, got {workers}")
    meta = {
        "dataset": "imagenet",
        "layout": "torchvision ImageNet" if torchvision_layout else "ImageFolder",
        "root": str(folder),
        "checksum_verified": None,  # ImageNet publishes no per-file checksums
        "full_counts": full,
        "train_count": len(train),
        "test_count": len(test),
        "train_subset": train_subset,
        "test_subset": test_subset,
        "subset_rule": SUBSET_RULE,
        "fingerprint": digest.hexdigest()[:16],
        "fingerprint_rule": "sha256 of the layout, class ids and every file's relative path and label",
        "data_path": "dataloader",
        "workers": workers,
        "decoder": "torchvision.io.decode_image (RGB)",
        "train_transform": f"RandomResizedCrop({image_size}) + RandomHorizontalFlip (recipe flip)",
        "eval_transform": f"Resize({round(image_size / EVAL_CROP_FRACTION)}) + CenterCrop({image_size})",
    }
    return StreamDataset("imagenet", train, test, len(wnids), names, meta, workers, torch.device(device),
                         image_size)


__all__ = ["DamagedFileError", "ImageFiles", "StreamDataset", "default_workers", "load_imagenet"]

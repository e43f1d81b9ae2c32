"""Images/s of the suite's on-device data path against the ThreshNet authors' torchvision DataLoader pipeline.

Both read real CIFAR-10 (``cifar10_dir``). The authors' loader: torchvision CIFAR10, RandomHorizontalFlip +
ToTensor, batch 100, shuffle, num_workers=0. The suite's path: uint8 tensor on the device, seeded batch order,
flip on the batch tensor, float conversion. Only the data path is timed (no model). Goal: >= 20x.
pytest-benchmark times one epoch of the suite's path (its best round counts: the machine may be shared); the
DataLoader baseline is timed in the same test over a fixed number of images.
"""

from __future__ import annotations

import time
import warnings

import torch

from suite.data import DatasetChecksumWarning, load_dataset
from suite.data.datapath import Normalizer, plan_epoch, train_batches

TARGET = 20.0


def _authors_loader(ds, data_dir, limit: int) -> tuple[float, int]:
    """torchvision's CIFAR10 __getitem__ (PIL image + transforms) in a DataLoader, as the authors ran it."""
    import torchvision.transforms as T
    from torchvision.datasets import CIFAR10
    from torchvision.datasets.vision import VisionDataset

    # Re-packed pickles (the tests' copy) fail CIFAR10.__init__'s md5 check, so the decoded arrays are handed
    # to a CIFAR10 instance directly; every per-image step (__getitem__, PIL, transforms) is torchvision's own.
    dataset = CIFAR10.__new__(CIFAR10)
    VisionDataset.__init__(dataset, str(data_dir), transform=T.Compose([T.RandomHorizontalFlip(), T.ToTensor()]))
    dataset.train = True
    dataset.data = ds.train_x.cpu().permute(0, 2, 3, 1).contiguous().numpy()  # NHWC uint8, as torchvision has it
    dataset.targets = ds.train_y.tolist()
    loader = torch.utils.data.DataLoader(dataset, batch_size=100, shuffle=True, num_workers=0)
    images = 0
    start = time.perf_counter()
    for x, _y in loader:
        images += x.shape[0]
        if images >= limit:
            break
    return images / (time.perf_counter() - start), images


def test_datapath_vs_authors_dataloader(benchmark, quick, cifar10_dir, report_ratio):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatasetChecksumWarning)  # the tests' re-packed copy of CIFAR-10
        ds = load_dataset("cifar10", data_dir=cifar10_dir, device=device,
                          train_subset=2000 if quick else None, test_subset=100 if quick else None,
                          download=False)
    gen = torch.Generator().manual_seed(0)
    convert = Normalizer(None, torch.device(device))

    def epoch() -> int:
        n = 0
        plan = plan_epoch(ds.train_count, 100, gen, flip=True, device=device)
        for x, _y in train_batches(ds.train_x, ds.train_y, plan, convert):
            n += x.shape[0]
        if device == "cuda":
            torch.cuda.synchronize()
        return n

    n = benchmark.pedantic(epoch, rounds=1 if quick else 3, iterations=1, warmup_rounds=0 if quick else 1)
    ours = n / benchmark.stats.stats.min
    theirs, n_theirs = _authors_loader(ds, cifar10_dir, 300 if quick else 10_000)
    benchmark.extra_info.update(device=device, epoch_images=n, loader_images=n_theirs)
    report_ratio("datapath_vs_dataloader", ours, theirs, target=TARGET,
                 what=f"suite data path on {device} {ours:,.0f} images/s (best epoch of {n:,}) vs torchvision "
                      f"DataLoader flip+ToTensor, batch 100, 0 workers {theirs:,.0f} images/s over {n_theirs:,}")

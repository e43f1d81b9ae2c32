"""The training data path: batches drawn by index from a uint8 tensor already on the device, augmented there.

No PIL, no worker processes: per epoch one seeded draw on the CPU generator (order, flips, crop offsets) is
moved to the device once; each batch is then a gather, an optional crop/flip and a float conversion there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F


def num_batches(n: int, batch_size: int) -> int:
    batches = -(-n // batch_size)
    # A last batch of one image would break BatchNorm in train mode; it is dropped.
    return batches - 1 if n % batch_size == 1 and batches > 1 else batches


@dataclass
class EpochPlan:
    """One epoch's random choices, on the device: sample order, crop offsets, and which images to flip.

    Within each batch the order puts the images that keep their orientation first: ``unflipped[b]`` of them,
    then the ones to mirror. A flip is then one ``flip(3)`` of a contiguous slice instead of a per-image
    masked select (which runs element by element and costs more than the rest of the batch path together).
    """

    order: torch.Tensor  # (N,) int64 permutation of the training indices
    offsets: torch.Tensor | None  # (N, 2) int64 crop origins in [0, 2 * padding], aligned with ``order``
    unflipped: list[int] | None  # per batch, how many leading images are not mirrored (None: no flips)
    batch_size: int
    padding: int = 0

    def __len__(self) -> int:
        return num_batches(self.order.numel(), self.batch_size)

    def slices(self) -> Iterator[slice]:
        for b in range(len(self)):
            yield slice(b * self.batch_size, min((b + 1) * self.batch_size, self.order.numel()))


def plan_epoch(n: int, batch_size: int, generator: torch.Generator, *, flip: bool, crop_padding: int = 0,
               shuffle: bool = True, device: torch.device | str = "cpu") -> EpochPlan:
    """Draw an epoch's order and augmentations from ``generator`` (always the same number of draws)."""
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    flips = torch.rand(n, generator=generator) < 0.5 if flip else None
    offsets = torch.randint(0, 2 * crop_padding + 1, (n, 2), generator=generator) if crop_padding else None
    unflipped = None
    if flips is not None:
        batch = torch.arange(n) // batch_size
        regroup = torch.argsort(batch * 2 + flips.long(), stable=True)  # per batch: unflipped, then flipped
        order = order[regroup]
        offsets = None if offsets is None else offsets[regroup]
        unflipped = torch.bincount(batch[~flips], minlength=-(-n // batch_size)).tolist()
    device = torch.device(device)
    return EpochPlan(order.to(device), None if offsets is None else offsets.to(device), unflipped,
                     batch_size, crop_padding)


def random_crop(x: torch.Tensor, offsets: torch.Tensor, padding: int) -> torch.Tensor:
    """Zero-pad by ``padding``, cut each image at its own (top, left) offset (torchvision RandomCrop(pad))."""
    b, c, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    rows = offsets[:, 0, None] + torch.arange(h, device=x.device)  # (B, H)
    cols = offsets[:, 1, None] + torch.arange(w, device=x.device)  # (B, W)
    out = padded.gather(2, rows[:, None, :, None].expand(b, c, h, w + 2 * padding))
    return out.gather(3, cols[:, None, None, :].expand(b, c, h, w))


def take_batch(x: torch.Tensor, plan: EpochPlan, b: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch ``b`` of ``plan`` as uint8 images (cropped, mirrored) and the dataset indices they came from."""
    s = slice(b * plan.batch_size, min((b + 1) * plan.batch_size, plan.order.numel()))
    idx = plan.order[s]
    out = x.index_select(0, idx)  # index_select: far faster than advanced indexing on CPU
    if plan.offsets is not None:
        out = random_crop(out, plan.offsets[s], plan.padding)
    if plan.unflipped is not None:
        k = plan.unflipped[b]
        if k < out.shape[0]:
            out[k:] = out[k:].flip(3)
    return out, idx


def to_float(x: torch.Tensor, *, mean: torch.Tensor | None = None, std: torch.Tensor | None = None,
             channels_last: bool = False) -> torch.Tensor:
    """uint8 NCHW -> float32 in [0, 1] (ToTensor), then (x - mean) / std if given."""
    out = x.float().div_(255)
    if mean is not None and std is not None:
        out = out.sub_(mean).div_(std)
    return out.contiguous(memory_format=torch.channels_last) if channels_last else out


class Normalizer:
    """Float conversion with an optional per-channel normalisation, the constants kept on the device."""

    def __init__(self, normalize: tuple[tuple[float, ...], tuple[float, ...]] | None, device: torch.device,
                 channels_last: bool = False):
        self.mean = self.std = None
        if normalize is not None:
            self.mean = torch.tensor(normalize[0], device=device).view(1, -1, 1, 1)
            self.std = torch.tensor(normalize[1], device=device).view(1, -1, 1, 1)
        self.channels_last = channels_last

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return to_float(x, mean=self.mean, std=self.std, channels_last=self.channels_last)


def train_batches(x: torch.Tensor, y: torch.Tensor, plan: EpochPlan,
                  convert: Normalizer) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(float images, labels) per batch of the epoch ``plan``; everything stays on the data's device."""
    for b in range(len(plan)):
        images, idx = take_batch(x, plan, b)
        yield convert(images), y.index_select(0, idx)


def eval_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int,
                 convert: Normalizer) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    for start in range(0, x.shape[0], batch_size):
        yield convert(x[start:start + batch_size]), y[start:start + batch_size]

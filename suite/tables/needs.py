"""What reproducing a table takes (data set, GPU, Raspberry Pi) and whether this machine has it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from suite.tables.metrics import METRICS, TIME
from suite.tables.spec import COMPLEXITY, TableSpec

# Where torchvision's layouts put each data set under the data directory (what `suite run` reads).
DATA_FOLDERS = {"cifar10": ("cifar-10-batches-py",), "cifar100": ("cifar-100-python",), "svhn": ("svhn", ""),
                "stl10": ("stl10_binary",), "imagenet": ("imagenet", "ImageNet", "")}
DATA_MARKERS = {"svhn": "train_32x32.mat", "imagenet": "train"}
DEVICE_NAMES = {"gpu": "a CUDA GPU", "rpi4": "a Raspberry Pi 4", "rpi3b": "a Raspberry Pi 3B", "cpu": "a CPU"}


@dataclass(frozen=True)
class Needs:
    dataset: str | None
    devices: tuple[str, ...]  # hardware of its time columns

    def describe(self) -> str:
        parts = [f"data set {self.dataset}"] if self.dataset else [
            "no data set (timing only)" if self.devices else "nothing (complexity only)"]
        parts += [DEVICE_NAMES.get(d, d) + " for its time column" for d in self.devices]
        return "; ".join(parts)


def needs(spec: TableSpec) -> Needs:
    devices = tuple(dict.fromkeys(METRICS[c].hardware for c in spec.columns if METRICS[c].group == TIME))
    return Needs(spec.dataset, devices)


def dataset_present(name: str, data_dir: Path) -> bool:
    for folder in DATA_FOLDERS.get(name, (name,)):
        base = data_dir / folder if folder else data_dir
        marker = DATA_MARKERS.get(name)
        if (base / marker).exists() if marker else base.is_dir() and any(base.iterdir()):
            return True
    return False


def here(spec: TableSpec, *, data_dir: Path, cuda: bool, pi: str | None) -> tuple[str, list[str]]:
    """("yes" | "partly" | "no", reasons): whether this machine can reproduce ``spec``."""
    if spec.kind == COMPLEXITY:
        return "yes", ["complexity only: `suite report` computes it"]
    n = needs(spec)
    missing, partial = [], []
    if n.dataset and not dataset_present(n.dataset, data_dir):
        missing.append(f"{n.dataset} not found under {data_dir} (pass --data-dir, or let `suite run` download it"
                       f"{' - ImageNet is never downloaded' if n.dataset == 'imagenet' else ''})")
    for dev in n.devices:
        if dev == "gpu" and not cuda:
            partial.append("no CUDA GPU here: the GPU column stays empty (ratios on the CPU instead)")
        elif dev == "rpi4" and pi != "rpi4":
            partial.append("no Raspberry Pi 4 here: its column is predicted (never decides a claim) unless "
                           "measured through `suite bundle` or `--hardware rpi4@host`")
        elif dev == "rpi3b" and pi != "rpi3b":
            partial.append("no Raspberry Pi 3B here: its column needs `suite bundle` on a Pi 3B")
    if missing:
        return "no", missing + partial
    return ("partly" if partial else "yes"), partial or ["everything it needs is here"]

"""What reproducing a table takes (data set, GPU, Raspberry Pi) and whether this machine has it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from suite.data.catalog import dataset_info
from suite.tables.metrics import METRICS, TIME
from suite.tables.spec import COMPLEXITY, TableSpec
from suite.timing.profiles import PROFILES, Timing, board


@dataclass(frozen=True)
class Needs:
    dataset: str | None
    devices: tuple[str, ...]  # hardware of its time columns

    def describe(self) -> str:
        parts = [f"data set {self.dataset}"] if self.dataset else [
            "no data set (timing only)" if self.devices else "nothing (complexity only)"]
        parts += [f"a {board(d)} for its time column" for d in self.devices]
        return "; ".join(parts)


def needs(spec: TableSpec) -> Needs:
    devices = tuple(dict.fromkeys(hw for c in spec.columns if METRICS[c].group == TIME and (hw := METRICS[c].hardware)))
    return Needs(spec.dataset, devices)


def dataset_present(name: str, data_dir: Path) -> bool:
    info = dataset_info(name)
    marker = info.marker if info else None
    for folder in info.folders if info else (name,):
        base = data_dir / folder if folder else data_dir
        if (base / marker).exists() if marker else base.is_dir() and any(base.iterdir()):
            return True
    return False


def _present(name: str, *, cuda: bool, pi: str | None) -> bool:
    timing = PROFILES[name].timing
    if timing is Timing.CUDA:
        return cuda
    if timing is Timing.LOCAL_CPU:
        return True
    return pi == name  # a board: this machine must be one


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
        if not _present(dev, cuda=cuda, pi=pi):
            partial.append(PROFILES[dev].missing_here)
    if missing:
        return "no", missing + partial
    return ("partly" if partial else "yes"), partial or ["everything it needs is here"]

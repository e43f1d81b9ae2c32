"""Fake backends for `suite run` tests (tests/test_run*.py): every call recorded, nothing trained.

They fulfil the same contracts as the real ones (suite.run.contracts, suite.run.backends.Backends):
``mypy --follow-imports=silent tests/run_fakes.py`` checks them."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from suite.core.errors import SuiteError, unknown
from suite.device.peaks import Peak
from suite.run import Backends, RunConfig, Runner, prepare
from suite.tables import get_table

TABLE3_MODELS = [r.model for r in get_table("threshnet-3").rows]


@dataclass
class FakeDataset:
    name: str = "cifar10"
    num_classes: int = 10
    train_count: int = 200
    test_count: int = 100
    image_shape: tuple[int, int, int] = (3, 32, 32)
    meta: dict = field(default_factory=lambda: {"fingerprint": "fake", "train_count": 200, "test_count": 100})


@dataclass
class FakeRecipe:
    """A suite.run.contracts.RunRecipe."""

    name: str = "threshnet"
    epochs: int | None = None
    batch_size: int | None = 100
    image_size: int | None = None

    def resolve(self, model: str, dataset: str) -> FakeRecipe:
        return self

    def identity(self) -> dict:
        return self.to_dict()

    def to_dict(self) -> dict:
        return {"name": self.name, "epochs": self.epochs}


@dataclass(frozen=True)
class FakeProfile:
    """A suite.run.contracts.RunProfile: a local profile, native unless predicted (rpi4 off a Pi)."""

    name: str
    device: str = "cpu"
    threads: int = 1
    native: bool = True
    remote: None = None


class Fakes:
    """Fake backends that record every call; ``broken`` models raise in training."""

    def __init__(self, broken=(), *, train_seconds: float | None = None, peak_gflops: float | None = None):
        self.broken = set(broken)
        self.trained: list[tuple[str, int]] = []
        self.timed: list[tuple[str, str]] = []
        self.loaded = 0
        self.train_seconds = train_seconds  # set: each epoch trains the data set's images in this many seconds
        self.peak_gflops = peak_gflops  # set: the backends declare this training peak (suite.device.peaks.Peak)
        self.peaks: list[tuple[str, str, int, str | None]] = []  # (device, precision, threads, measure_by)
        self.calls: list[str] = []  # "peak" and "train", in order

    def backends(self) -> Backends:
        def fake_recipe(name: str, **overrides) -> FakeRecipe:
            return FakeRecipe(name, overrides.get("epochs"))

        def train(model, dataset, recipe, *, seed, work_dir, device, precision, channels_last, progress,
                  on_epoch_end=None, fast=False, compile=False, tensorboard_dir=None, keep_final=True) -> dict:
            assert Path(work_dir).is_dir()
            self.trained.append((model, seed))
            self.calls.append("train")
            epoch = {"epoch": 1, "test_error_pct": 10.0 + seed}
            if self.train_seconds is not None:
                epoch |= {"train_images": dataset.train_count, "train_seconds": self.train_seconds}
            if on_epoch_end is not None:
                on_epoch_end(dict(epoch))
            if model in self.broken:
                raise RuntimeError(f"{model} exploded")
            return {"model": model, "status": "ok", "error_best_pct": 10.0 + seed,
                    "error_final_pct": 11.0 + seed, "error_best_epoch": 1, "epochs": 1,
                    "epochs_planned": 1, "test_images": 100,
                    **({"history": [epoch]} if self.train_seconds is not None else {})}

        def training_peak(device: str, precision: str, threads: int, *, measure_by: str | None = None) -> Peak:
            self.peaks.append((device, precision, threads, measure_by))
            self.calls.append("peak")
            return Peak(self.peak_gflops, precision, "declared by the test's backends",
                        measured_now=measure_by is not None)

        def complexity(model: str, head: int, input_size: tuple[int, int, int]) -> dict:
            scale = 49.0 if input_size[1] == 224 else 1.0
            rec = {"params": 1_000_000 + head, "flops": int(1e8 * scale), "madd": int(2e8 * scale),
                   "memory_mb": 10.0 * scale, "memrw_mb": 20.0 * scale}
            return {"torchstat": rec, "complete": rec}

        def parse_profiles(text: str, threads: int | None = None) -> list[FakeProfile]:
            names = [n.strip() for n in text.split(",") if n.strip()]
            for n in names:
                if n not in ("cpu", "rpi4", "gpu"):
                    raise unknown("hardware", n, ("cpu", "gpu", "rpi4"))
            return [FakeProfile(n, native=n != "rpi4") for n in names]

        def latency(model: str, head: int, profile: FakeProfile, **kw) -> dict:
            self.timed.append((model, profile.name))
            predicted = profile.name == "rpi4"
            return {"per_image_ms": 40.0 if predicted else 5.0, "median_ms": 40.0 if predicted else 6.0,
                    "predicted": predicted, "expected_error_pct": 13.0 if predicted else None}

        def load(name: str, **kw) -> FakeDataset:
            self.loaded += 1
            return FakeDataset(name=name)

        return Backends(model_names=lambda: [*TABLE3_MODELS, "resnet18", "resnet50"],
                        dataset_names=lambda: ["cifar10", "svhn"], load_dataset=load,
                        get_recipe=fake_recipe,
                        train_and_evaluate=train, complexity=complexity, parse_profiles=parse_profiles,
                        latency=latency, training_peak=training_peak if self.peak_gflops is not None else None)


def config(tmp_path: Path, **kw) -> RunConfig:
    base = {"preset": "smoke", "out": str(tmp_path / "results"),
            "models": ("threshnet79", "hardnet68", "ghostnet")}
    return RunConfig(**(base | kw))


def run(cfg: RunConfig, fakes: Fakes):
    plan = prepare(cfg, fakes.backends())
    return plan, Runner(plan, fakes.backends()).execute()


def closed_port() -> int:
    with socket.socket() as s:  # a port nothing listens on: bound, then released
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_rejected_untouched(tmp_path, change: dict, words: list[str]) -> None:
    """prepare() refuses the configuration with every word in its message, before any data or results exist."""
    fakes = Fakes()
    with pytest.raises(SuiteError) as err:
        prepare(config(tmp_path, **change), fakes.backends())
    for w in words:
        assert w in str(err.value)
    assert not (tmp_path / "results").exists() and fakes.loaded == 0


def session_processes(sid: int) -> list[int]:
    """Processes of the session ``sid`` still alive, zombies left out: what a killed driver left running."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # fields after the name: state, ppid, pgrp, session
            alive.append(int(stat.parent.name))
    return alive

"""suite.recipes and suite.train: recipes, the acceptance run on real CIFAR-10, resuming, failure modes."""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import asdict

import pytest
import torch
from torch import nn

import suite.train as train_mod
import zoo
from suite.data import DatasetChecksumWarning, load_dataset
from suite.errors import SuiteError
from suite.recipes import get_recipe, recipe_from_dict
from suite.train import train_and_evaluate


def _load(root, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatasetChecksumWarning)
        return load_dataset("cifar10", data_dir=root, **kwargs)


@pytest.fixture(scope="module")
def small(cifar10_root):
    """300 training and 100 test images of real CIFAR-10."""
    return _load(cifar10_root, train_subset=300, test_subset=100)


# --- recipes ------------------------------------------------------------------------------------------------

def test_threshnet_recipe_matches_the_authors_code():
    r = get_recipe("threshnet")
    assert (r.optimizer, r.lr, r.betas, r.weight_decay) == ("adam", 1e-3, (0.9, 0.999), 0.0)
    assert r.test_batch_size == 100
    assert r.flip and r.crop_padding == 0 and r.normalize is None and r.image_size is None
    assert [r.lr_at(e) for e in (1, 74, 75, 149, 150, 200)] == [1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4, 2.5e-4]
    assert r.resolve("threshnet79", "cifar10").epochs == 150
    assert r.resolve("threshnet79", "svhn").epochs == 60
    assert r.resolve("threshnet79", "svhn").batch_size == 100
    assert get_recipe() == r  # the default


def test_dpnet_recipe_and_batch_rule():
    r = get_recipe("dpnet")
    assert (r.optimizer, r.lr, r.momentum, r.weight_decay) == ("sgd", 0.1, 0.9, 1e-5)
    assert (r.dropout, r.crop_padding) == (0.2, 4)
    assert r.resolve("resnet18", "cifar100").batch_size == 64
    assert r.resolve("presnet18a", "cifar100").batch_size == 64
    assert r.resolve("dpnet", "cifar100").batch_size == 128
    assert r.schedule == "cosine" and r.lr_at(1, 200) == 0.1 and r.lr_at(101, 200) == pytest.approx(0.05)


def test_overrides_and_round_trip():
    r = get_recipe("threshnet", lr="2e-3", milestones="10,20", flip="false", epochs="3", batch_size=50)
    assert (r.lr, r.milestones, r.flip, r.epochs, r.batch_size) == (2e-3, (10, 20), False, 3, 50)
    assert r.resolve("resnet18", "cifar10").batch_size == 50
    stored = json.loads(json.dumps(asdict(r)))
    assert recipe_from_dict(stored) == r
    with pytest.raises(SuiteError, match="did you mean threshnet"):
        get_recipe("threshnt")
    with pytest.raises(SuiteError, match="unknown recipe field"):
        get_recipe("threshnet", learning_rate=1)


# --- acceptance: ThreshNet79 on real CIFAR-10 ---------------------------------------------------------------

@pytest.fixture(scope="module")
def threshnet_runs(cifar10_root, tmp_path_factory):
    if "threshnet79" not in zoo.list_models():
        pytest.skip("threshnet79 is not registered in the zoo yet")
    data = _load(cifar10_root, train_subset=5000)
    runs = []
    for i in range(2):
        start = time.perf_counter()
        result = train_and_evaluate("threshnet79", data, "threshnet", seed=0, epochs=2,
                                    work_dir=tmp_path_factory.mktemp(f"threshnet{i}"))
        runs.append((result.to_dict(), time.perf_counter() - start))
    return runs


@pytest.mark.slow
def test_threshnet79_learns_on_real_cifar10(threshnet_runs):
    record, _ = threshnet_runs[0]
    assert record["status"] == "ok", record["reason"]
    assert record["train_images"] == 5000 and record["test_images"] == 1000 and record["epochs"] == 2
    assert record["error_final_pct"] < 72.0  # chance is 90 %
    assert record["num_classes"] == 10 and record["params"] > 0
    assert [h["lr"] for h in record["history"]] == [1e-3, 1e-3]
    assert record["recipe"]["batch_size"] == 100 and record["recipe"]["epochs"] == 2
    assert record["error_best_pct"] <= record["error_final_pct"] and "test set" in record["error_best_note"]
    assert record["provenance"]["seed"] == 0 and record["provenance"]["precision"] == "fp32"
    assert record["dataset_meta"]["checksum_verified"] is False
    json.dumps(record)  # one results.jsonl line


@pytest.mark.slow
def test_threshnet79_runs_are_bitwise_identical(threshnet_runs):
    (a, _), (b, _) = threshnet_runs
    assert a["error_final_pct"] == b["error_final_pct"] and a["weights_sha256"] == b["weights_sha256"]
    assert [h["train_loss"] for h in a["history"]] == [h["train_loss"] for h in b["history"]]


# --- resuming -----------------------------------------------------------------------------------------------

class _Stop(KeyboardInterrupt):
    pass


def _interrupt_after(epoch: int):
    def callback(entry: dict) -> None:
        if entry["epoch"] == epoch:
            raise _Stop
    return callback


# --- failure modes (a tiny stand-in model keeps these fast) -------------------------------------------------

class _Tiny(nn.Module):
    def __init__(self, num_classes: int, mode: str = "ok"):
        super().__init__()
        self.mode, self.calls = mode, 0
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU(), nn.Dropout(0.1),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(8, num_classes)

    def forward(self, x):
        self.calls += 1
        if self.mode == "raise" and self.calls > 2:
            raise RuntimeError("boom\nsecond line")
        out = self.classifier(self.features(x))
        return out * float("nan") if self.mode == "nan" and self.training and self.calls > 1 else out


@pytest.fixture
def tiny(monkeypatch):
    """Substitute the stand-in for every zoo model the engine builds; returns the list of builds."""
    def use(mode: str = "ok") -> list:
        calls = []

        def build(name, num_classes):
            calls.append(name)
            return _Tiny(num_classes, mode)

        monkeypatch.setattr(train_mod, "create_model", build)
        return calls
    return use


def test_resume_after_interrupt_matches_uninterrupted(small, tiny, tmp_path):
    # The stand-in has BatchNorm and Dropout, and the dpnet recipe crops, flips, normalises and uses SGD
    # momentum with a cosine schedule: every piece of state a resume must restore is exercised.
    calls = tiny()
    recipe = get_recipe("dpnet", epochs=3, batch_size=64)
    whole = train_and_evaluate("resnet18", small, recipe, seed=3, work_dir=tmp_path / "a").to_dict()
    with pytest.raises(KeyboardInterrupt):
        train_and_evaluate("resnet18", small, recipe, seed=3, work_dir=tmp_path / "b",
                           on_epoch_end=_interrupt_after(1))
    resumed = train_and_evaluate("resnet18", small, recipe, seed=3, work_dir=tmp_path / "b").to_dict()
    assert whole["status"] == resumed["status"] == "ok" and whole["dropout_layers"] == 1
    assert resumed["resumed_at"] == [1] and resumed["epochs"] == 3
    assert resumed["weights_sha256"] == whole["weights_sha256"]
    assert resumed["error_final_pct"] == whole["error_final_pct"]
    assert [h["train_loss"] for h in resumed["history"]] == [h["train_loss"] for h in whole["history"]]
    assert [h["lr"] for h in resumed["history"]] == [h["lr"] for h in whole["history"]]

    # A finished run is returned from its checkpoint without building or training a model.
    built = len(calls)
    again = train_and_evaluate("resnet18", small, recipe, seed=3, work_dir=tmp_path / "b").to_dict()
    assert again == resumed and len(calls) == built
    assert len(list((tmp_path / "b").glob("*.pt"))) == 1 and not list((tmp_path / "b").glob(".*tmp"))
    # Another seed is another run (its own checkpoint).
    other = train_and_evaluate("resnet18", small, recipe, seed=4, work_dir=tmp_path / "b", epochs=1)
    assert other.seed == 4 and len(list((tmp_path / "b").glob("*.pt"))) == 2


def test_nan_loss_is_diverged(small, tiny, tmp_path):
    tiny("nan")
    r = train_and_evaluate("resnet18", small, "threshnet", seed=0, epochs=3, work_dir=tmp_path)
    assert r.status == "diverged" and r.diverged_epoch == 1 and r.error_final_pct is None


def test_exception_is_failed_with_one_line(small, tiny, tmp_path):
    tiny("raise")
    r = train_and_evaluate("resnet18", small, "threshnet", seed=0, epochs=2, work_dir=tmp_path)
    assert r.status == "failed" and r.reason == "RuntimeError: boom second line"


def test_keyboard_interrupt_propagates(small, tiny, tmp_path):
    tiny()
    with pytest.raises(KeyboardInterrupt):
        train_and_evaluate("resnet18", small, "threshnet", seed=0, epochs=2, work_dir=tmp_path,
                           on_epoch_end=_interrupt_after(1))
    assert len(list(tmp_path.glob("*.pt"))) == 1


def test_bf16_and_channels_last_run(small, tiny, tmp_path):
    tiny()
    r = train_and_evaluate("resnet18", small, "threshnet", seed=0, epochs=1, work_dir=tmp_path,
                           precision="bf16", channels_last=True)
    assert r.status == "ok", r.reason
    assert r.provenance["precision"] == "bf16" and r.channels_last


def test_configuration_errors(small, tmp_path):
    with pytest.raises(SuiteError, match="fp16 needs a CUDA device"):
        train_and_evaluate("resnet18", small, "threshnet", seed=0, work_dir=tmp_path, precision="fp16")
    with pytest.raises(SuiteError, match="unknown precision"):
        train_and_evaluate("resnet18", small, "threshnet", seed=0, work_dir=tmp_path, precision="fp8")
    with pytest.raises(SuiteError, match="unknown model"):
        train_and_evaluate("resnet19x", small, "threshnet", seed=0, work_dir=tmp_path)
    assert torch.are_deterministic_algorithms_enabled() is False  # global flags restored

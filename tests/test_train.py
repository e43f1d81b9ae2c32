"""suite.train.recipes and suite.train: recipes, the acceptance run on real CIFAR-10, resuming, failure modes."""

from __future__ import annotations

import json
import math
import time
import warnings
from dataclasses import asdict

import numpy as np
import pytest
import torch
from torch import nn

import suite.train.engine as train_mod
from suite.core.errors import SuiteError
from suite.data import DatasetChecksumWarning, load_dataset
from suite.train import train_and_evaluate
from suite.train.recipes import get_recipe, recipe_from_dict

pytestmark = pytest.mark.filterwarnings("ignore:The image decoding and encoding capabilities:DeprecationWarning")


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


def test_thresholdnet_recipe_is_the_threshnet_setup_with_stated_choices():
    r = get_recipe("thresholdnet")
    t = get_recipe("threshnet")
    same = ("optimizer", "lr", "betas", "weight_decay", "default_batch_size", "test_batch_size", "schedule",
            "milestones", "gamma", "flip", "crop_padding", "normalize", "image_size")
    assert all(getattr(r, f) == getattr(t, f) for f in same)
    assert r.resolve("thresholdnet_v1", "cifar10").epochs == r.resolve("thresholdnet_v1", "stl10").epochs == 150
    assert r.resolve("thresholdnet_v1", "stl10").batch_size == 100 and r.image_size is None  # native 96x96
    assert "no STL-10 recipe" in r.notes and any("96x96" in c for c in r.choices)
    assert any("150 epochs" in c for c in r.choices)


def test_dpnet_choices_are_recorded_and_resolved_per_dataset():
    r = get_recipe("dpnet")
    assert r.resolve("resnet34", "cifar100").batch_size == 64 and r.resolve("presnet34b", "imagenet").batch_size == 64
    assert r.resolve("mobilenet_v3_large", "cifar10").batch_size == 128
    assert r.resolve("p_mobilenetv3", "cifar100").batch_size == 128  # not ResNet-based
    epochs = {d: r.resolve("dpnet", d).epochs for d in ("cifar10", "cifar100", "imagenet")}
    assert epochs == {"cifar10": 200, "cifar100": 200, "imagenet": 120}
    assert r.lr_at(121, 120) == pytest.approx(0.0, abs=1e-12)  # cosine to zero at the end of the run
    assert r.resolve("dpnet", "imagenet").normalize == ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    assert r.resolve("dpnet", "cifar100").normalize[0][0] == 0.5071
    assert len(r.choices) >= 5 and any("cosine" in c for c in r.choices) and any("120" in c for c in r.choices)
    assert "choices" not in r.identity() and "notes" not in r.identity() and "lr" in r.identity()


def test_recipes_command_lists_fields_and_choices(capsys):
    from suite.cli import main

    assert main(["recipes"]) == 0
    out = capsys.readouterr().out
    assert all(f"recipe {n}" in out for n in ("dpnet", "threshnet", "thresholdnet"))
    assert "choices (the paper states none of these)" in out and "momentum" in out
    assert main(["recipes", "dpnet", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["name"] == "dpnet" and record["choices"] == list(get_recipe("dpnet").choices)
    assert main(["recipes", "--json"]) == 0
    assert [r["name"] for r in json.loads(capsys.readouterr().out)] == ["dpnet", "threshnet", "thresholdnet"]
    assert main(["recipes", "dpnte"]) == 2
    assert "did you mean dpnet" in capsys.readouterr().err


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
    data = _load(cifar10_root, train_subset=1000)
    runs = []
    for i in range(2):
        start = time.perf_counter()
        result = train_and_evaluate("threshnet79", data, "threshnet", seed=0, epochs=1,
                                    work_dir=tmp_path_factory.mktemp(f"threshnet{i}"))
        runs.append((result.to_dict(), time.perf_counter() - start))
    return runs


@pytest.mark.slow
def test_threshnet79_trains_an_epoch_on_real_cifar10(threshnet_runs):
    record, _ = threshnet_runs[0]
    assert record["status"] == "ok", record["reason"]
    assert record["train_images"] == 1000 and record["test_images"] == 1000 and record["epochs"] == 1
    # one epoch on 1,000 images (10 steps) does not yet beat chance on the test set, but the training loss falls
    # below that of a uniform guess, ln 10 = 2.303 (2.19 measured at seed 0)
    assert record["history"][0]["train_loss"] < math.log(10) - 0.05
    assert record["num_classes"] == 10 and record["params"] > 0
    assert [h["lr"] for h in record["history"]] == [1e-3]
    assert record["recipe"]["batch_size"] == 100 and record["recipe"]["epochs"] == 1
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


# --- top-5 from the evaluation pass -------------------------------------------------------------------------

def test_topk_on_constructed_logits():
    from suite.train.topk import topk_correct, topk_error_pct, true_class_rank

    logits = torch.tensor([
        [9.0, 1, 2, 3, 4, 5, 6],  # true 0: rank 0
        [9.0, 8, 7, 6, 5, 4, 3],  # true 5: five classes above, rank 5 (top-5 wrong)
        [9.0, 8, 7, 6, 5, 4, 3],  # true 4: rank 4 (top-5 right)
        [1.0, 1, 1, 1, 1, 1, 1],  # all tied, true 6: six lower indices tie ahead, rank 6
        [1.0, 1, 1, 1, 1, 1, 1],  # all tied, true 2: rank 2, and top-1 wrong as argmax picks index 0
        [0.0, 5, 5, 0, 0, 0, 0],  # tie for first between 1 and 2, true 2: rank 1
        [0.0, float("nan"), 0, 0, 0, 0, 0],  # a NaN row is wrong at every k
    ])
    targets = torch.tensor([0, 5, 4, 6, 2, 2, 0])
    assert true_class_rank(logits, targets).tolist() == [0, 5, 4, 6, 2, 1, 7]
    hits = topk_correct(logits, targets, (1, 5))
    assert (hits[1].item(), hits[5].item()) == (1, 4)
    assert hits[1].item() == int((logits[:6].argmax(1) == targets[:6]).sum())  # top-1 is argmax, ties included
    assert topk_error_pct(logits, targets, 5) == pytest.approx(100 * 3 / 7)
    # Fewer than 5 classes: top-5 is undefined, not 100 %.
    four = torch.randn(3, 4)
    assert topk_correct(four, torch.tensor([0, 1, 2]), (1, 5))[5] is None
    assert topk_error_pct(four, torch.tensor([0, 1, 2]), 5) is None


def test_top5_is_stored_per_epoch_and_in_the_result(small, tiny, tmp_path):
    tiny()
    r = train_and_evaluate("resnet18", small, "threshnet", seed=0, epochs=2, work_dir=tmp_path).to_dict()
    assert r["status"] == "ok"
    fives = [h["test_top5_error_pct"] for h in r["history"]]
    assert all(f is not None and 0 <= f <= h["test_error_pct"] for f, h in zip(fives, r["history"], strict=True))
    assert r["top5_error_final_pct"] == fives[-1] and r["top5_error_best_pct"] == min(fives)
    assert r["top5_error_at_best_pct"] == fives[r["error_best_epoch"] - 1]


def test_without_keep_final_the_finished_state_is_not_saved_and_the_epochs_before_it_are(small, tiny, tmp_path):
    import torch

    tiny()
    r = train_and_evaluate("resnet18", small, "threshnet", seed=0, epochs=2, work_dir=tmp_path, keep_final=False)
    assert r.status == "ok" and len(r.history) == 2
    (saved,) = tmp_path.glob("*.pt")  # epoch 1's, for resuming; epoch 2 ended the job
    state = torch.load(saved, weights_only=True)
    assert state["epoch"] == 1 and state["result"] is None
    kept = train_and_evaluate("resnet18", small, "threshnet", seed=0, epochs=2, work_dir=tmp_path)
    assert kept.weights_sha256 == r.weights_sha256  # resumed from epoch 1: the same second epoch
    assert kept.resumed_at == [1]
    assert torch.load(saved, weights_only=True)["result"] is not None


# --- step and epoch time: the protocol, checked with a fake clock -------------------------------------------

class _FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, ms: float) -> None:
        self.now += ms / 1000.0


class _TimedTiny(nn.Module):
    """Training forwards take 500 ms for the first two calls of a model (cold start), then 10, 11, 12, 10...;
    an evaluation forward 1000 ms (it must never show in a step or an epoch time)."""

    def __init__(self, num_classes: int, clock: _FakeClock):
        super().__init__()
        self.clock, self.calls = clock, 0
        self.net = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                 nn.Linear(4, num_classes))

    def forward(self, x):
        if self.training:
            self.calls += 1
            self.clock.advance(500.0 if self.calls <= 2 else 10.0 + (self.calls - 3) % 3)
        else:
            self.clock.advance(1000.0)
        return self.net(x)


@pytest.fixture
def timed(monkeypatch):
    """A fake clock, the model above, and a 2 ms data path per training batch (drawn inside the step)."""
    clock = _FakeClock()
    monkeypatch.setattr(train_mod, "create_model", lambda name, num_classes: _TimedTiny(num_classes, clock))
    real = train_mod.train_batches

    def batches(*args, **kwargs):
        for batch in real(*args, **kwargs):
            clock.advance(2.0)
            yield batch

    monkeypatch.setattr(train_mod, "train_batches", batches)
    return clock


def _expected_steps(calls: range) -> list[float]:
    return [2.0 + (500.0 if c <= 2 else 10.0 + (c - 3) % 3) for c in calls]


def test_step_and_epoch_times_follow_the_protocol(small, timed, tmp_path):
    from suite.train.step_timing import StepTiming

    # 300 images, batch 50: 6 steps an epoch; warm-up: the first 2 steps of the first epoch.
    r = train_and_evaluate("resnet18", small, get_recipe("threshnet", batch_size=50), seed=0, epochs=2,
                           work_dir=tmp_path, timing=StepTiming(warmup_steps=2, clock=timed)).to_dict()
    assert r["status"] == "ok", r["reason"]
    e1, e2 = _expected_steps(range(1, 7)), _expected_steps(range(7, 13))
    h1, h2 = r["history"]
    assert h1["step_times_ms"]["warmup_excluded"] == 2 and h2["step_times_ms"]["warmup_excluded"] == 0
    assert h1["step_times_ms"]["steps"] == 4 and h2["step_times_ms"]["steps"] == 6
    assert h1["step_time_ms"] == pytest.approx(np.median(e1[2:])) and h1["step_time_ms"] == pytest.approx(12.5)
    assert h2["step_time_ms"] == pytest.approx(np.median(e2))
    # The epoch time is every step, warm-up and data path included, and no evaluation (1,000 ms a batch).
    assert h1["epoch_time_s"] == pytest.approx(sum(e1) / 1000) and h2["epoch_time_s"] == pytest.approx(sum(e2) / 1000)
    timed_steps = e1[2:] + e2
    assert r["step_time_ms"] == pytest.approx(np.median(timed_steps))
    assert r["step_time_p90_ms"] == pytest.approx(np.percentile(timed_steps, 90))
    assert r["step_time_iqr_ms"] == pytest.approx(np.percentile(timed_steps, 75) - np.percentile(timed_steps, 25))
    assert r["step_time_steps"] == 10
    assert r["epoch_times_s"] == pytest.approx([sum(e1) / 1000, sum(e2) / 1000])
    assert r["epoch_time_s"] == pytest.approx(np.median(r["epoch_times_s"]))
    proto = r["timing_protocol"]
    assert proto["warmup_steps_excluded"] == 2 and proto["device"] == "cpu" and "clock" in proto["timer"]
    assert "evaluation" in proto and "excluded" in proto["evaluation"]


def test_warmup_is_the_first_epochs_only_and_never_all_of_it():
    from suite.train.step_timing import StepTimer, StepTiming

    clock = _FakeClock()
    timer = StepTimer(torch.device("cpu"), StepTiming(warmup_steps=5, clock=clock))

    def epoch(step_ms):
        timer.epoch_start()
        for ms in step_ms:
            clock.advance(ms)
            timer.step_end()
        clock.advance(1000.0)  # evaluation, after the epoch's last boundary
        return timer.epoch_end()

    short = epoch([90.0, 30.0, 20.0])  # a 3-step first epoch keeps its last step
    assert (short.step_times_ms, short.warmup_excluded) == (pytest.approx([20.0]), 2)
    assert short.epoch_time_s == pytest.approx(0.14)
    later = epoch([11.0, 12.0, 13.0])  # the warm-up is spent: every step of a later epoch counts
    assert (later.step_times_ms, later.warmup_excluded) == (pytest.approx([11.0, 12.0, 13.0]), 0)
    assert later.summary()["median"] == pytest.approx(12.0) and later.epoch_time_s == pytest.approx(0.036)


class _FakeEvent:
    """A CUDA event stand-in on the fake clock; logs what the engine does with it."""

    log: list = []

    def __init__(self, clock: _FakeClock):
        self.clock, self.t = clock, None

    def record(self) -> None:
        self.t = self.clock.now
        _FakeEvent.log.append("record")

    def synchronize(self) -> None:
        _FakeEvent.log.append("sync")

    def elapsed_time(self, other: _FakeEvent) -> float:
        _FakeEvent.log.append("read")
        return (other.t - self.t) * 1000.0


def test_cuda_events_are_read_once_per_epoch(small, timed, tmp_path):
    from suite.train.step_timing import StepTiming

    _FakeEvent.log = []
    timing = StepTiming(warmup_steps=2, clock=lambda: pytest.fail("the clock is not used with events"),
                        events=lambda: _FakeEvent(timed))
    r = train_and_evaluate("resnet18", small, get_recipe("threshnet", batch_size=50), seed=0, epochs=2,
                           work_dir=tmp_path, timing=timing).to_dict()
    assert r["status"] == "ok", r["reason"]
    # Per epoch: 7 boundary events recorded with no sync or read between them, then one sync and the reads.
    epoch = ["record"] * 7 + ["sync"] + ["read"] * 7
    assert _FakeEvent.log == epoch * 2
    e1, e2 = _expected_steps(range(1, 7)), _expected_steps(range(7, 13))
    assert r["step_time_ms"] == pytest.approx(np.median(e1[2:] + e2))
    assert r["epoch_times_s"] == pytest.approx([sum(e1) / 1000, sum(e2) / 1000])
    assert "torch.cuda.Event" in r["timing_protocol"]["timer"]


def test_resume_keeps_the_step_times_before_it(small, timed, tmp_path):
    from suite.train.step_timing import StepTiming

    recipe = get_recipe("threshnet", batch_size=50, epochs=3)
    timing = StepTiming(warmup_steps=2, clock=timed)
    whole = train_and_evaluate("resnet18", small, recipe, seed=0, work_dir=tmp_path / "a", timing=timing).to_dict()
    with pytest.raises(KeyboardInterrupt):
        train_and_evaluate("resnet18", small, recipe, seed=0, work_dir=tmp_path / "b", timing=timing,
                           on_epoch_end=_interrupt_after(1))
    resumed = train_and_evaluate("resnet18", small, recipe, seed=0, work_dir=tmp_path / "b",
                                 timing=timing).to_dict()
    assert resumed["resumed_at"] == [1]
    assert resumed["history"][0]["step_times_ms"] == pytest.approx(whole["history"][0]["step_times_ms"])
    # The resumed process warms up again (its model's first two steps are slow and left out): 2 fewer steps.
    assert whole["step_time_steps"] == 16 and resumed["step_time_steps"] == 14
    kept = _expected_steps(range(1, 7))[2:] + _expected_steps(range(3, 13))  # epoch 1 + the resumed process
    assert resumed["step_time_ms"] == pytest.approx(np.median(kept))
    assert len(resumed["epoch_times_s"]) == 3


# --- the streamed (ImageNet) path ---------------------------------------------------------------------------

def test_imagenet_stream_trains_an_epoch_with_two_workers(imagefolder_root, tiny, tmp_path):
    tiny()
    data = load_dataset("imagenet", data_dir=imagefolder_root, workers=2)
    recipe = get_recipe("dpnet", batch_size=8, test_batch_size=5)
    r = train_and_evaluate("resnet18", data, recipe, seed=0, epochs=1, work_dir=tmp_path).to_dict()
    assert r["status"] == "ok", r["reason"]
    assert (r["dataset"], r["num_classes"], r["train_images"], r["test_images"]) == ("imagenet", 4, 24, 12)
    h = r["history"][0]
    assert h["train_images"] == 24 and h["step_times_ms"]["steps"] + h["step_times_ms"]["warmup_excluded"] == 3
    assert h["test_top5_error_pct"] is None and r["top5_error_final_pct"] is None  # 4 classes: no top-5
    assert 0 <= r["error_final_pct"] <= 100 and r["epoch_time_s"] > 0
    assert r["provenance"]["data_path"] == "dataloader" and r["provenance"]["data_workers"] == 2
    assert r["dataset_meta"]["layout"] == "ImageFolder" and r["dataset_meta"]["workers"] == 2
    assert r["recipe"]["normalize"] == [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]]  # ImageNet's constants


def test_imagenet_stream_resumes_like_an_uninterrupted_run(imagefolder_root, tiny, tmp_path):
    tiny()
    data = load_dataset("imagenet", data_dir=imagefolder_root, train_subset=12, test_subset=4, workers=0)
    recipe = get_recipe("dpnet", batch_size=4, test_batch_size=4, epochs=2)
    whole = train_and_evaluate("resnet18", data, recipe, seed=1, work_dir=tmp_path / "a").to_dict()
    with pytest.raises(KeyboardInterrupt):
        train_and_evaluate("resnet18", data, recipe, seed=1, work_dir=tmp_path / "b",
                           on_epoch_end=_interrupt_after(1))
    resumed = train_and_evaluate("resnet18", data, recipe, seed=1, work_dir=tmp_path / "b").to_dict()
    assert resumed["weights_sha256"] == whole["weights_sha256"]
    assert [h["train_loss"] for h in resumed["history"]] == [h["train_loss"] for h in whole["history"]]


def test_a_damaged_file_met_while_training_is_one_line(tmp_path, data_builders, tiny):
    tiny()
    root = data_builders.imagefolder(tmp_path / "data", classes=2, train_per_class=9, val_per_class=1)
    victim = sorted((root / "imagenet" / "train").rglob("*.JPEG"))[1]  # not among the files checked at load
    victim.write_bytes(b"\xff\xd8 truncated")
    data = load_dataset("imagenet", data_dir=root, workers=2)
    with pytest.raises(SuiteError) as err:
        train_and_evaluate("resnet18", data, get_recipe("dpnet", batch_size=6), seed=0, epochs=1,
                           work_dir=tmp_path / "work")
    assert "\n" not in str(err.value) and str(err.value).startswith(f"dataset file {victim} is damaged")

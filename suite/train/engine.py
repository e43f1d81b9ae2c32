"""The training engine: one (model, dataset, recipe, seed) run, resumable, deterministic on CPU.

``train_and_evaluate`` returns a TrainResult whose ``to_dict()`` is one results.jsonl line. A checkpoint is
written atomically after every epoch; calling again with the same arguments resumes from it, and a finished
run's checkpoint holds its result so that re-running returns it without training.

Two data paths, chosen by the data set's ``kind``: a ``DeviceDataset`` (the small sets) is held on the device
and batches are drawn by index there (suite.data.datapath); a ``StreamDataset`` (ImageNet) comes through DataLoader
workers as pinned uint8 batches, copied with ``non_blocking=True`` and converted on the device. Neither syncs
the host per batch. Every epoch's evaluation gives top-1 and top-5 from the same pass (suite.train.topk), and the
training steps are timed by the protocol of suite.train.step_timing.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import zoo
from suite.core.errors import SuiteError, one_line
from suite.core.provenance import provenance
from suite.data.datapath import Normalizer, eval_batches, num_batches, plan_epoch, train_batches
from suite.data.device import DeviceDataset
from suite.data.imagenet import StreamDataset, iterate
from suite.train import checkpoint as ckpt
from suite.train.events import EpochEvents
from suite.train.recipes import Recipe, get_recipe
from suite.train.result import BEST_NOTE, DATASET_META_KEYS, TrainResult, summary_fields
from suite.train.step_timing import StepTimer, StepTiming
from suite.train.support import (
    PRECISIONS,
    Bars,
    apply_dropout,
    autocast,
    check_precision,
    deterministic,
    make_optimizer,
    resize,
    seed_everything,
    sync,
    weights_sha256,
)
from suite.train.topk import topk_correct

__all__ = ["BEST_NOTE", "PRECISIONS", "StepTiming", "TrainResult", "apply_dropout", "train_and_evaluate",
           "weights_sha256"]
create_model = zoo.create_model  # module attribute so tests can substitute a tiny model


@dataclass
class _Run:
    model_name: str
    data: DeviceDataset | StreamDataset
    recipe: Recipe
    seed: int
    device: torch.device
    precision: str
    channels_last: bool
    path: Path
    identity: dict
    on_epoch_end: Callable[[dict], None] | None = None
    timing: StepTiming = field(default_factory=StepTiming)
    history: list[dict] = field(default_factory=list)
    step_times: list[list[float]] = field(default_factory=list)  # per epoch, the timed steps (ms)
    resumed_at: list[int] = field(default_factory=list)
    dropout_layers: int = 0
    model: nn.Module | None = None  # built by build()
    timer: StepTimer | None = None  # started by build()
    fast: bool = False  # --fast: cudnn.benchmark, TF32, non-deterministic kernels
    compile_model: bool = False  # --compile: torch.compile, eager where the model does not compile
    compiled: bool | None = None  # None: not asked for; False: fell back to eager
    events: EpochEvents | None = None  # live curves (suite.train.events), written after each checkpoint
    keep_final: bool = True  # False: the finished state is not written (the caller keeps the result itself)

    @property
    def streamed(self) -> bool:
        return self.data.kind == "stream"

    # Set by build() and by the recipe's resolution for this model and data set, before any epoch runs.
    @property
    def built(self) -> tuple[nn.Module, StepTimer]:
        assert self.model is not None and self.timer is not None
        return self.model, self.timer

    @property
    def batch_size(self) -> int:
        assert self.recipe.batch_size is not None
        return self.recipe.batch_size

    @property
    def epochs(self) -> int:
        assert self.recipe.epochs is not None
        return self.recipe.epochs

    def build(self, state: dict | None) -> None:
        seed_everything(self.seed)
        self.model = create_model(self.model_name, num_classes=self.data.num_classes)
        self.dropout_layers = apply_dropout(self.model, self.recipe.dropout)
        self.model.to(self.device)
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        if self.compile_model:
            self.compiled = compile_or_eager(self.model, self.model_name, self.data, self.device,
                                             self.channels_last)
        self.optimizer = make_optimizer(self.recipe, self.model.parameters())
        self.scaler = torch.amp.GradScaler("cuda") if self.precision == "fp16" else None
        self.generator = torch.Generator().manual_seed(self.seed)  # batch order and augmentation draws
        self.timer = StepTimer(self.device, self.timing)  # warm-up counted from this process's first epoch
        self.start_epoch = 1
        if state is not None:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            if self.scaler is not None:
                self.scaler.load_state_dict(state["scaler"])
            self.generator.set_state(state["generator"])
            torch.set_rng_state(state["torch_rng"])  # dropout and other in-model randomness
            if self.device.type == "cuda" and state.get("cuda_rng") is not None:
                torch.cuda.set_rng_state(state["cuda_rng"], self.device)
            self.history = list(state["history"])
            self.step_times = [t.tolist() for t in state.get("step_times_ms", [])]
            self.resumed_at = [*state.get("resumed_at", []), int(state["epoch"])]
            self.start_epoch = int(state["epoch"]) + 1
        self.convert = Normalizer(self.recipe.normalize, self.device, self.channels_last)
        if self.events is not None:
            self.events.resume(self.history)

    def save(self, epoch: int, result: dict | None = None) -> None:
        state = {
            "format": ckpt.FORMAT, "identity": self.identity, "epoch": epoch,
            "model": self.built[0].state_dict(), "optimizer": self.optimizer.state_dict(),
            "scaler": None if self.scaler is None else self.scaler.state_dict(),
            "generator": self.generator.get_state(), "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
            "history": self.history, "resumed_at": self.resumed_at, "result": result,
            # Every timed step of the epochs so far, so a resumed run's statistics cover the whole run.
            "step_times_ms": [torch.tensor(t, dtype=torch.float64) for t in self.step_times],
        }
        ckpt.save_atomic(state, self.path)

    # --- the two data paths: (float images, labels) on the device, no host sync per batch ---------------------

    def _train_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        recipe, data, device = self.recipe, self.data, self.device
        if isinstance(data, DeviceDataset):
            plan = plan_epoch(data.train_count, self.batch_size, self.generator, flip=recipe.flip,
                              crop_padding=recipe.crop_padding, device=device)
            yield from train_batches(data.train_x, data.train_y, plan, self.convert)
            return
        loader = data.train_loader(self.batch_size, self.generator, flip=recipe.flip,
                                   image_size=recipe.image_size)
        for images, labels in iterate(loader):
            yield (self.convert(images.to(device, non_blocking=True)), labels.to(device, non_blocking=True))

    def _eval_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        data, device, batch = self.data, self.device, self.recipe.test_batch_size
        if isinstance(data, DeviceDataset):
            yield from eval_batches(data.test_x, data.test_y, batch, self.convert)
            return
        for images, labels in iterate(data.test_loader(batch, image_size=self.recipe.image_size)):
            yield (self.convert(images.to(device, non_blocking=True)), labels.to(device, non_blocking=True))

    def train_epoch(self, epoch: int, bars: Bars) -> dict:
        recipe, device = self.recipe, self.device
        lr = recipe.lr_at(epoch, recipe.epochs)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        model, timer = self.built
        model.train()
        total = num_batches(self.data.train_count, self.batch_size)
        # Accumulated on the device; read once per epoch (no per-batch host sync in the hot loop).
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.int64)
        seen, every = 0, max(1, total // 25)
        sync(device)
        start = time.perf_counter()
        timer.epoch_start()  # before the data plan / DataLoader: the data path is part of the epoch
        for b, (x, y) in enumerate(self._train_batches(), 1):
            with autocast(self.precision, device):
                out = model(x)
                loss = F.cross_entropy(out, y, label_smoothing=recipe.label_smoothing)
            self.optimizer.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
                self.scaler.step(self.optimizer)
                self.scaler.update()
            else:
                loss.backward()
                self.optimizer.step()
            loss_sum += loss.detach().float() * y.shape[0]
            correct += (out.detach().argmax(1) == y).sum()
            seen += y.shape[0]
            timer.step_end()
            if bars.active and (b % every == 0 or b == total):  # host-side numbers only: no device sync
                bars.batch(b, seen / max(time.perf_counter() - start, 1e-9))
        timing = timer.epoch_end()  # on CUDA: the epoch's one event synchronisation
        sync(device)
        seconds = time.perf_counter() - start
        self.step_times.append(timing.step_times_ms)
        summary = timing.summary()
        return {"epoch": epoch, "lr": lr, "train_loss": float(loss_sum.item() / max(seen, 1)),
                "train_error_pct": 100.0 * (1 - correct.item() / max(seen, 1)), "train_images": seen,
                "train_seconds": seconds, "step_time_ms": summary["median"], "step_times_ms": summary,
                "epoch_time_s": timing.epoch_time_s}

    def evaluate(self) -> tuple[float, float, float | None]:
        """Test loss, top-1 and top-5 error (%) from one pass (top-5 None with fewer than 5 classes)."""
        device, model = self.device, self.built[0]
        model.eval()
        loss_sum = torch.zeros((), device=device)
        top1 = torch.zeros((), device=device, dtype=torch.int64)
        top5 = torch.zeros((), device=device, dtype=torch.int64)
        n = 0
        with torch.inference_mode(), autocast(self.precision, device):
            for x, y in self._eval_batches():
                out = model(x)
                loss_sum += F.cross_entropy(out.float(), y, reduction="sum")
                hits = topk_correct(out, y, (1, 5))
                hits1, hits5 = hits[1], hits[5]
                assert hits1 is not None  # k=1 exists for every head
                top1 += hits1
                if hits5 is not None:
                    top5 += hits5
                n += y.shape[0]
        n = max(n, 1)
        five = 100.0 * (1 - top5.item() / n) if self.data.num_classes >= 5 else None
        return float(loss_sum.item() / n), 100.0 * (1 - top1.item() / n), five

    def run(self, progress) -> TrainResult:
        total = int(self.epochs)
        bars = Bars(progress, self.model_name, total, self.start_epoch - 1,
                    num_batches(self.data.train_count, self.batch_size))
        status, diverged = "ok", None
        try:
            for epoch in range(self.start_epoch, total + 1):
                t0 = time.perf_counter()
                entry = self.train_epoch(epoch, bars)
                if not math.isfinite(entry["train_loss"]):
                    status, diverged = "diverged", epoch
                    entry.update(test_loss=None, test_error_pct=None, test_top5_error_pct=None,
                                 seconds=time.perf_counter() - t0)
                    self.history.append(entry)
                    break
                t1 = time.perf_counter()
                entry["test_loss"], entry["test_error_pct"], entry["test_top5_error_pct"] = self.evaluate()
                sync(self.device)
                entry["eval_seconds"] = time.perf_counter() - t1
                entry["seconds"] = time.perf_counter() - t0
                self.history.append(entry)
                bars.epoch(epoch, entry["test_error_pct"])
                if epoch < total:
                    self.save(epoch)
                    if self.events is not None:
                        self.events.epoch(entry)
                    if self.on_epoch_end is not None:
                        self.on_epoch_end(dict(entry))
        finally:
            bars.close()
        result = self.result(status, diverged=diverged)
        if self.keep_final:  # finished (or deterministically diverged): a re-run returns its result
            self.save(len(self.history), result.to_dict())
        if self.events is not None and self.history:
            self.events.epoch(self.history[-1])
        if self.on_epoch_end is not None and status == "ok":
            self.on_epoch_end(dict(self.history[-1]))
        return result

    def result(self, status: str, *, reason: str = "", diverged: int | None = None) -> TrainResult:
        train_s = sum(h["train_seconds"] for h in self.history)
        images = sum(h["train_images"] for h in self.history)
        model, meta, timer = self.model, self.data.meta, self.timer
        uses_events = timer.use_events if timer is not None else self.device.type == "cuda"
        data_path = {"data_path": "dataloader" if self.streamed else "device",
                     "data_workers": self.data.workers if isinstance(self.data, StreamDataset) else 0}
        return TrainResult(
            model=self.model_name, dataset=self.data.name, seed=self.seed, status=status,
            **summary_fields(self.history, self.step_times, status),
            epochs=len(self.history), epochs_planned=int(self.epochs),
            train_images=self.data.train_count, test_images=self.data.test_count,
            images_per_s=images / train_s if train_s > 0 else None,
            num_classes=self.data.num_classes,
            params=sum(p.numel() for p in model.parameters()) if model is not None else 0,
            precision=self.precision, channels_last=self.channels_last, recipe=self.recipe.to_dict(),
            provenance=provenance(self.device, precision=self.precision, seed=self.seed,
                                  channels_last=self.channels_last, deterministic=not self.fast,
                                  fast=self.fast, compile=self.compiled, **data_path),
            dataset_meta={k: meta.get(k) for k in DATASET_META_KEYS},
            history=list(self.history), reason=reason, diverged_epoch=diverged,
            dropout_layers=self.dropout_layers,
            weights_sha256=weights_sha256(model) if model is not None else "",
            resumed_at=list(self.resumed_at), seconds=sum(h.get("seconds", 0.0) for h in self.history),
            checkpoint=str(self.path),
            timing_protocol=self.timing.protocol(self.device, uses_events=uses_events),
        )


@contextmanager
def fast_kernels() -> Iterator[None]:
    """--fast: cudnn.benchmark, TF32 and non-deterministic kernels, as the authors ran (flags restored)."""
    saved = (torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled(), torch.backends.cudnn.benchmark,
             torch.backends.cudnn.deterministic, torch.backends.cudnn.allow_tf32,
             torch.get_float32_matmul_precision())
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = True, False
    torch.backends.cudnn.allow_tf32 = True
    torch.set_float32_matmul_precision("high")  # TF32 matmuls on GPUs that have them
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = saved[2], saved[3]
        torch.backends.cudnn.allow_tf32 = saved[4]
        torch.set_float32_matmul_precision(saved[5])


def compile_or_eager(model: nn.Module, name: str, data, device: torch.device,
                     channels_last: bool) -> bool:
    """torch.compile ``model`` in place (its state_dict keys stay); eager with one warning if it does not.

    Compilation errors surface at the first call, so a copy is compiled and stepped once (forward and
    backward on a random batch, the global RNG untouched) before the real model is compiled.
    """
    import copy

    shape = (2, *tuple(data.image_shape))
    try:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            probe = copy.deepcopy(model).train()
            probe.compile()
            x = torch.randn(shape, device=device)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            probe(x).float().sum().backward()
            del probe
    except Exception as exc:  # noqa: BLE001 - any compiler failure means: train it eagerly
        warnings.warn(f"--compile: {name} does not compile ({one_line(exc, 160)}); training it eagerly",
                      RuntimeWarning, stacklevel=2)
        return False
    model.compile()
    return True


def train_and_evaluate(model_name: str, dataset, recipe: Recipe | str, *, seed: int,
                       work_dir: str | os.PathLike, device: torch.device | str = "cpu",
                       precision: str = "fp32", channels_last: bool = False, progress=None,
                       epochs: int | None = None, on_epoch_end: Callable[[dict], None] | None = None,
                       timing: StepTiming | None = None, fast: bool = False,
                       compile: bool = False, events: EpochEvents | None = None,
                       keep_final: bool = True) -> TrainResult:
    """Train ``model_name`` on ``dataset`` with ``recipe`` and evaluate on its test set after every epoch.

    Configuration errors (precision, unknown model or recipe) raise SuiteError; so does a damaged data file met
    while streaming (one line naming it). An exception during training gives status "failed" with a one-line
    reason, a NaN/inf training loss status "diverged". KeyboardInterrupt propagates (the last epoch's checkpoint
    stays for resuming). ``on_epoch_end(entry)`` runs after each epoch's checkpoint is written. ``epochs``
    replaces the recipe's epoch count (part of the run identity, like every recipe field but its notes and
    choices, so it names a different checkpoint). ``work_dir`` may be shared: each run identity (model, dataset
    and subset fingerprint, seed, recipe, device type, precision, channels_last) has its own file. ``timing``
    sets the step-timing warm-up and, for tests, the clock and CUDA event factory (suite.train.step_timing).
    ``fast`` turns on cudnn.benchmark, TF32 and non-deterministic kernels (what the authors ran); ``compile``
    wraps the model in torch.compile, eager with a one-line warning where it does not compile. Both are part
    of the run identity (only when set, so that earlier checkpoints keep their names). ``events`` receives every
    epoch's numbers after its checkpoint (suite.train.events.TensorBoardEvents: live TensorBoard curves).
    ``keep_final=False`` skips the finished state's checkpoint, for a caller that stores the result itself and
    would delete that file at once (a run whose preset keeps no checkpoints); the epochs before it are still
    saved, so an interruption resumes from the last one.
    """
    device = torch.device(device)
    check_precision(precision, device)
    if isinstance(recipe, str):
        recipe = get_recipe(recipe)
    try:
        zoo.model_card(model_name)
    except zoo.UnknownModelError as exc:
        raise SuiteError(str(exc)) from None
    recipe = recipe.resolve(model_name, dataset.name)
    if epochs is not None:
        recipe = replace(recipe, epochs=int(epochs))
    if dataset.device != device:
        dataset = dataset.to(device)  # moved once, before any batch is drawn (a stream: where batches go)
    streamed = dataset.kind == "stream"
    if not streamed and recipe.image_size and dataset.image_shape[1:] != (recipe.image_size, recipe.image_size):
        dataset = replace(dataset, train_x=resize(dataset.train_x, recipe.image_size),
                          test_x=resize(dataset.test_x, recipe.image_size))
    identity = {
        "model": model_name, "dataset": dataset.name, "seed": int(seed),
        "recipe": recipe.identity(),  # notes and choices do not change numbers
        "data": dataset.meta.get("fingerprint"), "train_images": dataset.train_count,
        "test_images": dataset.test_count, "device": device.type, "precision": precision,
        "channels_last": bool(channels_last),
    }
    identity.update({k: True for k, v in (("fast", fast), ("compile", compile)) if v})
    identity = ckpt.normalise(identity)
    path = ckpt.checkpoint_path(work_dir, identity)
    state = ckpt.load(path, identity)
    if state is not None and state.get("result") is not None:
        return TrainResult(**state["result"])  # finished before: no retraining

    run = _Run(model_name, dataset, recipe, int(seed), device, precision, bool(channels_last), path, identity,
               on_epoch_end, timing or StepTiming(), fast=bool(fast), compile_model=bool(compile), events=events,
               keep_final=bool(keep_final))
    with fast_kernels() if fast else deterministic(device):
        try:
            run.build(state)
            return run.run(progress)
        except (KeyboardInterrupt, SuiteError):
            raise
        except Exception as exc:  # noqa: BLE001 - one model's failure must not stop the suite
            return run.result("failed", reason=one_line(exc, 300))
        finally:
            if events is not None:
                events.close()

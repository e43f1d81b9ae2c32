"""The training engine: one (model, dataset, recipe, seed) run, resumable, deterministic on CPU.

``train_and_evaluate`` returns a TrainResult whose ``to_dict()`` is one results.jsonl line. A checkpoint is
written atomically after every epoch; calling again with the same arguments resumes from it, and a finished
run's checkpoint holds its result so that re-running returns it without training.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import zoo
from suite import checkpoint as ckpt
from suite.data import DeviceDataset
from suite.datapath import Normalizer, eval_batches, num_batches, plan_epoch, train_batches
from suite.errors import SuiteError
from suite.provenance import provenance
from suite.recipes import Recipe, get_recipe

PRECISIONS = ("fp32", "bf16", "fp16")
BEST_NOTE = ("lowest test error over all epochs: model selection on the test set, as the ThreshNet authors "
             "reported it; error_final_pct (last epoch) is the unbiased figure")
create_model = zoo.create_model  # module attribute so tests can substitute a tiny model


@dataclass
class TrainResult:
    model: str
    dataset: str
    seed: int
    status: str  # "ok", "failed" or "diverged"
    error_final_pct: float | None
    error_best_pct: float | None
    error_best_epoch: int | None
    epochs: int  # completed
    epochs_planned: int
    train_images: int
    test_images: int
    images_per_s: float | None  # training throughput (data path + forward + backward + step)
    num_classes: int
    params: int
    precision: str
    channels_last: bool
    recipe: dict
    provenance: dict
    dataset_meta: dict
    history: list[dict] = field(default_factory=list)
    error_best_note: str = BEST_NOTE
    reason: str = ""
    diverged_epoch: int | None = None
    dropout_layers: int = 0  # nn.Dropout layers whose p the recipe set
    weights_sha256: str = ""
    resumed_at: list[int] = field(default_factory=list)  # epochs after which a run was resumed
    seconds: float = 0.0
    checkpoint: str = ""

    def to_dict(self) -> dict:
        # Plain JSON types (tuples -> lists, TorchVersion -> str): what results.jsonl and the checkpoint hold.
        return ckpt.normalise(asdict(self))


# --- setup helpers ------------------------------------------------------------------------------------------

def _check_precision(precision: str, device: torch.device) -> None:
    if precision not in PRECISIONS:
        raise SuiteError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
    if precision == "fp16" and device.type != "cuda":
        raise SuiteError(f"precision fp16 needs a CUDA device (AMP with GradScaler), not {device}; "
                         "use bf16 or fp32 on the CPU")


def _autocast(precision: str, device: torch.device):
    if precision == "fp32":
        return nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


@contextmanager
def _deterministic(device: torch.device) -> Iterator[None]:
    """Deterministic kernels where torch has them (warn elsewhere), restoring the global flags afterwards."""
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # required by deterministic cuBLAS
    saved = (torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled(), torch.backends.cudnn.benchmark,
             torch.backends.cudnn.deterministic)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = False, True
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = saved[2], saved[3]


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def apply_dropout(model: nn.Module, p: float | None) -> int:
    """Set ``p`` on every nn.Dropout* layer the model has (none are added); returns how many were set."""
    if p is None:
        return 0
    layers = [m for m in model.modules() if isinstance(m, nn.modules.dropout._DropoutNd)]
    for m in layers:
        m.p = float(p)
    return len(layers)


def _optimizer(recipe: Recipe, params) -> torch.optim.Optimizer:
    if recipe.optimizer == "adam":
        return torch.optim.Adam(params, lr=recipe.lr, betas=tuple(recipe.betas),
                                weight_decay=recipe.weight_decay)
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(params, lr=recipe.lr, momentum=recipe.momentum, nesterov=recipe.nesterov,
                               weight_decay=recipe.weight_decay)
    raise SuiteError(f"unknown optimizer {recipe.optimizer!r} in recipe {recipe.name!r}; valid: adam, sgd")


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Resize uint8 images once, before training (only when a recipe asks for a non-native size)."""
    out = [F.interpolate(c.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
           .round_().clamp_(0, 255).to(torch.uint8) for c in x.split(1024)]
    return torch.cat(out)


def weights_sha256(model: nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# --- progress -----------------------------------------------------------------------------------------------

class _Bars:
    """Epoch and batch bars on a rich Progress (given, or own one on a TTY; silent otherwise)."""

    def __init__(self, progress, label: str, epochs: int, done: int, batches: int):
        self.own = None
        if progress is None and sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            progress = self.own = Progress(TextColumn("{task.description}"), BarColumn(),
                                           MofNCompleteColumn(), TimeRemainingColumn(), transient=True)
            progress.start()
        self.progress, self.label = progress, label
        if progress is not None:
            self.epoch_task = progress.add_task(f"{label} epochs", total=epochs, completed=done)
            self.batch_task = progress.add_task(f"{label} batches", total=batches)

    @property
    def active(self) -> bool:
        return self.progress is not None

    def batch(self, done: int, loss: float | None, ips: float | None) -> None:
        if self.progress is not None:
            text = f"{self.label} loss {loss:.3f} {ips:,.0f} img/s"
            self.progress.update(self.batch_task, completed=done, description=text)

    def epoch(self, done: int, test_error: float) -> None:
        if self.progress is not None:
            self.progress.update(self.epoch_task, completed=done,
                                 description=f"{self.label} epochs (test error {test_error:.2f} %)")

    def close(self) -> None:
        if self.progress is not None:
            self.progress.remove_task(self.epoch_task)
            self.progress.remove_task(self.batch_task)
        if self.own is not None:
            self.own.stop()


# --- the run ------------------------------------------------------------------------------------------------

@dataclass
class _Run:
    model_name: str
    data: DeviceDataset
    recipe: Recipe
    seed: int
    device: torch.device
    precision: str
    channels_last: bool
    path: Path
    identity: dict
    on_epoch_end: Callable[[dict], None] | None = None
    history: list[dict] = field(default_factory=list)
    resumed_at: list[int] = field(default_factory=list)
    dropout_layers: int = 0

    def build(self, state: dict | None) -> None:
        _seed_everything(self.seed)
        self.model = create_model(self.model_name, num_classes=self.data.num_classes)
        self.dropout_layers = apply_dropout(self.model, self.recipe.dropout)
        self.model.to(self.device)
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.optimizer = _optimizer(self.recipe, self.model.parameters())
        self.scaler = torch.amp.GradScaler("cuda") if self.precision == "fp16" else None
        self.generator = torch.Generator().manual_seed(self.seed)  # batch order and augmentation draws
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
            self.resumed_at = [*state.get("resumed_at", []), int(state["epoch"])]
            self.start_epoch = int(state["epoch"]) + 1
        self.convert = Normalizer(self.recipe.normalize, self.device, self.channels_last)

    def save(self, epoch: int, result: dict | None = None) -> None:
        state = {
            "format": ckpt.FORMAT, "identity": self.identity, "epoch": epoch,
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scaler": None if self.scaler is None else self.scaler.state_dict(),
            "generator": self.generator.get_state(), "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
            "history": self.history, "resumed_at": self.resumed_at, "result": result,
        }
        ckpt.save_atomic(state, self.path)

    def train_epoch(self, epoch: int, bars: _Bars) -> dict:
        recipe, data, device = self.recipe, self.data, self.device
        lr = recipe.lr_at(epoch, recipe.epochs)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.model.train()
        plan = plan_epoch(data.train_count, recipe.batch_size, self.generator, flip=recipe.flip,
                          crop_padding=recipe.crop_padding, device=device)
        # Accumulated on the device; read once per epoch (no per-batch host sync in the hot loop).
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.int64)
        seen, every = 0, max(1, len(plan) // 25)
        _sync(device)
        start = time.perf_counter()
        for b, (x, y) in enumerate(train_batches(data.train_x, data.train_y, plan, self.convert), 1):
            with _autocast(self.precision, device):
                out = self.model(x)
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
            if bars.active and (b % every == 0 or b == len(plan)):  # only when someone watches
                bars.batch(b, loss.item(), seen / max(time.perf_counter() - start, 1e-9))
        _sync(device)
        seconds = time.perf_counter() - start
        return {"epoch": epoch, "lr": lr, "train_loss": float(loss_sum.item() / max(seen, 1)),
                "train_error_pct": 100.0 * (1 - correct.item() / max(seen, 1)), "train_images": seen,
                "train_seconds": seconds}

    def evaluate(self) -> tuple[float, float]:
        data, device = self.data, self.device
        self.model.eval()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.int64)
        with torch.inference_mode(), _autocast(self.precision, device):
            for x, y in eval_batches(data.test_x, data.test_y, self.recipe.test_batch_size, self.convert):
                out = self.model(x)
                loss_sum += F.cross_entropy(out.float(), y, reduction="sum")
                correct += (out.argmax(1) == y).sum()
        n = max(data.test_count, 1)
        return float(loss_sum.item() / n), 100.0 * (1 - correct.item() / n)

    def run(self, progress) -> TrainResult:
        total = int(self.recipe.epochs)
        bars = _Bars(progress, self.model_name, total, self.start_epoch - 1,
                     num_batches(self.data.train_count, self.recipe.batch_size))
        status, diverged = "ok", None
        try:
            for epoch in range(self.start_epoch, total + 1):
                t0 = time.perf_counter()
                entry = self.train_epoch(epoch, bars)
                if not math.isfinite(entry["train_loss"]):
                    status, diverged = "diverged", epoch
                    entry.update(test_loss=None, test_error_pct=None, seconds=time.perf_counter() - t0)
                    self.history.append(entry)
                    break
                t1 = time.perf_counter()
                entry["test_loss"], entry["test_error_pct"] = self.evaluate()
                _sync(self.device)
                entry["eval_seconds"] = time.perf_counter() - t1
                entry["seconds"] = time.perf_counter() - t0
                self.history.append(entry)
                bars.epoch(epoch, entry["test_error_pct"])
                if epoch < total:
                    self.save(epoch)
                    if self.on_epoch_end is not None:
                        self.on_epoch_end(dict(entry))
        finally:
            bars.close()
        result = self.result(status, diverged=diverged)
        self.save(len(self.history), result.to_dict())  # finished (or deterministically diverged): kept
        if self.on_epoch_end is not None and status == "ok":
            self.on_epoch_end(dict(self.history[-1]))
        return result

    def result(self, status: str, *, reason: str = "", diverged: int | None = None) -> TrainResult:
        finite = [h for h in self.history if h.get("test_error_pct") is not None]
        best = min(finite, key=lambda h: h["test_error_pct"]) if finite else None
        train_s = sum(h["train_seconds"] for h in self.history)
        images = sum(h["train_images"] for h in self.history)
        model = getattr(self, "model", None)
        meta = self.data.meta
        return TrainResult(
            model=self.model_name, dataset=self.data.name, seed=self.seed, status=status,
            error_final_pct=finite[-1]["test_error_pct"] if finite and status == "ok" else None,
            error_best_pct=best["test_error_pct"] if best else None,
            error_best_epoch=best["epoch"] if best else None,
            epochs=len(self.history), epochs_planned=int(self.recipe.epochs),
            train_images=self.data.train_count, test_images=self.data.test_count,
            images_per_s=images / train_s if train_s > 0 else None,
            num_classes=self.data.num_classes,
            params=sum(p.numel() for p in model.parameters()) if model is not None else 0,
            precision=self.precision, channels_last=self.channels_last, recipe=self.recipe.to_dict(),
            provenance=provenance(self.device, precision=self.precision, seed=self.seed,
                                  channels_last=self.channels_last, deterministic=True),
            dataset_meta={k: meta.get(k) for k in ("root", "checksum_verified", "fingerprint", "full_counts",
                                                   "train_subset", "test_subset", "subset_rule")},
            history=list(self.history), reason=reason, diverged_epoch=diverged,
            dropout_layers=self.dropout_layers,
            weights_sha256=weights_sha256(model) if model is not None else "",
            resumed_at=list(self.resumed_at), seconds=sum(h.get("seconds", 0.0) for h in self.history),
            checkpoint=str(self.path),
        )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300]


def train_and_evaluate(model_name: str, dataset: DeviceDataset, recipe: Recipe | str, *, seed: int,
                       work_dir: str | os.PathLike, device: torch.device | str = "cpu",
                       precision: str = "fp32", channels_last: bool = False, progress=None,
                       epochs: int | None = None,
                       on_epoch_end: Callable[[dict], None] | None = None) -> TrainResult:
    """Train ``model_name`` on ``dataset`` with ``recipe`` and evaluate on its test set after every epoch.

    Configuration errors (precision, unknown model or recipe) raise SuiteError; an exception during training
    gives status "failed" with a one-line reason, a NaN/inf training loss status "diverged". KeyboardInterrupt
    propagates (the last epoch's checkpoint stays for resuming). ``on_epoch_end(entry)`` runs after each
    epoch's checkpoint is written. ``epochs`` replaces the recipe's epoch count (part of the run identity, like
    every recipe field, so it names a different checkpoint). ``work_dir`` may be shared: each run identity
    (model, dataset and subset fingerprint, seed, recipe, device type, precision, channels_last) has its own file.
    """
    device = torch.device(device)
    _check_precision(precision, device)
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
        dataset = dataset.to(device)  # moved once, before any batch is drawn
    if recipe.image_size and dataset.image_shape[1:] != (recipe.image_size, recipe.image_size):
        dataset = replace(dataset, train_x=_resize(dataset.train_x, recipe.image_size),
                          test_x=_resize(dataset.test_x, recipe.image_size))
    identity = {
        "model": model_name, "dataset": dataset.name, "seed": int(seed),
        "recipe": {k: v for k, v in recipe.to_dict().items() if k != "notes"},  # notes do not change numbers
        "data": dataset.meta.get("fingerprint"), "train_images": dataset.train_count,
        "test_images": dataset.test_count, "device": device.type, "precision": precision,
        "channels_last": bool(channels_last),
    }
    identity = ckpt.normalise(identity)
    path = ckpt.checkpoint_path(work_dir, identity)
    state = ckpt.load(path, identity)
    if state is not None and state.get("result") is not None:
        return TrainResult(**state["result"])  # finished before: no retraining

    run = _Run(model_name, dataset, recipe, int(seed), device, precision, bool(channels_last), path, identity,
               on_epoch_end)
    with _deterministic(device):
        try:
            run.build(state)
            return run.run(progress)
        except (KeyboardInterrupt, SuiteError):
            raise
        except Exception as exc:  # noqa: BLE001 - one model's failure must not stop the suite
            return run.result("failed", reason=_one_line(exc))

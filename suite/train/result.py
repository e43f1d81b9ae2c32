"""TrainResult: one training run's outcome, as a results.jsonl ``train`` record, and how it is summarised.

Per epoch the history holds: ``epoch``, ``lr``, ``train_loss``, ``train_error_pct``, ``train_images``,
``train_seconds`` (wall time of the training part), ``test_loss``, ``test_error_pct`` (top-1),
``test_top5_error_pct`` (None with fewer than 5 classes), ``eval_seconds``, ``seconds``, and the step timing of
suite.train.step_timing: ``step_time_ms`` (median of the epoch's timed steps), ``step_times_ms`` (that epoch's summary:
steps, warmup_excluded, median, p90, iqr, min, max) and ``epoch_time_s`` (the training part, as timed on the
device).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

BEST_NOTE = ("lowest test error over all epochs: model selection on the test set, as the ThreshNet authors "
             "reported it; error_final_pct (last epoch) is the unbiased figure")
DATASET_META_KEYS = ("root", "layout", "checksum_verified", "fingerprint", "full_counts", "train_subset",
                     "test_subset", "subset_rule", "data_path", "workers")


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
    # Top-5 from the same evaluation pass as the top-1 error (None with fewer than 5 classes).
    top5_error_final_pct: float | None = None
    top5_error_best_pct: float | None = None  # lowest over epochs
    top5_error_at_best_pct: float | None = None  # at the epoch of the best top-1 error
    # Training step and epoch time (suite.train.step_timing: protocol in timing_protocol).
    step_time_ms: float | None = None  # median over every timed step of the run
    step_time_p90_ms: float | None = None
    step_time_iqr_ms: float | None = None
    step_time_steps: int = 0  # how many steps were timed
    epoch_time_s: float | None = None  # median over epochs of the training part of an epoch
    epoch_times_s: list[float] = field(default_factory=list)
    timing_protocol: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        # Plain JSON types (tuples -> lists, TorchVersion -> str): what results.jsonl and the checkpoint hold.
        from suite.train import checkpoint as ckpt  # torch: the result type itself stays light

        return ckpt.normalise(asdict(self))


def summary_fields(history: list[dict], step_times_ms: list[list[float]], status: str) -> dict:
    """The error, top-5 and timing fields of a result from its history and every epoch's timed steps."""
    from suite.train.step_timing import run_timing  # torch: the result type itself stays light

    finite = [h for h in history if h.get("test_error_pct") is not None]
    best = min(finite, key=lambda h: h["test_error_pct"]) if finite else None
    top5 = [h["test_top5_error_pct"] for h in finite if h.get("test_top5_error_pct") is not None]
    timed = [h for h in history if h.get("epoch_time_s") is not None]
    return {
        "error_final_pct": finite[-1]["test_error_pct"] if finite and status == "ok" else None,
        "error_best_pct": best["test_error_pct"] if best else None,
        "error_best_epoch": best["epoch"] if best else None,
        "top5_error_final_pct": finite[-1].get("test_top5_error_pct") if finite and status == "ok" else None,
        "top5_error_best_pct": min(top5) if top5 else None,
        "top5_error_at_best_pct": best.get("test_top5_error_pct") if best else None,
        **run_timing(step_times_ms, [h["epoch_time_s"] for h in timed]),
    }

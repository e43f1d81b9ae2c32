"""Run presets: how much of a recipe a run trains and how carefully it times (paper, quick, smoke)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from zoo.registry import KeyedRegistry


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    epochs: int | None = None  # None: the recipe's own epoch count
    train_subset: int | None = None  # None: the whole training set
    test_subset: int | None = None
    latency_protocol: dict | None = None  # suite.timing.latency.Protocol fields; None: its defaults
    per_image_batch: int = 100
    estimate: bool = False  # time a training step of each model and print the total before starting
    reproduction: bool = True  # False: a pipeline check whose numbers must never be read as the paper's
    # False: a finished job's checkpoint is removed (a smoke run of Table III would keep 2.3 GB of them); the
    # last checkpoint of an unfinished job always stays, for resuming. `suite run --keep-checkpoints` keeps all.
    keep_checkpoints: bool = True
    # --mode unless given (suite.core.modes): "auto" probes each model's exact modes before training, which
    # costs more than a short preset's whole training, so those train eagerly
    mode: str = "eager"
    # CPU jobs at once for `--executor local` (suite.run.slots): a count, or "auto" (a measured scaling probe);
    # `suite run --jobs` wins
    jobs: str | int = 1

    def to_dict(self) -> dict:
        return asdict(self)


_FAST_LATENCY = {"warmup": 1, "min_runs": 3, "max_runs": 10, "target_s": 0.05,
                 "batch_warmup": 1, "batch_min_runs": 1, "batch_max_runs": 2, "batch_target_s": 0.1}

# The most thorough first: the report prefers a run of an earlier preset, the estimate suggests the first check.
PRESETS = KeyedRegistry("preset", lambda p: p.name, (
    Preset("paper", "the full recipe on the full dataset, as the paper trained", estimate=True, mode="auto",
           jobs="auto"),
    Preset("quick", "3 epochs on 5,000 training / 1,000 test images: a trend, not a reproduction",
           epochs=3, train_subset=5000, test_subset=1000,
           latency_protocol={**_FAST_LATENCY, "min_runs": 10, "max_runs": 100, "target_s": 0.3,
                             "batch_min_runs": 3, "batch_max_runs": 10, "batch_target_s": 1.0},
           reproduction=False, keep_checkpoints=False),
    # Small enough for CI on 2 shared cores: all 14 models of Table III in a few minutes.
    Preset("smoke", "1 epoch on 100 training / 50 test images: checks the pipeline, reproduces "
                    "nothing",
           epochs=1, train_subset=100, test_subset=50, latency_protocol=_FAST_LATENCY,
           # enough to exercise the per-image path; batches of 20 at 224 px cost seconds per model
           per_image_batch=4, reproduction=False, keep_checkpoints=False),
))

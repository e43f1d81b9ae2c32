"""Training throughput of `--precision bf16` against fp32 (the papers' precision), through the suite's own engine.

Trains a model for one epoch on a class-balanced subset of real CIFAR-10 with the `threshnet` recipe, fp32
first (the baseline, timed by the engine in the same test), then bf16 under pytest-benchmark, and reports the
ratio of the engine's images/s. The issue's expectation on a CPU with AMX or AVX-512 bf16: about 2x.
Full mode: threshnet79 on 2,000 images; quick mode: squeezenet_cifar on 100 (one batch).
"""

from __future__ import annotations

import warnings

import pytest
import torch

from suite.data import DatasetChecksumWarning, load_dataset
from suite.train import train_and_evaluate


@pytest.mark.timeout(3600)  # bf16 without native support (no AMX / AVX-512 bf16) trains several times slower
def test_bf16_training_vs_fp32(benchmark, quick, cifar10_dir, report_ratio, tmp_path):
    model, images = ("squeezenet_cifar", 100) if quick else ("threshnet79", 2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatasetChecksumWarning)  # the tests' re-packed copy of CIFAR-10
        dataset = load_dataset("cifar10", data_dir=cifar10_dir, train_subset=images, test_subset=50 if quick else 100,
                               download=False)

    def train(precision: str):
        return train_and_evaluate(model, dataset, "threshnet", seed=0, work_dir=tmp_path / precision,
                                  precision=precision, epochs=1)

    def throughput(result) -> float:
        # checked after the timed call: a failure inside it would leave pytest-benchmark an empty record
        assert result.status == "ok", f"{model}: {result.status} ({result.reason})"
        return result.images_per_s

    fp32 = throughput(train("fp32"))
    bf16 = throughput(benchmark.pedantic(train, args=("bf16",), rounds=1, iterations=1))
    benchmark.extra_info.update(model=model, images=images, fp32_images_per_s=fp32, bf16_images_per_s=bf16)
    report_ratio("bf16_vs_fp32_training", bf16, fp32, target=2.0,
                 what=f"{model}, {images:,} images, batch 100, bf16 {bf16:.1f} vs fp32 {fp32:.1f} images/s, "
                      f"{torch.get_num_threads()} threads")

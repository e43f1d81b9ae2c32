"""Training throughput of `--precision bf16` against fp32 (the papers' precision), through the suite's own engine.

    python benchmarks/bench_precision.py [--model threshnet79] [--images 2000] [--data-dir DIR] [--threads N]

Trains MODEL for one epoch on a class-balanced subset of real CIFAR-10 with the `threshnet` recipe, once per
precision (fp32 first), and prints the engine's images/s and the ratio. The issue's expectation on this CPU
(AMX/AVX-512 bf16): about 2x. Without --data-dir the torchvision layout is built in a temporary directory
from ../shared/datasets/cifar10-ml4a, as the tests do. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from suite.data import DatasetChecksumWarning, load_dataset  # noqa: E402
from suite.train import train_and_evaluate  # noqa: E402


def throughput(model: str, dataset, precision: str, work_dir: Path, channels_last: bool) -> float:
    result = train_and_evaluate(model, dataset, "threshnet", seed=0, work_dir=work_dir / precision,
                                precision=precision, channels_last=channels_last, epochs=1)
    if result.status != "ok":
        raise SystemExit(f"{model} at {precision}: {result.status} ({result.reason})")
    return result.images_per_s


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="threshnet79")
    parser.add_argument("--images", type=int, default=2000, help="training images (default 2,000)")
    parser.add_argument("--data-dir", type=Path, help="directory holding cifar-10-batches-py")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--channels-last", action="store_true", help="both precisions in channels-last")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", DatasetChecksumWarning)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir
        if data_dir is None:
            sys.path.insert(0, str(REPO / "tests"))
            from conftest import build_cifar10

            data_dir = build_cifar10(Path(tmp) / "data")
        dataset = load_dataset("cifar10", data_dir=data_dir, train_subset=args.images, test_subset=100)
        fp32 = throughput(args.model, dataset, "fp32", Path(tmp), args.channels_last)
        bf16 = throughput(args.model, dataset, "bf16", Path(tmp), args.channels_last)
    ratio = bf16 / fp32
    layout = "channels-last" if args.channels_last else "contiguous"
    print(f"{args.model}, {args.images:,} images, batch 100, {layout}, {args.threads} thread(s), "
          f"torch {torch.__version__}")
    print(f"fp32: {fp32:8.1f} images/s")
    print(f"bf16: {bf16:8.1f} images/s")
    print(f"ratio bf16/fp32: {ratio:.2f}x (expected about 2x on a CPU with AMX or AVX-512 bf16)")
    return ratio


if __name__ == "__main__":
    main()

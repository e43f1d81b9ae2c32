"""Profile the whole zoo with the torchstat convention at 3x224x224 and 3x32x32 and print the time it takes.

    python benchmarks/bench_complexity.py [PATTERN]

Target: under 2 minutes for the whole zoo on a 2-core CPU machine. Building the models is timed separately.
"""

from __future__ import annotations

import sys
import time

import torch

import zoo
from suite.complexity import profile

SIZES = ((3, 224, 224), (3, 32, 32))


def main(argv: list[str]) -> int:
    names = zoo.list_models(argv[0] if argv else None)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {len(names)} models")
    build_s = profile_s = 0.0
    for name in names:
        t0 = time.perf_counter()
        model = zoo.create_model(name)
        t1 = time.perf_counter()
        cells = []
        for size in SIZES:
            r = profile(model, size)
            cells.append(f"{r.flops / 1e9:8.3f} G {r.memory_mb:8.2f} MB")
        t2 = time.perf_counter()
        build_s, profile_s = build_s + t1 - t0, profile_s + t2 - t1
        timing = f"build {t1 - t0:5.2f} s, profile {t2 - t1:5.2f} s"
        print(f"{name:24s} {' | '.join(cells)}   {timing}", flush=True)
    print(f"total: profile {profile_s:.1f} s, build {build_s:.1f} s, all {profile_s + build_s:.1f} s "
          f"({len(names)} models x {len(SIZES)} sizes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

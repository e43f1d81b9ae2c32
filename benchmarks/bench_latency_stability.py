"""Is the CPU timing protocol repeatable? Back-to-back `suite latency MODEL --hardware cpu` measurements.

Prints each run's median latency (batch 1) and per-image time (batch 100), then the spread max/min - 1 of
each. Target: within 10 % on an idle machine. Runs are separate processes by default (what a user sees:
thread pools, allocator and CPU frequency start afresh); ``--in-process`` re-measures one model object.

    python benchmarks/bench_latency_stability.py [--model mobilenet_v2] [--repeats 3] [--in-process]

Exit code 0 when both spreads are within ``--tolerance`` (default 0.10), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_subprocess(model: str, extra: list[str]) -> dict:
    cmd = [sys.executable, "-m", "suite", "latency", model, "--hardware", "cpu", "--json", *extra]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr}")
    return json.loads(out.stdout)


def run_in_process(model_obj, threads: int | None) -> dict:
    from suite.latency import measure_latency

    return measure_latency(model_obj, "cpu", threads=threads).to_dict()


def spread(values: list[float]) -> float:
    return max(values) / min(values) - 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="mobilenet_v2")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int)
    p.add_argument("--tolerance", type=float, default=0.10)
    p.add_argument("--in-process", action="store_true")
    args = p.parse_args(argv)
    extra = ["--threads", str(args.threads)] if args.threads else []
    model_obj = None
    if args.in_process:
        sys.path.insert(0, str(REPO))
        import zoo

        model_obj = zoo.create_model(args.model)
    results = []
    for i in range(args.repeats):
        if args.in_process:
            r = run_in_process(model_obj, args.threads)
        else:
            r = run_subprocess(args.model, extra)
        results.append(r)
        print(f"run {i + 1}: median {r['median_ms']:.3f} ms (p90 {r['p90_ms']:.3f}, IQR {r['iqr_ms']:.3f}, "
              f"{r['runs']} runs, {r['threads']} threads); per image {r['per_image_ms']:.3f} ms "
              f"(batch {r['per_image_batch']}, {r['per_image_runs']} runs)", flush=True)
    s_med = spread([r["median_ms"] for r in results])
    s_per = spread([r["per_image_ms"] for r in results])
    ok = s_med <= args.tolerance and s_per <= args.tolerance
    how = "in-process" if args.in_process else "subprocesses"
    where = f"{results[0]['provenance']['device_name']}, {results[0]['threads']} threads"
    print(f"spread (max/min - 1): median {100 * s_med:.1f} %, per image {100 * s_per:.1f} % "
          f"-> {'OK' if ok else 'ABOVE'} the {100 * args.tolerance:.0f} % target ({how}, {where})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

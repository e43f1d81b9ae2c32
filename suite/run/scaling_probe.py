"""The measured scaling probe behind ``--jobs auto``: aggregate training images/s of k processes side by side.

A few training steps of a small Table III model (``MODEL``) at batch 100 on synthetic 32x32 data, in each of
k worker processes with the given threads and core sets, all stepping at once; one process of all threads is
the baseline. The processes are started once (``python -m suite.run.scaling_probe``; loading torch is most of
the cost) and reused for every round. The result is cached per host (suite.core.hostcache), so ``auto`` is
measured once and a re-run makes the same choice (the threads per job name the run). A probe on a busy machine
(the timing protocol's load rule) is kept too, with that note, which the banner repeats: several threads of one
process suffer more from other processes than one thread each, so its figures favour more slots; removing
``<cache>/scaling_probe.json`` measures again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence

from .slots import ProbeResult

MODEL = "squeezenet_cifar"  # a small row of Table III
BATCH = 100
SHAPE = (3, 32, 32)
STEP_S = 0.5  # each round times steps for at least this long (and at least two steps), after one warm-up step
CACHE_KIND = "scaling_probe"


def _key(rounds: Sequence[tuple[int, int]], pin: bool) -> str:
    from importlib.metadata import version

    from suite.core.hostcache import host_key

    return host_key(f"torch={version('torch')}", MODEL, BATCH, "x".join(map(str, SHAPE)),
                    ";".join(f"{k}x{t}" for k, t in rounds), f"pin={pin}")


def _busy(cores: int) -> str | None:
    """The 1-minute load average when other processes keep the cores busy (the busy rule of the timing protocol)."""
    from suite.timing.ondevice.timing_protocol import BUSY_LOAD_PER_CORE

    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):
        return None
    return f"load average {load:.1f} on {cores} cores" if load - 1.0 > BUSY_LOAD_PER_CORE * cores else None


def probe(rounds: Sequence[tuple[int, int]], cores: Sequence[int], pin: bool) -> ProbeResult:
    """{k: aggregate images/s} for each (k processes, threads each) round ({} when the probe cannot run); cached
    per host unless the machine was busy."""
    from suite.core import hostcache

    from .slots import layout

    key = _key(rounds, pin)
    cached = hostcache.read(CACHE_KIND, key)
    if isinstance(cached, dict) and isinstance(cached.get("rates"), dict) and cached["rates"]:
        return ProbeResult({int(k): float(v) for k, v in cached["rates"].items()}, cached.get("busy"))
    busy = _busy(len(cores))
    procs = [subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
             for _ in range(max(k for k, _ in rounds))]
    rates: dict[int, float] = {}
    try:
        for p in procs:
            if _reply(p) != {"ready": True}:
                return ProbeResult({})
        for k, threads in rounds:
            sets = layout(k, cores, pin) or ((tuple(cores),) * k if pin else ((),) * k)
            for p, cpus in zip(procs[:k], sets, strict=True):
                assert p.stdin is not None
                p.stdin.write(json.dumps({"threads": threads, "cores": list(cpus)}) + "\n")
                p.stdin.flush()
            replies = [_reply(p) for p in procs[:k]]
            if any("images_per_s" not in r for r in replies):
                return ProbeResult({})
            rates[k] = sum(float(r["images_per_s"]) for r in replies)
        busy = busy or _busy(len(cores))
    except (OSError, ValueError):
        return ProbeResult({})
    finally:
        for p in procs:
            try:
                if p.stdin is not None:
                    p.stdin.close()
                p.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                p.kill()
                p.wait()
            if p.stdout is not None:
                p.stdout.close()
    # kept even when busy (and said so): a re-run must make the same choice, or it would start another run folder
    hostcache.write(CACHE_KIND, key, {"rates": {str(k): v for k, v in rates.items()}, "busy": busy})
    return ProbeResult(rates, busy)


def _reply(proc: subprocess.Popen) -> dict:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return json.loads(line) if line.strip() else {}


def main() -> int:
    from suite.run.executors.worker import die_with_parent

    die_with_parent()
    import torch

    import zoo

    torch.manual_seed(0)
    net = zoo.create_model(MODEL, num_classes=10).train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(BATCH, *SHAPE)
    y = torch.randint(0, 10, (BATCH,))

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()

    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        order = json.loads(line)
        torch.set_num_threads(int(order["threads"]))
        if order.get("cores") and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, order["cores"])
        step()  # warm-up: the thread pool resized, the caches filled
        steps, t0 = 0, time.perf_counter()
        while steps < 2 or time.perf_counter() - t0 < STEP_S:
            step()
            steps += 1
        print(json.dumps({"images_per_s": steps * BATCH / (time.perf_counter() - t0)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

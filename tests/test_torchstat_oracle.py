"""Our torchstat convention against the real torchstat 0.0.7, run in a subprocess (it patches classes).

Every total must be equal to the unit: params, FLOPs, MAdd and MemR+W bytes as integers, Memory (torchstat
sums float32 MB per layer) to 1e-6 MB, and all five printed figures character for character.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import zoo
from suite.complexity import profile

pytest.importorskip("torchstat", reason="torchstat==0.0.7 (the `test` extra) is the oracle")

SCRIPT = Path(__file__).parent / "oracle" / "run_torchstat.py"
PAPER, SMALL = "3x224x224", "3x64x64"  # the big models' rows run at 64x64 to keep the suite fast
CASES = [  # model, head, input: three of the papers' models at the published size, the rest smaller
    ("threshnet79", 10, PAPER),
    ("hardnet68", 1000, PAPER),
    ("resnet50", 1000, PAPER),
    ("mobilenet_v2", 1000, SMALL),
    ("squeezenet_cifar", 100, SMALL),
    ("resnet18", 1000, SMALL),
    ("densenet121", 1000, SMALL),
    ("efficientnet_b0", 1000, SMALL),
    ("mobilenet_v3_small", 1000, SMALL),
    ("shufflenet_v2_x1_0", 1000, SMALL),
    ("ghostnet", 1000, SMALL),
    ("mobilenetv2_cifar", 100, SMALL),
]


def _round_value(value: float, binary: bool = False) -> str:
    """How torchstat prints a total (2 decimals, largest unit that fits)."""
    div = 1024.0 if binary else 1000.0
    for power, unit in ((4, "T"), (3, "G"), (2, "M"), (1, "K")):
        if value // div**power > 0:
            return f"{round(value / div**power, 2)}{unit}"
    return str(value)


def test_enough_oracle_models():
    assert sum(name in zoo.list_models() for name, _, _ in CASES) >= 10


def _run_oracle(cases: list[tuple[str, int, str]]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(SCRIPT), *(str(x) for case in cases for x in case)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def oracle_runs() -> dict[str, dict]:
    """Every registered case's torchstat totals (or its error), from two oracle processes that share the cases
    (most of a process's start is importing torch)."""
    cases = [c for c in CASES if c[0] in zoo.list_models()]
    with ThreadPoolExecutor(max_workers=2) as pool:
        procs = list(pool.map(_run_oracle, [cases[0::2], cases[1::2]]))
    found: dict[str, dict] = {}
    for proc in procs:
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                found[record["model"]] = record
    stderr = "\n".join(proc.stderr[-1000:] for proc in procs)
    for name, _, _ in cases:  # a case with no line: its process died before printing it
        found.setdefault(name, {"model": name, "error": stderr})
    return found


@pytest.mark.slow
@pytest.mark.oracle
@pytest.mark.parametrize(("name", "head", "size"), CASES, ids=[c[0] for c in CASES])
def test_equals_torchstat(name, head, size, oracle_runs):
    assert name in oracle_runs, f"{name} is not a zoo model"
    oracle = oracle_runs[name]
    assert "error" not in oracle, oracle.get("error")
    r = profile(zoo.create_model(name, num_classes=head), tuple(int(s) for s in size.split("x")))
    memrw_bytes = round(r.memrw_mb * 2**20)
    assert (r.params, r.flops, r.madd, memrw_bytes) == (
        oracle["params"], oracle["flops"], oracle["madd"], oracle["memrw_bytes"])
    assert r.memory_mb == pytest.approx(oracle["memory_mb"], abs=1e-6)
    printed = oracle["printed"]
    assert printed == {"params": f"{r.params:,}", "memory": f"{r.memory_mb:.2f}",
                       "madd": _round_value(r.madd), "flops": _round_value(r.flops),
                       "memrw": _round_value(memrw_bytes, binary=True)}

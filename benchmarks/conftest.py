"""The benchmark harness: every speed goal of the suite is a pytest-benchmark test under benchmarks/.

    pytest benchmarks --benchmark-only                       # measure (nothing else running; threads stated)
    pytest benchmarks --benchmark-only --benchmark-autosave  # ... and keep the run in .benchmarks/
    pytest benchmarks --benchmark-only --benchmark-compare   # ... and compare with the last saved run
    pytest benchmarks --benchmark-only --bench-quick         # tiny sizes: checks what is printed, not speed

Each test times the suite's way of doing something with ``benchmark`` (so pytest-benchmark keeps its history
and machine info) and measures a baseline in the same run; ``report_ratio`` prints the ratio as one line
``RATIO <name>: <x>x (<what> ...)`` and stores it in the saved JSON (``extra_info``), so a reader of either
sees the figure the goal is about. Quick mode (``--bench-quick`` or ``SUITE_BENCH_QUICK=1``) is what CI runs:
it asserts on the printed lines, never on a speed. The RATIO lines are repeated in a section of the terminal
summary, so they show even when pytest captures the tests' output (the default).

Benchmarks that read real CIFAR-10 get it from ``--bench-data-dir DIR`` (or ``$SUITE_BENCH_DATA_DIR``: a folder
holding ``cifar-10-batches-py``), else the torchvision layout is built in a temporary folder from
``../shared/datasets/cifar10-ml4a`` as the tests do (``cifar10_dir`` fixture).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch


def pytest_addoption(parser) -> None:
    parser.addoption("--bench-quick", action="store_true", default=False,
                     help="tiny sizes: check that every benchmark runs and prints its ratio, not its speed")
    parser.addoption("--bench-data-dir", default=None,
                     help="folder holding cifar-10-batches-py (default $SUITE_BENCH_DATA_DIR, else built in a "
                          "temporary folder from ../shared)")


_RATIOS = pytest.StashKey[list]()


def pytest_configure(config) -> None:
    config.stash[_RATIOS] = []


def pytest_terminal_summary(terminalreporter, config) -> None:
    lines = config.stash.get(_RATIOS, [])
    if lines:
        terminalreporter.section("ratios against the baselines measured in this run")
        terminalreporter.write_line(_threads_line())
        for line in lines:
            terminalreporter.write_line(line)


def _threads_line() -> str:
    return (f"benchmarks: torch {torch.__version__}, {torch.get_num_threads()} intra-op threads, "
            f"{os.cpu_count()} CPUs, cuda {'yes' if torch.cuda.is_available() else 'no'}")


@pytest.fixture(scope="session")
def cifar10_dir(request, tmp_path_factory) -> Path:
    """A folder holding real CIFAR-10 in torchvision's layout (skips when neither it nor ../shared exists)."""
    given = request.config.getoption("--bench-data-dir") or os.environ.get("SUITE_BENCH_DATA_DIR")
    if given:
        return Path(given).expanduser()
    # tests/conftest.py builds it from the shared sprites; loaded by path: both files are named conftest
    path = Path(__file__).resolve().parents[1] / "tests" / "conftest.py"
    spec = importlib.util.spec_from_file_location("suite_tests_conftest", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module.build_cifar10(tmp_path_factory.mktemp("cifar10"))


@pytest.fixture(scope="session")
def quick(request) -> bool:
    return bool(request.config.getoption("--bench-quick")) or os.environ.get("SUITE_BENCH_QUICK") == "1"


@pytest.fixture(scope="session", autouse=True)
def _state_threads(request) -> None:
    # Timings mean nothing without the thread count: one line at the top of the run (and in the summary).
    print(f"\n{_threads_line()}")


@pytest.fixture
def report_line(request) -> Callable[[str], None]:
    """``report_line(text)``: a figure that is not a ratio (e.g. seconds of overhead), printed and repeated in
    the summary section like the RATIO lines."""

    def report(text: str) -> None:
        print(text, flush=True)
        request.config.stash[_RATIOS].append(text)

    return report


@pytest.fixture
def report_ratio(request) -> Callable[..., float]:
    """``report_ratio(name, value, baseline, what=...)`` -> value / baseline, printed and saved."""

    def report(name: str, value: float, baseline: float, *, what: str = "", target: float | None = None) -> float:
        ratio = value / baseline if baseline else float("inf")
        goal = f"; target {target:g}x" if target is not None else ""
        line = f"RATIO {name}: {ratio:.2f}x ({what or f'{value:.4g} vs {baseline:.4g}'}{goal})"
        print(line, flush=True)
        request.config.stash[_RATIOS].append(line)
        bench = request.node.funcargs.get("benchmark")
        if bench is not None:
            bench.extra_info[name] = {"ratio": ratio, "value": value, "baseline": baseline, "what": what,
                                      "target": target, "threads": torch.get_num_threads()}
        return ratio

    return report

"""`suite compare`: a large change is reported whatever the spread, and model names are shown whole."""

from __future__ import annotations

import pandas as pd

from suite.commands.compare import run as compare_command
from suite.report.compare import differences


def _run(times: dict[str, tuple[float, float]], busy: bool = False) -> pd.DataFrame:
    return pd.DataFrame([{"model": m, "dataset": "cifar10", "seed": 0, "cpu_per_image_ms": t,
                          "cpu_per_image_iqr_ms": iqr, "cpu_busy": busy} for m, (t, iqr) in times.items()])


def test_a_50x_change_is_reported_even_inside_a_wide_band():
    idle = _run({"mobilenetv2": (1.5, 0.05), "threshnet79": (0.8, 0.02)})
    # loaded: MobileNetV2's IQR (200 ms) would make a 2-sigma band that swallows the whole difference
    loaded = _run({"mobilenetv2": (75.0, 200.0), "threshnet79": (0.81, 0.02)}, busy=True)
    by_model = {d.model: d for d in differences(idle, loaded) if d.metric == "cpu ms/img"}
    assert by_model["mobilenetv2"].noise > abs(by_model["mobilenetv2"].delta)  # the band alone would hide it
    assert by_model["mobilenetv2"].changed
    assert "always a change" in by_model["mobilenetv2"].why and "busy" in by_model["mobilenetv2"].why
    assert not by_model["threshnet79"].changed  # inside its own small spread


def test_compare_prints_whole_model_names(monkeypatch, capsys):
    from argparse import Namespace

    from suite.analysis import results

    long = "efficientnet_b0_with_a_long_name"
    frames = iter([_run({long: (1.0, 0.01)}), _run({long: (9.0, 0.01)})])
    monkeypatch.setattr(results, "resolve_run", lambda ref, res: ref)
    monkeypatch.setattr(results, "load", lambda path: next(frames))
    monkeypatch.setenv("COLUMNS", "80")
    args = Namespace(run_a="a", run_b="b", results="results", fail_on_change=True, all=False, json=False)
    assert compare_command(args) == 1
    assert long in capsys.readouterr().out


def _train(step: tuple[float, float | None], epochs: list[float] | None = None, seeds=(0,)) -> pd.DataFrame:
    """A run's frame with a training step time (median, IQR of its steps) and the epoch times' spread."""
    from suite.analysis.results import _iqr

    epoch = sum(epochs) / len(epochs) if epochs else None
    return pd.DataFrame([{"model": "threshnet79", "dataset": "cifar10", "seed": s, "step_time_ms": step[0],
                          "step_time_iqr_ms": step[1], "epoch_time_s": epoch, "epoch_time_iqr_s": _iqr(epochs)}
                         for s in seeds])


def _by_metric(a, b) -> dict:
    return {d.metric: d for d in differences(a, b)}


def test_a_step_time_inside_its_spread_is_not_a_change():
    found = _by_metric(_train((7695.2, 900.0)), _train((6862.0, 800.0)))
    step = found["step ms"]
    assert not step.changed and step.noise > abs(step.delta) and "timing IQR" in step.why


def test_a_step_time_beyond_its_spread_is_a_change():
    step = _by_metric(_train((7695.2, 50.0)), _train((6862.0, 40.0)))["step ms"]
    assert step.changed and step.noise < abs(step.delta)


def test_a_time_without_any_measured_spread_is_not_judged_as_exact():
    step = _by_metric(_train((7695.2, 0.0)), _train((6862.0, None)))["step ms"]
    assert not step.changed and "no spread measured" in step.why and step.to_dict()["noise"] is None
    doubled = _by_metric(_train((7695.2, 0.0)), _train((16000.0, 0.0)))["step ms"]
    assert doubled.changed and "always a change" in doubled.why  # a large change is still reported


def test_epoch_times_are_compared_against_the_epochs_spread():
    same = _by_metric(_train((10.0, 1.0), [60.0, 70.0, 65.0, 80.0]), _train((10.0, 1.0), [66.0, 72.0, 61.0, 75.0]))
    assert not same["epoch s"].changed and "timing IQR" in same["epoch s"].why
    slower = _by_metric(_train((10.0, 1.0), [60.0, 61.0, 60.5, 61.5]), _train((10.0, 1.0), [90.0, 91.0, 90.5, 91.5]))
    assert slower["epoch s"].changed


def test_piped_output_is_plain_lines_within_80_columns(monkeypatch, capsys):
    from argparse import Namespace

    from suite.analysis import results

    long = "efficientnet_b0_with_a_long_name"
    frames = iter([_run({long: (1.0, 0.01), "threshnet79": (0.8, 0.02)}),
                   _run({long: (9.0, 0.01), "threshnet79": (0.81, 0.02)})])
    monkeypatch.setattr(results, "resolve_run", lambda ref, res: ref)
    monkeypatch.setattr(results, "load", lambda path: next(frames))
    args = Namespace(run_a="threshnet-3-cifar10-smoke-threshnet-3a1b1981",
                     run_b="threshnet-3-cifar10-smoke-threshnet-9d3ea8b0", results="results", fail_on_change=False,
                     all=True, json=False)
    assert compare_command(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and max(len(line) for line in lines) <= 80
    assert all(len(line.strip()) > 3 for line in lines)  # never a character per line
    assert any(line.startswith(f"changed {long}  cpu ms/img: 1.00 -> 9.00") for line in lines)
    assert any(line.startswith("same    threshnet79  cpu ms/img: 0.80 -> 0.81") for line in lines)


def _timing_run(folder, ms: float) -> None:
    """A run of the batch-1 table dpnet-7 as `suite run` writes it: a median per call, no per-image time."""
    from suite.run import RESULTS, append_jsonl, result_key
    from suite.tables import get_table

    folder.mkdir(parents=True)
    for row in get_table("dpnet-7").rows[:2]:
        append_jsonl(folder / RESULTS, {
            "key": result_key(row.model, "none", 0), "run": folder.name, "table": "dpnet-7", "row": row.row,
            "model": row.model, "dataset": "none", "seed": 0, "status": "ok",
            "latency": {"cpu": {"median_ms": ms, "iqr_ms": ms / 100, "runs": 30, "per_image_ms": None,
                                "predicted": False}}})


def test_compare_compares_the_batch_1_times_of_a_dpnet_7_run(tmp_path, capsys):
    import json

    from suite.cli import main

    _timing_run(tmp_path / "a", 10.0)
    _timing_run(tmp_path / "b", 30.0)
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--json", "--fail-on-change"]) == 1
    found = json.loads(capsys.readouterr().out)["differences"]
    batch1 = [d for d in found if d["metric"] == "cpu ms (batch 1)"]
    assert len(batch1) == 2 and all(d["changed"] and d["delta"] == 20.0 for d in batch1)
    assert not [d for d in found if d["metric"] == "cpu ms/img"]  # a batch-1 table has no per-image time


def test_time_columns_come_from_one_function():
    from suite.analysis.results import time_column

    assert time_column("cpu") == "cpu_median_ms" and time_column("rpi4", "iqr_ms") == "rpi4_iqr_ms"
    assert time_column("gpu", "ms", None) == "gpu_per_image_ms"
    assert time_column("gpu", "iqr_ms", None) == "gpu_per_image_iqr_ms"
    assert time_column("cpu", "ms", 1, runtime="onnx") == "cpu_onnx_median_ms"

"""`suite compare`: a large change is reported whatever the spread, and model names are shown whole."""

from __future__ import annotations

import pandas as pd

from suite.commands.compare import run as compare_command
from suite.compare import differences


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

    from suite import results

    long = "efficientnet_b0_with_a_long_name"
    frames = iter([_run({long: (1.0, 0.01)}), _run({long: (9.0, 0.01)})])
    monkeypatch.setattr(results, "resolve_run", lambda ref, res: ref)
    monkeypatch.setattr(results, "load", lambda path: next(frames))
    monkeypatch.setenv("COLUMNS", "80")
    args = Namespace(run_a="a", run_b="b", results="results", fail_on_change=True, all=False, json=False)
    assert compare_command(args) == 1
    assert long in capsys.readouterr().out

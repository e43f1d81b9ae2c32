"""The report's plots can be read: no text drawn over another, every model numbered, measured and published
points of a model joined. Rendered with matplotlib's own renderer (extents in display pixels)."""

from __future__ import annotations

import itertools
import random
from types import SimpleNamespace as NS

import matplotlib
import pytest
from matplotlib.patches import FancyArrowPatch
from matplotlib.text import Text

from suite.report import plots

NAMES = ["ThreshNet28", "ShuffleNet", "ThreshNet79", "HarDNet68", "MobileNetV2", "SqueezeNet", "ShuffleNetV2",
         "MobileNet", "GhostNet", "ResNeXt50-32x4d", "ThreshNet95", "Wide_ResNet50-2", "HarDNet85",
         "EfficientNetB0"]


def _row(name: str, rng: random.Random, *, smoke: bool) -> NS:
    err = 13 + rng.random() * 7
    published = {"error_pct": round(err, 2), "gpu_time_ms": 0.35 + rng.random() * 0.2,
                 "rpi4_time_ms": 40 + rng.random() * 60, "params_m": 0.7 + rng.random() * 30}
    ours_err = 90.0 if smoke else err + rng.uniform(-0.8, 0.8)  # a full run lands next to the paper
    times = {"cpu": NS(mean=20 + rng.random() * 900, predicted=False),
             "rpi4": NS(mean=published["rpi4_time_ms"] * rng.uniform(0.9, 1.1), predicted=True)}
    return NS(row=name, model=name.lower(), in_table=True, published=published, times=times,
              error_best=NS(mean=ours_err), complexity_trained={"params_m": published["params_m"] * 1.01},
              complexity_published={"params_m": published["params_m"]})


def _table(*, smoke: bool, seed: int = 0, rows=None) -> NS:
    rng = random.Random(seed)
    return NS(id="threshnet-3", title="ThreshNet Table III: CIFAR-10", kind="smoke" if smoke else "reproduction",
              errors_meaningful=not smoke, hardware=["cpu", "rpi4"],
              rows=rows if rows is not None else [_row(n, rng, smoke=smoke) for n in NAMES])


def _texts(fig) -> list[tuple[str, object]]:
    """Every text a reader sees: titles, axis and tick labels in view, legends, the model numbers."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts: list[Text] = list(fig.texts)
    for legend in fig.legends:
        texts += [*legend.get_texts(), legend.get_title()]
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        texts += [t for t in ax.get_xticklabels(which="both") if x0 <= t.get_position()[0] <= x1]  # drawn ones
        texts += [t for t in ax.get_yticklabels(which="both") if y0 <= t.get_position()[1] <= y1]
    return [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_visible() and t.get_text().strip()]


def _overlaps(fig) -> list[tuple[str, str]]:
    boxes = _texts(fig)
    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2) if ba.overlaps(bb)]


def _numbers(fig) -> set[str]:
    return {t.get_text() for ax in fig.axes for t in ax.texts}


@pytest.mark.parametrize("smoke", [True, False], ids=["smoke-run", "full-run"])
@pytest.mark.parametrize("which", ["time", "params"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_text_drawn_over_another(which, smoke, seed):
    build = plots.error_vs_time_figure if which == "time" else plots.error_vs_params_figure
    fig = build(_table(smoke=smoke, seed=seed))
    try:
        assert _overlaps(fig) == []
        legend = " ".join(t.get_text() for lg in fig.legends for t in lg.get_texts())
        for k, name in enumerate(NAMES, start=1):
            assert f"{k}  {name}" in legend  # the numbered legend names every model
        assert _numbers(fig) <= {str(k) for k in range(1, len(NAMES) + 1)}
        assert len(_numbers(fig)) >= len(NAMES) - 1  # (nearly) every model's number sits beside its point
    finally:
        matplotlib.pyplot.close(fig)


def test_measured_and_published_points_are_joined():
    fig = plots.error_vs_time_figure(_table(smoke=False))
    try:
        titles = [ax.get_title() for ax in fig.axes]
        assert titles == ["GPU", "RPi 4 (ours predicted, not measured)", "CPU"]  # one panel per hardware
        arrows = {ax.get_title(): sum(isinstance(p, FancyArrowPatch) for p in ax.patches) for ax in fig.axes}
        assert arrows["RPi 4 (ours predicted, not measured)"] == len(NAMES)  # ours vs published on the Pi
        assert arrows["CPU"] == 0 and arrows["GPU"] == 0  # nothing published on this CPU, nothing measured on GPU
    finally:
        matplotlib.pyplot.close(fig)
    fig = plots.error_vs_params_figure(_table(smoke=False))
    try:
        assert sum(isinstance(p, FancyArrowPatch) for p in fig.axes[0].patches) == len(NAMES)
    finally:
        matplotlib.pyplot.close(fig)


def test_rows_without_fields_are_tolerated():
    bare = [NS(row="A"), NS(model="b", published={"params_m": 2.0, "error_pct": 10.0}),
            NS(row="C", published=None, times=None, error_best=None, complexity_trained=None)]
    td = NS(id="x", rows=bare)  # no title, kind, hardware or errors_meaningful either
    assert plots.error_vs_time(td) is None  # nothing timed, nothing published with a time
    svg = plots.error_vs_params(td)
    assert svg is not None and svg.startswith("<svg") and "b" in svg
    assert plots.error_vs_time(NS(rows=[])) is None and plots.error_vs_params(NS(rows=[])) is None


def test_svg_is_inlinable():
    svg = plots.error_vs_time(_table(smoke=True))
    assert svg.startswith("<svg") and "<?xml" not in svg and 'id="tthreshnet-3-time-' in svg
    assert "<text" in svg  # text stays text (svg.fonttype none): the browser renders and scales it

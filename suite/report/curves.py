"""Learning curves: test error per epoch for every model of a table, one small panel each.

The data come from the run's lines (each stores its per-epoch history). Per model: the mean over seeds, the
band between the lowest and highest seed, the best epoch of the mean curve marked, and the published error as
a dashed reference line. Small multiples on one shared error axis, so 14 models stay readable.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after the backend is chosen
from matplotlib.lines import Line2D  # noqa: E402

from suite.report.plots import inline_svg  # noqa: E402

COLUMNS = 4
PANEL_W, PANEL_H = 2.6, 1.9


def _finite(value) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _published_error(published: dict) -> float | None:
    if _finite(published.get("error_pct")) is not None:
        return float(published["error_pct"])
    if _finite(published.get("top1_acc_pct")) is not None:
        return 100.0 - float(published["top1_acc_pct"])
    return None


def curve_data(td) -> list[dict]:
    """One entry per table row with a trained history: per-seed curves, their mean and band, the best epoch."""
    if td.run is None:
        return []
    lines = [r for r in td.run.lines if isinstance(r.get("train"), dict)]
    out = []
    for row in td.rows:
        seeds: dict[int, dict[int, float]] = {}
        for line in lines:
            if line.get("model") != row.model:
                continue
            raw = {int(h["epoch"]): _finite(h.get("test_error_pct")) for h in line["train"].get("history") or []
                   if isinstance(h, dict) and h.get("epoch") is not None}
            points = {e: v for e, v in raw.items() if v is not None}
            if points:
                seeds[int(line.get("seed", 0))] = points
        if not seeds:
            continue
        epochs = sorted({e for points in seeds.values() for e in points})
        per_epoch = [[points[e] for points in seeds.values() if e in points] for e in epochs]
        mean = [sum(v) / len(v) for v in per_epoch]
        best = min(range(len(epochs)), key=mean.__getitem__)
        out.append({"row": row.row, "model": row.model, "published_error_pct": _published_error(row.published),
                    "seeds": {str(s): [[e, points[e]] for e in sorted(points)] for s, points in sorted(seeds.items())},
                    "epochs": epochs, "mean": mean, "low": [min(v) for v in per_epoch],
                    "high": [max(v) for v in per_epoch], "best_epoch": epochs[best], "best_error_pct": mean[best]})
    return out


def learning_curves(td, data: list[dict] | None = None) -> str | None:
    """Inline SVG of the small multiples, or None when no row has a history."""
    data = curve_data(td) if data is None else data
    if not data:
        return None
    cols = min(COLUMNS, len(data))
    rows = math.ceil(len(data) / cols)
    fig = plt.figure(figsize=(PANEL_W * cols, PANEL_H * rows + 0.9), layout="constrained")
    axes = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False).ravel().tolist()
    for ax, entry in zip(axes, data, strict=False):
        epochs = entry["epochs"]
        if len(entry["seeds"]) > 1:
            ax.fill_between(epochs, entry["low"], entry["high"], color="tab:blue", alpha=0.2, lw=0)
        ax.plot(epochs, entry["mean"], color="tab:blue", lw=1.2, marker="." if len(epochs) < 20 else None)
        ax.plot([entry["best_epoch"]], [entry["best_error_pct"]], marker="*", color="tab:red", ms=8,
                linestyle="none")
        if entry["published_error_pct"] is not None:
            ax.axhline(entry["published_error_pct"], color="0.3", lw=0.9, linestyle="--")
        ax.set_title(f"{entry['row']} (best {entry['best_error_pct']:.2f} % @ {entry['best_epoch']})",
                     fontsize=8)
        ax.grid(True, alpha=0.25)
        ax.tick_params(labelsize=7.5)
    for ax in axes[len(data):]:
        ax.set_visible(False)
    for ax in axes[::cols]:
        ax.set_ylabel("test error (%)", fontsize=8)
    for ax in axes[max(0, len(data) - cols):len(data)]:  # the lowest panel of each column
        ax.set_xlabel("epoch", fontsize=8)
        ax.xaxis.set_tick_params(labelbottom=True)
    style = [(Line2D([], [], color="tab:blue", lw=1.2), "ours: mean over seeds (band: lowest to highest seed)"),
             (Line2D([], [], marker="*", color="tab:red", ms=8, linestyle="none"), "best epoch (test-set selection)"),
             (Line2D([], [], color="0.3", lw=0.9, linestyle="--"), "published error")]
    title = f"{td.title}: learning curves (test error per epoch)"
    if not td.errors_meaningful:
        title += f"\n({td.kind} run: measured errors are not comparable with the paper's)"
    fig.suptitle(title, fontsize=9.5)
    fig.legend(*zip(*style, strict=True), loc="outside lower center", ncols=3, fontsize=7.5, frameon=False)
    stem = "".join(c if c.isalnum() or c in "_-" else "-" for c in str(td.id))
    return inline_svg(fig, f"t{stem}-curves")

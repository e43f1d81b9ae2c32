"""Scatter plots as standalone SVG text (matplotlib, Agg backend) for inlining in the HTML report."""

from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")  # no display, no GUI toolkit: reports are written on headless machines
import matplotlib.pyplot as plt  # noqa: E402

from suite.report.tables import PUBLISHED_TIME, TableData  # noqa: E402

MARKERS = {"cpu": ("o", "tab:blue"), "rpi4": ("^", "tab:orange"), "gpu": ("D", "tab:green")}


def _svg(fig, prefix: str) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": prefix}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]  # drop the XML prolog and DOCTYPE: the SVG is inlined in HTML
    # ids are per document: prefix them so two inlined plots never share one
    text = re.sub(r'id="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", text)
    return re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{prefix}-\1"', text)


def _label(ax, xs, ys, names) -> None:
    for x, y, n in zip(xs, ys, names, strict=True):
        ax.annotate(n, (x, y), textcoords="offset points", xytext=(3, 3), fontsize=6, alpha=0.8)


def _finish(ax, title: str, xlabel: str, td: TableData) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test error (%)")
    if not td.errors_meaningful:
        title += f"\n({td.kind} run: measured errors are not comparable with the paper's)"
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="best")


def error_vs_time(td: TableData) -> str | None:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    drawn = False
    for hw in td.hardware:
        pts = [(r.times[hw].mean, r.error_best.mean, r.row) for r in td.rows
               if hw in r.times and r.error_best is not None]
        if pts:
            marker, color = MARKERS.get(hw, ("x", "tab:gray"))
            predicted = any(r.times[hw].predicted for r in td.rows if hw in r.times)
            xs, ys, names = zip(*pts, strict=True)
            ax.scatter(xs, ys, marker=marker, color=color,
                       label=f"measured, {hw}{' (predicted time)' if predicted else ''}")
            _label(ax, xs, ys, names)
            drawn = True
    for hw, col in PUBLISHED_TIME.items():
        pts = [(r.published[col], r.published["error_pct"], r.row) for r in td.rows
               if r.published.get(col) is not None and r.published.get("error_pct") is not None]
        if pts:
            marker, color = MARKERS[hw]
            xs, ys, names = zip(*pts, strict=True)
            ax.scatter(xs, ys, marker=marker, facecolors="none", edgecolors=color, label=f"published, {hw}")
            if len(pts) <= 6:  # the 14 published GPU times sit in one cluster: labels would only overlap
                _label(ax, xs, ys, names)
            drawn = True
    return _log_x_plot(fig, ax, drawn, td, "error vs inference time per image", "time per image (ms, log scale)",
                       "time")


def error_vs_params(td: TableData) -> str | None:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    drawn = False
    pts = [(r.complexity_trained["params_m"], r.error_best.mean, r.row) for r in td.rows
           if "params_m" in r.complexity_trained and r.error_best is not None]
    if pts:
        xs, ys, names = zip(*pts, strict=True)
        ax.scatter(xs, ys, marker="o", color="tab:blue", label="measured (params of the trained model)")
        _label(ax, xs, ys, names)
        drawn = True
    pts = [(r.published["params_m"], r.published["error_pct"], r.row) for r in td.rows
           if r.published.get("params_m") is not None and r.published.get("error_pct") is not None]
    if pts:
        xs, ys, names = zip(*pts, strict=True)
        ax.scatter(xs, ys, marker="s", facecolors="none", edgecolors="tab:red",
                   label="published (params as printed, mixed heads)")
        _label(ax, xs, ys, names)
        drawn = True
    return _log_x_plot(fig, ax, drawn, td, "error vs parameters", "#Params (M, log scale)", "params")


def _log_x_plot(fig, ax, drawn: bool, td: TableData, what: str, xlabel: str, stem: str) -> str | None:
    """The plot as inline SVG with a log x axis, or None (figure closed) when nothing was drawn."""
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xscale("log")
    _finish(ax, f"{td.title}: {what}", xlabel, td)
    return _svg(fig, f"t{td.id}-{stem}")

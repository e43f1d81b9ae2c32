"""Scatter plots as standalone SVG text (matplotlib, Agg backend) for inlining in the HTML report.

A reader must be able to tell every point apart: each model gets its table number, drawn beside its points
where no other label, marker or axis is (leader lines when a number has to move away), and a numbered legend
names the models. A model's measured point and its published one on the same hardware are joined by an arrow
(published -> ours). The time plot has one panel per hardware, so each panel holds at most two points a model.
The plots read a report ``TableData`` and tolerate rows without any of the fields they use.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display, no GUI toolkit: reports are written on headless machines
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402
from matplotlib.ticker import LogFormatter  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from suite.report.tables import PUBLISHED_TIME  # noqa: E402
from suite.timing.profiles import PROFILES, label, order_key  # noqa: E402

LABEL_SIZE = 7.5  # points: the model numbers
LEGEND_SIZE = 7.5
PANEL_W, PANEL_H, MIN_W = 3.9, 3.6, 6.8  # inches
LEGEND_COL_W = 1.75  # inches a legend column takes
_RADII = (6, 9, 13, 18, 24, 31, 40, 52, 66, 84, 106, 134)  # display pixels from the point
_ANGLES = tuple(math.radians(a) for a in (45, 0, 90, 135, 180, 315, 270, 225, 22, 67, 112, 157, 202, 247, 292, 337))


class _PlainLog(LogFormatter):
    """LogFormatter's choice of which ticks get a label, printed as plain numbers (0.4, 2, 50)."""

    def __call__(self, x, pos=None) -> str:
        return f"{x:g}" if super().__call__(x, pos) else ""


@dataclass
class Pair:
    number: int
    name: str
    ours: tuple[float, float] | None
    published: tuple[float, float] | None


# ---- reading a TableData without assuming every field --------------------------------------------------------

def _field(obj, name: str, default=None):
    value = getattr(obj, name, default)
    return default if value is None else value


def _mean(stat) -> float | None:
    value = getattr(stat, "mean", None)
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _positive(x) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) and x > 0 else None


def _published_error(pub: dict) -> float | None:
    if isinstance(pub.get("error_pct"), int | float):
        return float(pub["error_pct"])
    if isinstance(pub.get("top1_acc_pct"), int | float):
        return 100.0 - float(pub["top1_acc_pct"])
    return None


def _point(x, y) -> tuple[float, float] | None:
    x = _positive(x)
    return (x, float(y)) if x is not None and isinstance(y, int | float) and math.isfinite(y) else None


def _rows(td) -> list[tuple[int, object]]:
    return list(enumerate(_field(td, "rows", []), start=1))


def _name(row) -> str:
    return str(_field(row, "row", None) or _field(row, "model", "?"))


def _time_panels(td) -> list[tuple[str, bool, list[Pair]]]:
    """(hardware, predicted, pairs) for each hardware with at least one point, in the report's order."""
    rows = _rows(td)
    seen = {hw for _, r in rows for hw in _field(r, "times", {})} | {
        hw for hw, col in PUBLISHED_TIME.items() if any(_field(r, "published", {}).get(col) for _, r in rows)}
    order = sorted(seen, key=order_key)
    panels = []
    for hw in order:
        pairs, predicted = [], False
        for k, r in rows:
            pub, times = _field(r, "published", {}), _field(r, "times", {})
            stat = times.get(hw)
            ours = _point(_mean(stat), _mean(_field(r, "error_best"))) if stat is not None else None
            predicted |= ours is not None and bool(getattr(stat, "predicted", False))
            col = PUBLISHED_TIME.get(hw)
            published = _point(pub.get(col), _published_error(pub)) if col else None
            if ours or published:
                pairs.append(Pair(k, _name(r), ours, published))
        if pairs:
            panels.append((hw, predicted, pairs))
    return panels


def _params_pairs(td) -> list[Pair]:
    pairs = []
    for k, r in _rows(td):
        trained, pub = _field(r, "complexity_trained", {}), _field(r, "published", {})
        ours = _point(trained.get("params_m"), _mean(_field(r, "error_best")))
        published = _point(pub.get("params_m"), _published_error(pub))
        if ours or published:
            pairs.append(Pair(k, _name(r), ours, published))
    return pairs


# ---- drawing -------------------------------------------------------------------------------------------------

def _draw_pairs(ax, pairs: list[Pair], color: str, marker: str) -> None:
    for p in pairs:
        if p.ours and p.published:
            ax.add_patch(FancyArrowPatch(p.published, p.ours, arrowstyle="-|>", mutation_scale=7, color=color,
                                         alpha=0.45, lw=0.8, shrinkA=3, shrinkB=3, zorder=2))
    ours = [p.ours for p in pairs if p.ours]
    published = [p.published for p in pairs if p.published]
    if ours:
        ax.scatter(*zip(*ours, strict=True), marker=marker, color=color, s=22, zorder=3)
    if published:
        ax.scatter(*zip(*published, strict=True), marker=marker, facecolors="white", edgecolors=color, s=22,
                   linewidths=1.0, zorder=3)


def _legend(fig: Figure, title: str, style: list[tuple[Line2D, str]], names: dict[int, str]) -> None:
    """The title and what the markers mean above the panels (one artist: constrained layout stacks figure
    legends, not a suptitle and a legend); the numbered models under them (read down the columns)."""
    cols = max(2, int(fig.get_figwidth() // LEGEND_COL_W))
    fig.legend([h for h, _ in style], [t for _, t in style], loc="outside upper center", fontsize=LEGEND_SIZE,
               frameon=False, handlelength=1.2, handletextpad=0.4, ncols=min(len(style), cols + 1),
               title=title, title_fontproperties={"size": 9}, alignment="center")
    if names:
        blank = Line2D([], [], linestyle="none")
        fig.legend([blank] * len(names), [f"{k}  {n}" for k, n in sorted(names.items())],
                   loc="outside lower center", fontsize=LEGEND_SIZE, frameon=True, handlelength=0,
                   handletextpad=0, ncols=min(cols, len(names)), title="models", title_fontsize=LEGEND_SIZE)


def _style(color: str, marker: str, hw: str | None = None) -> list[tuple[Line2D, str]]:
    where = f", {label(hw)}" if hw else ""
    return [(Line2D([], [], marker=marker, color=color, linestyle="none"), f"ours{where}"),
            (Line2D([], [], marker=marker, markerfacecolor="white", markeredgecolor=color, linestyle="none"),
             f"published{where}"),
            (Line2D([], [], color=color, alpha=0.6, lw=1), "published -> ours")]


def _title(what: str, td) -> str:
    title = f"{_field(td, 'title', '')}: {what}"
    if not _field(td, "errors_meaningful", True):
        title += f"\n({_field(td, 'kind', 'pipeline check')} run: measured errors are not comparable with the paper's)"
    return title


def _new_figure(panels: int) -> tuple[Figure, list]:
    fig = plt.figure(figsize=(max(MIN_W, PANEL_W * panels), PANEL_H + 1.6), layout="constrained")
    axes = fig.subplots(1, panels, sharey=True, squeeze=False)[0].tolist()
    axes[0].set_ylabel("test error (%)")
    for ax in axes:
        ax.set_xscale("log")
        # plain numbers (0.4, 2, 50) rather than 4x10^-1; minor ticks labelled only on short ranges
        ax.xaxis.set_major_formatter(_PlainLog())
        ax.xaxis.set_minor_formatter(_PlainLog(labelOnlyBase=False, minor_thresholds=(1, 0.4)))
        ax.grid(True, which="both", alpha=0.25)
        ax.tick_params(labelsize=7.5, which="both")
    return fig, axes


def _place_numbers(fig: Figure, axes_pairs: list[tuple[Axes, list[Pair]]]) -> None:
    """Each model's number beside one of its points (ours if any), where it covers no label, marker or axis."""
    fig.canvas.draw()  # final layout, then frozen: the numbers are placed in display coordinates
    fig.set_layout_engine("none")
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg's canvas has it; the stub's base class not
    taken = [t.get_window_extent(renderer) for t in fig.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip()]
    for ax, pairs in axes_pairs:
        ax.set_xlim(ax.get_xlim())
        ax.set_ylim(ax.get_ylim())
        inside = ax.get_window_extent(renderer).padded(-2)
        markers = []
        for p in pairs:
            for pt in (p.ours, p.published):
                if pt:
                    px, py = ax.transData.transform(pt)
                    markers.append(Bbox.from_bounds(px - 4, py - 4, 8, 8))
        for p in pairs:
            anchor = p.ours or p.published
            assert anchor is not None  # a pair has at least one point
            px, py = ax.transData.transform(anchor)
            text = ax.text(*anchor, str(p.number), fontsize=LABEL_SIZE, ha="center", va="center", zorder=5,
                           bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none", "alpha": 0.75})
            ext = text.get_window_extent(renderer)
            w, h = ext.width + 6, ext.height + 2  # a gap either side: "14" next to "13" must not read "1413"
            spot = _free_spot(px, py, w, h, inside, taken + markers)
            if spot is None:  # nowhere free inside the panel: leave it in the legend only
                text.remove()
                continue
            cx, cy, r = spot
            tx, ty = ax.transData.inverted().transform((cx, cy))
            text.set_position((tx, ty))
            taken.append(Bbox.from_bounds(cx - w / 2, cy - h / 2, w, h))
            if r > _RADII[1]:  # far from its point: a leader line says whose number it is
                end = ax.transData.inverted().transform((cx, cy))
                ax.plot([anchor[0], end[0]], [anchor[1], end[1]], color="0.55", lw=0.5, zorder=1)


def _free_spot(px: float, py: float, w: float, h: float, inside: Bbox, taken: list[Bbox]):
    for r in _RADII:
        for a in _ANGLES:
            # the label's centre far enough out that its box clears the marker in that direction
            cx = px + (r + w / 2) * math.cos(a)
            cy = py + (r + h / 2) * math.sin(a)
            box = Bbox.from_bounds(cx - w / 2, cy - h / 2, w, h)
            if (box.x0 >= inside.x0 and box.x1 <= inside.x1 and box.y0 >= inside.y0 and box.y1 <= inside.y1
                    and not any(box.overlaps(t) for t in taken)):
                return cx, cy, r
    return None


def error_vs_time_figure(td) -> Figure | None:
    panels = _time_panels(td)
    if not panels:
        return None
    fig, axes = _new_figure(len(panels))
    style = []
    names: dict[int, str] = {}
    for ax, (hw, predicted, pairs) in zip(axes, panels, strict=True):
        color = PROFILES[hw].color if hw in PROFILES else "tab:gray"
        _draw_pairs(ax, pairs, color, "o")
        name = label(hw)
        ax.set_title(f"{name}{' (ours predicted, not measured)' if predicted else ''}", fontsize=8.5)
        ax.set_xlabel("time per image (ms, log scale)", fontsize=8)
        ours, published = _style(color, "o", hw)[:2]
        style += ([ours] if any(p.ours for p in pairs) else []) + ([published] if any(p.published for p in pairs)
                                                                   else [])
        names |= {p.number: p.name for p in pairs}
    if any(p.ours and p.published for _, _, pairs in panels for p in pairs):
        style.append((Line2D([], [], color="0.3", alpha=0.6, lw=1), "published -> ours (same model)"))
    _legend(fig, _title("error vs inference time per image", td), style, names)
    _place_numbers(fig, [(ax, pairs) for ax, (_, _, pairs) in zip(axes, panels, strict=True)])
    return fig


def error_vs_params_figure(td) -> Figure | None:
    pairs = _params_pairs(td)
    if not pairs:
        return None
    fig, (ax,) = _new_figure(1)
    _draw_pairs(ax, pairs, "tab:blue", "s")
    ax.set_xlabel("#Params (M, log scale)", fontsize=8)
    style = _style("tab:blue", "s")
    style[0] = (style[0][0], "ours (params of the trained model)")
    style[1] = (style[1][0], "published (params as printed)")
    _legend(fig, _title("error vs parameters", td), style, {p.number: p.name for p in pairs})
    _place_numbers(fig, [(ax, pairs)])
    return fig


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


def inline_svg(fig, prefix: str) -> str:
    """``fig`` as SVG text to inline in HTML (ids prefixed with ``prefix``); the figure is closed."""
    return _svg(fig, prefix)


def _stem(td) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", str(_field(td, "id", "table")))


def error_vs_time(td) -> str | None:
    fig = error_vs_time_figure(td)
    return _svg(fig, f"t{_stem(td)}-time") if fig is not None else None


def error_vs_params(td) -> str | None:
    fig = error_vs_params_figure(td)
    return _svg(fig, f"t{_stem(td)}-params") if fig is not None else None

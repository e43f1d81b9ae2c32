"""What the templates show: a table's sections as rows of formatted cells, driven by its declared columns."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from suite.analysis.stats import Stat, fmt_num, fmt_stat, time_digits
from suite.report.tables import LABELS, RowData, TableData
from suite.tables import METRICS
from suite.tables.metrics import COMPLEXITY, ERROR, TIME, Metric
from suite.timing.profiles import label

COMPLEXITY_WARN_PCT = 1.0  # a measured complexity further than this from the printed figure is highlighted
TRAINED_CX = ("flops_g", "madd_g", "memory_mb", "params_m", "memrw_mb")
SUPPLEMENT_MARK = "†"


@dataclass
class Cell:
    text: str
    cls: str = ""  # css class: num, pred, warn, na, pub

    def __str__(self) -> str:
        return self.text


@dataclass
class Section:
    title: str
    caption: str
    header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


def _rel(measured: float | None, published: float | None, warn: float | None = None,
         printed_digits: int | None = None) -> Cell:
    if measured is None or published in (None, 0):
        return Cell("—", "na")
    if printed_digits is not None and round(measured, printed_digits) == round(published, printed_digits):
        return Cell("=", "num")  # the same number to the printed digit
    rel = 100.0 * (measured / published - 1)
    return Cell(f"{rel:+.1f} %", "num warn" if warn is not None and abs(rel) > warn else "num")


def _stat(s: Stat | None, digits: int | None = None, scale: float = 1.0) -> Cell:
    if s is None:
        return Cell("—", "na")
    if scale != 1.0:
        s = replace(s, mean=s.mean * scale, std=None if s.std is None else s.std * scale, sigma=s.sigma * scale,
                    values=tuple(v * scale for v in s.values))
    if s.busy:  # measured on a busy machine: marked, and the footnote lists them
        return Cell(fmt_stat(s, digits) + " ‡", "num busy")
    return Cell(fmt_stat(s, digits), "num pred" if s.predicted else "num")


def _pub(v, digits: int | None = None, mark: str = "") -> Cell:
    if v is None:
        return Cell("—", "na")
    text = fmt_num(v, digits if digits is not None else time_digits(v) if v < 100 else 1)
    return Cell(text + mark, "num pub")


def _status(r: RowData) -> Cell:
    if not r.measured:
        return Cell("not run", "na")
    bad = [s for s in r.statuses if s != "ok"]
    if not bad:
        return Cell("ok")
    return Cell(", ".join(sorted(set(bad))) + (f" ({'; '.join(r.reasons)})" if r.reasons else ""), "warn")


def _metric_cells(td: TableData, r: RowData, m: Metric) -> list[Cell]:
    pub = r.published.get(m.key)
    mark = SUPPLEMENT_MARK if m.key in r.supplemented else ""
    digits = m.digits if m.group != TIME else None
    cells = [_pub(pub, digits, mark)]
    ours = r.values.get(m.key)
    if m.group == TIME and m.hardware not in td.hardware:
        return cells + [Cell("not measured", "na"), Cell("—", "na")]
    cells.append(_stat(ours, digits, m.scale))
    if ours is None or pub is None:
        return cells + [Cell("—", "na")]
    if m.delta == "pp":
        cls = "num" if td.errors_meaningful else "num na"
        return cells + [Cell(f"{ours.mean * m.scale - pub:+.2f}", cls)]
    return cells + [_rel(ours.mean * m.scale, pub)]


def measured_section(td: TableData) -> Section | None:
    spec = td.spec
    metrics = [METRICS[c] for c in spec.columns if METRICS[c].group != COMPLEXITY]
    if not metrics:
        return None
    header = ["Row", "Model"]
    for m in metrics:
        delta = "Δ pp" if m.delta == "pp" else "Δ"
        header += [f"{m.label} (paper)", f"{m.label} (ours)", delta]
    timed = {m.hardware for m in metrics if m.group == TIME}
    extra = [hw for hw in td.hardware if hw not in timed]
    unit = "ms/img" if spec.latency.per_image else f"ms at batch {spec.latency.batch}"
    header += [f"{label(hw)} {unit} (ours)" for hw in extra]
    errors = any(m.group == ERROR for m in metrics)
    if errors:
        header.append("Error % final (ours)")
    header += ["Seeds", "Status"]  # Seeds: how many seeds a row's figures rest on (their ids: the JSON)
    what = ", ".join(dict.fromkeys({TIME: "inference time", ERROR: "test error / accuracy",
                                    "train_time": "training time"}[m.group] for m in metrics))
    sec = Section("Measured beside published", f"{what}; (paper) = the published cell, (ours) = measured here, "
                  "Δ = ours / paper - 1 (Δ pp: percentage points)", header)
    for r in td.rows:
        cells = [Cell(r.row), Cell(r.model)]
        for m in metrics:
            cells += _metric_cells(td, r, m)
        cells += [_stat(r.times.get(hw)) for hw in extra]
        if errors:
            cells.append(_stat(r.error_final, 2))
        cells += [Cell(str(len(r.seeds)), "num") if r.seeds else Cell("—", "na"), _status(r)]
        sec.rows.append(cells)
    return sec


def complexity_published_section(td: TableData) -> Section | None:
    metrics = [METRICS[c] for c in td.spec.columns if METRICS[c].group == COMPLEXITY]
    if not metrics:
        return None
    header = ["Row", "Profiled model", "Head"]
    for m in metrics:
        header += [f"{m.label} (paper)", f"{m.label} (ours)", "Δ"]
    sec = Section("Complexity as published: 3x224x224, the published head, torchstat convention",
                  "what the paper's columns measure (not the input the models were trained at); Δ = ours / paper "
                  f"- 1, highlighted beyond {COMPLEXITY_WARN_PCT:.0f} %; = means equal to the printed digit", header)
    for r in td.rows:
        cells = [Cell(r.row), Cell(r.profiled_model), Cell(str(r.published_head or "—"))]
        for m in metrics:
            ours = r.complexity_published.get(m.key)
            cells += [_pub(r.published.get(m.key), m.digits),
                      Cell(fmt_num(ours, m.digits), "num" if ours is not None else "na"),
                      _rel(ours, r.published.get(m.key), COMPLEXITY_WARN_PCT, printed_digits=m.digits)]
        sec.rows.append(cells)
    return sec


def complexity_trained_section(td: TableData) -> Section | None:
    if not any(r.complexity_trained for r in td.rows):
        return None
    header = ["Row", "Model", "Head", "Input"] + [LABELS[m] for m in TRAINED_CX] + [
        "MACs (G, complete count)", "MACs (G, ptflops)"]
    sec = Section("Complexity as trained: the trained input and head",
                  "torchstat convention; the complete count includes every op (functional ops and reused modules); "
                  "ptflops counts multiply-accumulates of the modules it knows (its own convention)", header)
    for r in td.rows:
        cells = [Cell(r.row), Cell(r.model), Cell(str(r.trained_head or "—")),
                 Cell("x".join(str(s) for s in r.trained_input) if r.trained_input else "—")]
        cells += [Cell(fmt_num(r.complexity_trained.get(m), 3), "num") for m in TRAINED_CX]
        macs = r.complete_trained.get("macs_g")
        if macs is None and r.complete_trained.get("flops_g") is not None:
            macs = r.complete_trained["flops_g"] / 2
        cells.append(Cell(fmt_num(macs, 3), "num" if macs is not None else "na"))
        pt = r.ptflops_trained.get("macs_g")
        cells.append(Cell(fmt_num(pt, 3), "num" if pt is not None else "na"))
        sec.rows.append(cells)
    return sec


def sections(td: TableData) -> list[Section]:
    found = (measured_section(td), complexity_published_section(td), complexity_trained_section(td))
    return [s for s in found if s is not None]

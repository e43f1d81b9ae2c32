"""One report table: a registered table's rows and columns, each measured value beside the published one.

Measured values come from ``suite.analysis.results`` (one DataFrame row per model and seed of the chosen run), published
ones from the table's CSV in ``zoo/data/published`` (plus its declared supplements); a table with no run (a
complexity-only table) is profiled here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from suite.analysis.results import flatten, time_column, timed_hardware
from suite.analysis.stats import Stat, binomial_sigma_pct
from suite.complexity.report import CONVENTIONS
from suite.data.catalog import dataset_info
from suite.report.profiles import complexity_record
from suite.report.runs import MergedRun
from suite.run.presets import PRESETS
from suite.tables import COMPLEXITY, METRICS, TableSpec
from suite.tables.metrics import TIME
from suite.timing.profiles import order_key
from zoo.published import load_table

CX = ("flops_g", "madd_g", "memory_mb", "params_m", "memrw_mb", "flops_m")
# metric key -> column label (a hardware's label: suite.timing.profiles.label)
LABELS = {k: m.label.replace(" ms/img", "").replace(" s/img", "") if m.group == TIME else m.label
          for k, m in METRICS.items()}
# hardware -> the published column of its time (a plot draws the published points in ms: see METRICS[...].scale)
PUBLISHED_TIME = {m.hardware: k for k, m in METRICS.items() if m.group == TIME and m.scale == 1.0 and m.hardware}


@dataclass
class RowData:
    row: str  # the paper's row label (or the model name for a model outside the table)
    model: str
    in_table: bool
    published: dict  # the published row (plus supplemented cells)
    published_head: int | None
    profiled_model: str
    note: str
    seeds: list[int] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    error_best: Stat | None = None
    error_final: Stat | None = None
    epochs: list[int] = field(default_factory=list)
    times: dict[str, Stat] = field(default_factory=dict)  # hardware -> the table's time figure, ms
    latency_b1: dict[str, Stat] = field(default_factory=dict)  # hardware -> batch-1 median ms (measured)
    held_out: set[str] = field(default_factory=set)  # hardware whose prediction left this model's own times out
    extrapolated: set[str] = field(default_factory=set)  # hardware whose prediction left the calibration range
    devices: dict[str, str] = field(default_factory=dict)  # hardware -> the device it was measured on
    values: dict[str, Stat] = field(default_factory=dict)  # metric key -> our value (the table's columns)
    complexity_published: dict[str, float] = field(default_factory=dict)  # 224, published head, torchstat
    complexity_trained: dict[str, float] = field(default_factory=dict)  # trained input and head, torchstat
    complete_trained: dict[str, float] = field(default_factory=dict)  # trained input, complete count
    ptflops_trained: dict[str, float] = field(default_factory=dict)  # trained input, ptflops
    trained_head: int | None = None
    trained_input: list[int] | None = None
    supplemented: dict[str, str] = field(default_factory=dict)  # metric key -> source of a supplemented cell
    user: dict = field(default_factory=dict)  # a user's model (--models-from): file, sha256, card; else empty

    @property
    def measured(self) -> bool:
        return bool(self.seeds)

    def to_dict(self) -> dict:
        return {
            "row": self.row, "model": self.model, "in_table": self.in_table, "note": self.note,
            "published": self.published, "published_head": self.published_head,
            "profiled_model": self.profiled_model, "seeds": self.seeds, "statuses": self.statuses,
            "reasons": self.reasons, "epochs": self.epochs,
            "error_best_pct": self.error_best.to_dict() if self.error_best else None,
            "error_final_pct": self.error_final.to_dict() if self.error_final else None,
            "measured": {k: v.to_dict() for k, v in self.values.items()},
            "time_ms": {k: v.to_dict() for k, v in self.times.items()},
            "latency_batch1_ms": {k: v.to_dict() for k, v in self.latency_b1.items()},
            "devices": self.devices,
            "prediction_held_out": sorted(self.held_out),
            "prediction_extrapolated": sorted(self.extrapolated),
            "complexity_as_published": self.complexity_published,
            "complexity_as_trained": self.complexity_trained,
            "complete_as_trained": self.complete_trained,
            "ptflops_as_trained": self.ptflops_trained,
            "trained_head": self.trained_head, "trained_input": self.trained_input,
            "supplemented": self.supplemented,
            "user_model": self.user or None,
            "diff": self.diffs(),
        }

    def diffs(self) -> dict:
        """Measured minus published: percentage points for errors and accuracies, relative % otherwise."""
        out: dict[str, float | None] = {}
        for key, ours in self.values.items():
            pub = self.published.get(key)
            m = METRICS.get(key)
            if m is None or pub in (None, 0) or ours is None:
                continue
            value = ours.mean * m.scale
            out[f"{key}_{m.delta}"] = value - pub if m.delta == "pp" else 100.0 * (value / pub - 1)
        return out


@dataclass
class TableData:
    spec: TableSpec
    run: MergedRun | None  # the run(s) behind the table (suite.report.runs), None for a complexity-only table
    rows: list[RowData]
    hardware: list[str]  # measured or predicted in this run
    errors_meaningful: bool  # a full-recipe run: errors may be compared with the paper's
    kind: str  # "reproduction", "reduced", the preset name of a pipeline check, or "complexity"

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def dataset(self) -> str | None:
        return self.spec.dataset

    @property
    def published_table(self) -> str:
        return self.spec.published_table


# --- statistics over seeds ----------------------------------------------------------------------------------

def _values(lines: pd.DataFrame, col: str) -> list[float]:
    if col not in lines:
        return []
    out = []
    for v in lines[col].tolist():
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out.append(f)
    return out


def _first(lines: pd.DataFrame, col: str):
    if col not in lines:
        return None
    vals = [v for v in lines[col].tolist() if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return vals[0] if vals else None


def error_stat(lines: pd.DataFrame, col: str, *, accuracy: bool = False) -> Stat | None:
    values = _values(lines, col)
    if not values:
        return None
    n_test = _first(lines, "test_images")
    mean = sum(values) / len(values)
    sigma = binomial_sigma_pct(100.0 - mean if accuracy else mean, int(n_test) if n_test else None)
    return Stat.of(values, fallback=sigma, fallback_source="test-set size (one seed)")


def time_stat(lines: pd.DataFrame, col: str, iqr_col: str | None, hw: str | None = None) -> Stat | None:
    values = _values(lines, col)
    if not values:
        return None
    iqr = _first(lines, iqr_col) if iqr_col else None
    predicted = bool(_first(lines, f"{hw}_predicted")) if hw else False
    expected = _first(lines, f"{hw}_expected_error_pct") if hw else None
    busy = hw is not None and f"{hw}_busy" in lines and bool(lines[f"{hw}_busy"].fillna(False).astype(bool).any())
    return Stat.of(values, fallback=float(iqr) / 1.349 if iqr else None, fallback_source="timing IQR (one run)",
                   predicted=predicted, expected_error_pct=expected, busy=busy,
                   dispersion=_dispersion(lines, col, iqr_col))


def _dispersion(lines: pd.DataFrame, col: str, iqr_col: str | None) -> float | None:
    """The largest IQR / median over the measurement rounds (one round per seed line)."""
    if not iqr_col or iqr_col not in lines or col not in lines:
        return None
    ratios = [float(i) / float(m) for m, i in zip(lines[col].tolist(), lines[iqr_col].tolist(), strict=True)
              if m is not None and i is not None and not pd.isna(m) and not pd.isna(i) and float(m) > 0]
    return max(ratios) if ratios else None


def _cx(lines: pd.DataFrame, prefix: str) -> dict[str, float]:
    out = {}
    for key in CX:
        v = _first(lines, f"{prefix}_{key}")
        if v is not None:
            out[key] = float(v)
    return out


def _hardware(df: pd.DataFrame) -> list[str]:
    return sorted(timed_hardware(df), key=order_key)


def _fill(row: RowData, spec: TableSpec, lines: pd.DataFrame, hardware: list[str]) -> None:
    lines = lines.sort_values("seed", kind="stable")
    row.seeds = [int(s) for s in lines["seed"].tolist() if s is not None and not pd.isna(s)]
    row.statuses = [str(s) for s in lines["status"].fillna("?").tolist()]
    row.reasons = [f"seed {s}: {r}" for s, r in zip(lines["seed"].tolist(), lines["reason"].tolist(), strict=True)
                   if isinstance(r, str) and r]
    row.epochs = [int(e) for e in _values(lines, "epochs")]
    row.error_best = error_stat(lines, "error_best_pct")
    row.error_final = error_stat(lines, "error_final_pct")
    batch = None if spec.latency.per_image else spec.latency.batch
    for hw in hardware:
        stat = time_stat(lines, time_column(hw, "ms", batch), time_column(hw, "iqr_ms", batch), hw)
        if stat is None:
            continue
        row.times[hw] = stat
        if bool(_first(lines, f"{hw}_held_out")):
            row.held_out.add(hw)
        if bool(_first(lines, f"{hw}_extrapolated")):
            row.extrapolated.add(hw)
        if not stat.predicted:
            b1 = time_stat(lines, time_column(hw, "ms", 1), time_column(hw, "iqr_ms", 1), hw)
            if b1:
                row.latency_b1[hw] = b1
        device = _first(lines, f"{hw}_device")
        if device:
            row.devices[hw] = str(device)
    row.complexity_published = _cx(lines, "published_torchstat")
    row.complexity_trained = _cx(lines, "trained_torchstat")
    row.complete_trained = _cx(lines, "trained_complete")
    macs = _first(lines, "trained_complete_macs_g")
    if macs is not None:
        row.complete_trained["macs_g"] = float(macs)
    pt = _first(lines, "trained_ptflops_macs_g")
    if pt is not None:
        row.ptflops_trained["macs_g"] = float(pt)
    if _first(lines, "trained_ptflops_params_m") is not None:
        row.ptflops_trained["params_m"] = float(_first(lines, "trained_ptflops_params_m"))
    head, size = _first(lines, "trained_head"), _first(lines, "trained_input")
    row.trained_head = int(head) if head is not None else None
    row.trained_input = [int(s) for s in str(size).split("x")] if size else None
    _measured_values(row, spec, lines)


def _measured_values(row: RowData, spec: TableSpec, lines: pd.DataFrame) -> None:
    """Our value for every column the paper printed (and the trained-head parameter count claims need)."""
    for key in spec.columns:
        m = METRICS[key]
        if m.group == TIME:
            if m.hardware in row.times:
                row.values[key] = row.times[m.hardware]
        elif m.group == COMPLEXITY:
            cx = Stat.exact(row.complexity_published.get(key))
            if cx is not None:
                row.values[key] = cx
        elif key == "error_pct":
            if row.error_best:
                row.values[key] = row.error_best
        elif key in ("top1_acc_pct", "top5_acc_pct"):
            stat = error_stat(lines, m.source, accuracy=True)
            if stat:
                row.values[key] = stat
        elif m.source:
            iqr = {"step_time_ms": "step_time_iqr_ms"}.get(m.source)
            stat = time_stat(lines, m.source, iqr)
            if stat:
                row.values[key] = stat


# --- building ----------------------------------------------------------------------------------------------

def published_rows(spec: TableSpec) -> tuple[dict[str, dict], dict[str, dict[str, str]]]:
    """The published table by row label, empty cells filled from the declared supplements (and which ones)."""
    rows = {str(r["model"]): dict(r) for r in load_table(spec.published_table)}
    filled: dict[str, dict[str, str]] = {}
    for sup in spec.supplements:
        other = {r["model"]: r for r in load_table(sup.published_table)}
        for rs in spec.rows:
            theirs = other.get(sup.rows.get(rs.row, rs.row), {}).get(sup.column)
            mine = rows.setdefault(rs.row, {"model": rs.row})
            if mine.get(sup.column) is None and theirs is not None:
                mine[sup.column] = theirs
                filled.setdefault(rs.row, {})[sup.column] = sup.source
    return rows, filled


def run_kind(run) -> tuple[str, bool]:
    """('reproduction' | 'reduced' | preset name, whether the errors can be compared with the paper's)."""
    m = run.manifest
    preset = m.get("preset") if isinstance(m.get("preset"), dict) else {"name": run.preset}
    if preset.get("reproduction") is False or (run.preset in PRESETS and not PRESETS[run.preset].reproduction):
        return run.preset, False
    if m.get("train_subset") or m.get("test_subset") or m.get("epochs"):
        return "reduced", False
    return "reproduction", True


def _row(spec: TableSpec, rs, published: dict, filled: dict) -> RowData:
    return RowData(rs.row, rs.model, True, dict(published.get(rs.row, {})), rs.published_head, rs.profiled_model,
                   rs.note, supplemented=dict(filled.get(rs.row, {})))


def build_table(spec: TableSpec, run: MergedRun) -> TableData:
    """The table ``spec`` filled from ``run`` (a loaded run directory)."""
    published, filled = published_rows(spec)
    df = pd.DataFrame([flatten(line, run.manifest) for line in run.lines])
    hardware = _hardware(df) if not df.empty else []
    rows = []
    for rs in spec.rows:
        row = _row(spec, rs, published, filled)
        lines = df[df["model"] == rs.model] if not df.empty else df
        if not lines.empty:
            _fill(row, spec, lines, hardware)
        rows.append(row)
    extra = sorted(set(df["model"]) - {rs.model for rs in spec.rows}) if not df.empty else []
    users = user_models(run)
    for model in sorted(extra, key=lambda m: (m in users, m)):  # models outside the rows; the user's last
        row = RowData(model, model, False, {}, None, model, "not a row of the published table")
        if model in users:
            row.user = users[model]
            row.row = f"{model} (yours)"
            row.note = f"your model: {users[model]['file']} (sha256 {users[model]['sha256'][:8]})"
        _fill(row, spec, df[df["model"] == model], hardware)
        rows.append(row)
    kind, meaningful = run_kind(run)
    return TableData(spec, run, rows, hardware, meaningful, kind)


def user_models(run) -> dict[str, dict]:
    """Model -> where it came from, for the run's user models (--models-from): file, sha256, card, and what a
    complexity counter could not count (from the line: the report never rebuilds a user's model)."""
    out: dict[str, dict] = {}
    for line in run.lines:
        user = line.get("user_model")
        if not user:
            continue
        model = line["model"]
        card = (user.get("cards") or {}).get(model) or {}
        trained = (line.get("complexity") or {}).get("trained") or {}
        uncounted = {}
        for conv in CONVENTIONS:
            rec = trained.get(conv) or {}
            names = sorted({*(rec.get("unsupported_layers") or {}), *(rec.get("uncounted_ops") or {})})
            if names:
                uncounted[conv] = names
        out[model] = {"file": user.get("path") or user.get("module"), "sha256": user.get("sha256") or "",
                      "spec": user.get("spec"), "competes_with": list(card.get("competes_with") or []),
                      "claims": list(card.get("claims") or []), "uncounted": uncounted}
    return out


def complexity_table(spec: TableSpec) -> TableData:
    """A table with no run: its published complexity columns beside our own profile (torchstat convention)."""
    published, filled = published_rows(spec)
    rows = []
    info = dataset_info(spec.dataset)
    classes = info.num_classes if info else None
    size = info.input_size if info else None
    for rs in spec.rows:
        row = _row(spec, rs, published, filled)
        try:
            pub = complexity_record(rs.profiled_model, rs.published_head, (3, 224, 224))
            line = {"complexity": {"published": pub}}
            if classes and size:
                line["complexity"]["trained"] = complexity_record(rs.model, classes, size)
            flat = pd.DataFrame([flatten(line)])
            row.complexity_published = _cx(flat, "published_torchstat")
            row.complexity_trained = _cx(flat, "trained_torchstat")
            row.trained_head, row.trained_input = classes, list(size) if size else None
            _measured_values(row, spec, flat)
        except Exception as exc:  # noqa: BLE001 - one model failing to profile keeps the others
            row.reasons.append(f"profile failed: {type(exc).__name__}: {exc}")
        rows.append(row)
    return TableData(spec, None, rows, [], False, "complexity")

"""One report table: the paper's rows and columns, each measured value beside the published one."""

from __future__ import annotations

from dataclasses import dataclass, field

from suite.paper_tables import TABLES, TableSpec
from suite.report.loader import Run
from suite.report.stats import Stat, binomial_sigma_pct
from zoo.published import load_table

COMPLEXITY = ("flops_g", "madd_g", "memory_mb", "params_m", "memrw_mb")
LABELS = {"gpu": "GPU", "rpi4": "RPi 4", "cpu": "CPU", "flops_g": "FLOPs (G)", "madd_g": "MAdd (G)",
          "memory_mb": "Memory (MB)", "params_m": "#Params (M)", "memrw_mb": "MemR+W (MB)"}
PUBLISHED_TIME = {"gpu": "gpu_time_ms", "rpi4": "rpi4_time_ms"}
PAPER_HARDWARE = {"gpu": "NVIDIA RTX 3050 (PyTorch 1.10)", "rpi4": "Raspberry Pi 4 Model B 4 GB (torch 1.11)"}


@dataclass
class RowData:
    row: str  # the paper's row label (or the model name for a model outside the table)
    model: str
    in_table: bool
    published: dict  # the published row: gpu_time_ms, rpi4_time_ms, error_pct, flops_g, ...
    published_head: int | None
    profiled_model: str
    note: str
    seeds: list[int] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    error_best: Stat | None = None
    error_final: Stat | None = None
    epochs: list[int] = field(default_factory=list)
    times: dict[str, Stat] = field(default_factory=dict)  # hardware -> per-image ms
    latency_b1: dict[str, Stat] = field(default_factory=dict)  # hardware -> batch-1 median ms
    held_out: set[str] = field(default_factory=set)  # hardware whose prediction left this model's own times out
    extrapolated: set[str] = field(default_factory=set)  # hardware whose prediction left the calibration range
    complexity_published: dict[str, float] = field(default_factory=dict)  # 224, published head, torchstat
    complexity_trained: dict[str, float] = field(default_factory=dict)  # trained input and head, torchstat
    complete_trained: dict[str, float] = field(default_factory=dict)  # trained input, complete count
    trained_head: int | None = None
    trained_input: list[int] | None = None

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
            "time_per_image_ms": {k: v.to_dict() for k, v in self.times.items()},
            "latency_batch1_ms": {k: v.to_dict() for k, v in self.latency_b1.items()},
            "prediction_held_out": sorted(self.held_out),
            "prediction_extrapolated": sorted(self.extrapolated),
            "complexity_as_published": self.complexity_published,
            "complexity_as_trained": self.complexity_trained,
            "complete_as_trained": self.complete_trained,
            "trained_head": self.trained_head, "trained_input": self.trained_input,
            "diff": self.diffs(),
        }

    def diffs(self) -> dict:
        """Measured minus published: percentage points for the error, relative % for everything else."""
        out: dict[str, float | None] = {}
        pub = self.published
        if self.error_best and pub.get("error_pct") is not None:
            out["error_best_pp"] = self.error_best.mean - pub["error_pct"]
        for hw, col in PUBLISHED_TIME.items():
            if hw in self.times and pub.get(col):
                out[f"{hw}_time_rel_pct"] = 100.0 * (self.times[hw].mean / pub[col] - 1)
        for m in COMPLEXITY:
            if m in self.complexity_published and pub.get(m):
                out[f"{m}_rel_pct"] = 100.0 * (self.complexity_published[m] / pub[m] - 1)
        return out


@dataclass
class TableData:
    id: str
    title: str
    dataset: str
    published_table: str | None
    run: Run
    rows: list[RowData]
    hardware: list[str]  # measured or predicted in this run
    errors_meaningful: bool  # a full-recipe run: errors may be compared with the paper's
    kind: str  # "reproduction", "reduced" or the preset name of a pipeline check


def _complexity(record: dict | None) -> dict[str, float]:
    if not record:
        return {}
    return {"params_m": record["params"] / 1e6, "flops_g": record["flops"] / 1e9,
            "madd_g": record["madd"] / 1e9,
            "memory_mb": record["memory_mb"], "memrw_mb": record["memrw_mb"]}


def _fill(row: RowData, lines: list[dict]) -> None:
    lines = sorted(lines, key=lambda r: r.get("seed", 0))
    row.seeds = [r.get("seed") for r in lines]
    row.statuses = [r.get("status", "?") for r in lines]
    row.reasons = [f"seed {r.get('seed')}: {r['reason']}" for r in lines if r.get("reason")]
    trained = [r for r in lines if (r.get("summary") or {}).get("best_error_pct") is not None]
    best = [r["summary"]["best_error_pct"] for r in trained]
    final = [r["summary"].get("final_error_pct") for r in trained]
    n_test = next((r["train"].get("test_images") for r in trained if r.get("train")), None)
    row.epochs = [r["summary"].get("epochs") for r in trained]
    if best:
        mean_best = sum(best) / len(best)
        row.error_best = Stat.of(best, fallback=binomial_sigma_pct(mean_best, n_test),
                                 fallback_source="test-set size (one seed)")
        finals = [f for f in final if f is not None]
        if finals:
            row.error_final = Stat.of(finals, fallback=binomial_sigma_pct(sum(finals) / len(finals), n_test),
                                      fallback_source="test-set size (one seed)")
    hardware = sorted({hw for r in lines for hw in (r.get("latency") or {})})
    for hw in hardware:
        recs = [r["latency"][hw] for r in lines if hw in (r.get("latency") or {})]
        per = [x.get("per_image_ms") for x in recs]
        predicted = any(x.get("predicted") for x in recs)
        expected = next((x["expected_error_pct"] for x in recs if x.get("expected_error_pct") is not None),
                        None)
        iqr = next((x.get("per_image_iqr_ms") for x in recs if x.get("per_image_iqr_ms") is not None), None)
        stat = Stat.of(per, fallback=iqr / 1.349 if iqr else None, fallback_source="timing IQR (one run)",
                       predicted=predicted, expected_error_pct=expected)
        if stat:
            row.times[hw] = stat
        if any(x.get("held_out") for x in recs):
            row.held_out.add(hw)
        if any(n.startswith("extrapolated") for x in recs for n in (x.get("calibration") or {}).get("notes", [])):
            row.extrapolated.add(hw)
        b1 = Stat.of([x.get("median_ms") for x in recs], predicted=predicted, expected_error_pct=expected)
        if b1 and not predicted:
            row.latency_b1[hw] = b1
    comp = next((r["complexity"] for r in lines if r.get("complexity")), None) or {}
    pub, tr = comp.get("published") or {}, comp.get("trained") or {}
    row.complexity_published = _complexity(pub.get("torchstat"))
    row.complexity_trained = _complexity(tr.get("torchstat"))
    row.complete_trained = _complexity(tr.get("complete"))
    row.trained_head, row.trained_input = tr.get("num_classes"), tr.get("input_size")


def run_kind(run: Run) -> tuple[str, bool]:
    """('reproduction' | 'reduced' | preset name, whether the errors can be compared with the paper's)."""
    m = run.manifest
    preset = m.get("preset") if isinstance(m.get("preset"), dict) else {"name": run.preset}
    if preset.get("reproduction") is False or run.preset in ("smoke", "quick"):
        return run.preset, False
    if m.get("train_subset") or m.get("test_subset") or m.get("epochs"):
        return "reduced", False
    return "reproduction", True


def table_for_dataset(dataset: str) -> TableSpec | None:
    return next((t for t in TABLES.values() if t.dataset == dataset), None)


def build_table(run: Run) -> TableData:
    spec = table_for_dataset(run.dataset)
    published = {r["model"]: r for r in load_table(spec.published_table)} if spec else {}
    by_model: dict[str, list[dict]] = {}
    for line in run.lines:
        by_model.setdefault(line["model"], []).append(line)
    rows = []
    for rs in spec.rows if spec else ():
        row = RowData(rs.row, rs.model, True, dict(published.get(rs.row, {})), rs.published_head,
                      rs.profiled_model, rs.note)
        _fill(row, by_model.pop(rs.model, []))
        rows.append(row)
    for model, lines in sorted(by_model.items()):  # models run outside the table's rows
        row = RowData(model, model, False, {}, None, model, "not a row of the published table")
        _fill(row, lines)
        rows.append(row)
    hardware = sorted({hw for r in rows for hw in r.times}, key=lambda h: ("gpu", "rpi4", "cpu").index(h)
                      if h in ("gpu", "rpi4", "cpu") else 9)
    kind, meaningful = run_kind(run)
    if spec is None:
        return TableData(run.dataset, f"{run.dataset} (no published table)", run.dataset, None, run, rows,
                         hardware, meaningful, kind)
    return TableData(spec.id, spec.title, run.dataset, spec.published_table, run, rows, hardware, meaningful,
                     kind)

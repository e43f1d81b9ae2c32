"""The robustness panel of a table's speed claims: does each comparison survive the runtimes people ship with?

The verdict above it stays the papers' protocol (eager, in the claim's scope). The panel asks every claim part
"A faster than B" once more per measured device, runtime and batch (batch 1: the median latency; the table's
per-image batch: batch time / batch), through the one rule (``suite.claims.rule.judge``, direction only, any
device): holds (interval of time(B)/time(A) above 1), reversed (below 1) or inconclusive (busy machine, one
round, noisy, predicted). One label per claim: robust when every cell holds, protocol-dependent when on one
device one runtime or batch holds and another reverses, naming where it reverses. Busy timings are inconclusive
and so never decide the label. Per device and batch: Kendall's tau between each runtime's ranking of the
table's models and eager's, and Spearman's rho of FLOPs, MAdd, MemR+W and #Params against each runtime's time.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import pandas as pd
from markupsafe import escape
from scipy import stats

from suite.analysis.results import flatten
from suite.analysis.stats import Stat
from suite.claims.rule import BUSY, NOT_REPRODUCED, PARTIAL, PREDICTED, REPRODUCED, Question, judge
from suite.claims.verdicts import device_words, sample
from suite.report.tables import time_stat
from suite.tables.claim import SPEED, Scope
from suite.tables.spec import TableSpec
from suite.timing.profiles import order_key
from suite.timing.runtimes import EAGER, RUNTIMES, column, prefix, runtime_of

HOLDS, REVERSED, INCONCLUSIVE = "holds", "reversed", "inconclusive"
ROBUST = "robust (holds under every measured runtime)"
# complexity figure -> results column (torchstat convention, as trained: the input and head that were timed)
COMPLEXITY = {"FLOPs": "trained_torchstat_flops_g", "MAdd": "trained_torchstat_madd_g",
              "MemR+W": "trained_torchstat_memrw_mb", "#Params": "trained_torchstat_params_m"}


@dataclass(frozen=True)
class Batch:
    label: str
    metric: str
    iqr: str


@dataclass
class Cell:
    part: str
    device: str
    runtime: str
    batch: str
    outcome: str
    ratio: float | None = None  # time(B) / time(A): above 1, A is faster
    ci: tuple[float, float] | None = None
    detail: str = ""


@dataclass
class ClaimPanel:
    id: str
    text: str
    label: str
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Agreement:
    """One runtime on one device and batch: its ranking against eager's, and complexity against its time."""

    device: str
    batch: str
    runtime: str
    models: int
    kendall_tau: float | None  # None for eager itself, or fewer than 3 models
    rho: dict[str, float | None]  # complexity figure -> Spearman rho against the time
    busy: bool

    @property
    def best(self) -> str | None:
        known = {k: v for k, v in self.rho.items() if v is not None and not math.isnan(v)}
        return max(known, key=lambda k: known[k]) if known else None


@dataclass
class Panel:
    table: str
    runtimes: list[str]
    claims: list[ClaimPanel]
    agreement: list[Agreement]

    def to_dict(self) -> dict:
        return {"table": self.table, "runtimes": self.runtimes, "claims": [asdict(c) for c in self.claims],
                "agreement": [{**asdict(a), "best_predictor": a.best} for a in self.agreement]}


def _batches(spec: TableSpec, df: pd.DataFrame) -> list[Batch]:
    out = [Batch("batch 1", "median_ms", "iqr_ms")]
    if spec.latency.per_image:
        sizes = sorted({int(v) for c in df.columns if c.endswith("per_image_batch") for v in df[c].dropna()})
        label = f"per image, batch {sizes[-1]}" if sizes else "per image"
        out.append(Batch(label, "per_image_ms", "per_image_iqr_ms"))
    return out


def _runtimes(df: pd.DataFrame, hw: str) -> list[str]:
    cols = {rt: column(hw, "median_ms", rt) for rt in RUNTIMES}
    return [rt for rt, col in cols.items() if col in df and df[col].notna().any()]


def _hardware(df: pd.DataFrame) -> list[str]:
    found = {c[: -len("_median_ms")] for c in df.columns if c.endswith("_median_ms")}
    return sorted((hw for hw in found if runtime_of(hw) == EAGER), key=order_key)


def _outcome(verdict: str) -> str:
    if verdict in (REPRODUCED, PARTIAL):
        return HOLDS
    if verdict == NOT_REPRODUCED:
        return REVERSED
    if verdict in (BUSY, PREDICTED):
        return verdict.replace("inconclusive", INCONCLUSIVE)
    return INCONCLUSIVE


def _label(cells: list[Cell]) -> str:
    reversals = []
    for part, device in dict.fromkeys((c.part, c.device) for c in cells):
        here = [c for c in cells if (c.part, c.device) == (part, device)]
        if any(c.outcome == HOLDS for c in here):
            reversals += [c for c in here if c.outcome == REVERSED]
    if reversals:
        where = "; ".join(dict.fromkeys(f"{c.runtime} at {c.batch} on {(device_words(c.device) or c.device)}"
                                        for c in reversals))
        return f"protocol-dependent (reverses under {where})"
    if cells and all(c.outcome == HOLDS for c in cells):
        return ROBUST
    if cells and all(c.outcome == REVERSED for c in cells):
        return "reversed under every measured runtime"
    open_ = sum(c.outcome != HOLDS and c.outcome != REVERSED for c in cells)
    return f"undecided ({open_} of {len(cells)} cells inconclusive)" if cells else "not measured"


def build(spec: TableSpec, df: pd.DataFrame) -> Panel | None:
    """The panel of ``spec``'s speed claims from a results frame; None when no runtime beside eager was timed."""
    if df.empty:
        return None
    hardware = _hardware(df)
    runtimes = {hw: _runtimes(df, hw) for hw in hardware}
    if not any(rt != EAGER for rts in runtimes.values() for rt in rts):
        return None
    models = {r.row: r.model for r in spec.rows}
    batches = _batches(spec, df)
    stat_cache: dict[tuple, Stat | None] = {}

    def stat(row: str, hw: str, rt: str, b: Batch) -> Stat | None:
        key = (row, hw, rt, b.metric)
        if key not in stat_cache:
            lines = df[df["model"] == models.get(row, row)]
            stat_cache[key] = time_stat(lines, column(hw, b.metric, rt), column(hw, b.iqr, rt), prefix(hw, rt))
        return stat_cache[key]

    claims = []
    for claim in spec.claims:
        parts = [c for c in claim.compared if c.quantity == SPEED and c.a in models and c.b in models]
        if not parts:
            continue
        cells = []
        for c in parts:
            for hw in hardware:
                for rt in runtimes[hw]:
                    for b in batches:
                        ta, tb = stat(c.a, hw, rt, b), stat(c.b, hw, rt, b)
                        if ta is None or tb is None:
                            continue
                        q = Question(SPEED, sample(c.a, ta), sample(c.b, tb), scope=Scope(), device=hw,
                                     device_name=device_words(hw), unit="ms")
                        j = judge(q)
                        ratio = tb.mean / ta.mean if ta.mean else None
                        cells.append(Cell(f"{c.a} faster than {c.b}", hw, rt, b.label, _outcome(j.verdict), ratio,
                                          j.ci, j.detail))
        if cells:
            claims.append(ClaimPanel(claim.id, claim.text, _label(cells), cells))
    agreement = [_agreement(spec, df, hw, rt, b) for hw in hardware for b in batches for rt in runtimes[hw]]
    all_rts = list(dict.fromkeys(rt for rts in runtimes.values() for rt in rts))
    return Panel(spec.id, all_rts, claims, [a for a in agreement if a is not None])


def _means(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df:
        return pd.Series(dtype=float)
    return pd.to_numeric(df[col], errors="coerce").groupby(df["model"]).mean().dropna()


def _agreement(spec: TableSpec, df: pd.DataFrame, hw: str, rt: str, b: Batch) -> Agreement | None:
    times = _means(df, column(hw, b.metric, rt))
    if len(times) < 2:
        return None
    tau = None
    if rt != EAGER:
        eager = _means(df, column(hw, b.metric))
        both = times.index.intersection(eager.index)
        if len(both) >= 3:
            tau = float(stats.kendalltau(eager[both], times[both]).statistic)
    rho: dict[str, float | None] = {}
    for name, col in COMPLEXITY.items():
        cx = _means(df, col)
        both = times.index.intersection(cx.index)
        rho[name] = float(stats.spearmanr(cx[both], times[both]).statistic) if len(both) >= 3 else None
    busy_col = column(hw, "busy", rt)
    busy = bool(busy_col in df and df[busy_col].fillna(False).astype(bool).any())
    return Agreement(hw, b.label, rt, len(times), tau, rho, busy)


def of_run(spec: TableSpec, run) -> Panel | None:
    """The panel of one loaded run (``suite.run.store.Run``), None without a run or without other runtimes."""
    if run is None:
        return None
    return build(spec, pd.DataFrame([flatten(line, run.manifest) for line in run.lines]))


# --- rendering (every text escaped: model names and details come from results) -----------------------------

def _num(v: float | None, digits: int = 2) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _ratio(c: Cell) -> str:
    text = _num(c.ratio, 3)
    return text + (f" [{c.ci[0]:.3g}, {c.ci[1]:.3g}]" if c.ci else "")


INTRO = ("The verdict above is the papers' protocol (PyTorch eager, in the claim's scope). This panel asks each "
         "speed comparison again under every runtime and batch timed here, on every measured device, with the same "
         "rule (direction only): holds / reversed / inconclusive, with time(B)/time(A) and its 95 % interval. Busy "
         "timings are inconclusive and never decide a label. Other runtimes never decide a verdict.")


def _agreement_rows(p: Panel) -> list[list[str]]:
    rows = []
    for a in p.agreement:
        rows.append([(device_words(a.device) or a.device), a.batch, a.runtime, str(a.models),
                     "reference" if a.runtime == EAGER else _num(a.kendall_tau),
                     *[_num(a.rho[k]) for k in COMPLEXITY], a.best or "—", "busy" if a.busy else ""])
    return rows


AGREEMENT_HEAD = ["device", "batch", "runtime", "models", "Kendall tau vs eager",
                  *[f"rho {k}" for k in COMPLEXITY], "best predictor", "machine"]
CELL_HEAD = ["part", "device", "runtime", "batch", "time(B)/time(A) [95 % CI]", "outcome"]


def _cell_row(c: Cell) -> list[str]:
    return [c.part, (device_words(c.device) or c.device), c.runtime, c.batch, _ratio(c), c.outcome]


def markdown(p: Panel | None) -> str:
    if p is None:
        return ""

    def row(values: list[str]) -> str:
        return "| " + " | ".join(str(v).replace("|", "\\|").replace("\n", " ") for v in values) + " |"

    out = ["## Speed claims under other runtimes", "", INTRO, ""]
    for c in p.claims:
        out += [f"### {c.id}: {c.label}", "", row(CELL_HEAD), row(["---"] * len(CELL_HEAD))]
        out += [row(_cell_row(cell)) for cell in c.cells] + [""]
    out += ["### Rank agreement and what predicts each runtime's time", "",
            "Kendall tau: each runtime's ranking of the table's models against eager's (1 = the same order). "
            "Spearman rho: each complexity figure (torchstat, as trained) against the measured time.", "",
            row(AGREEMENT_HEAD), row(["---"] * len(AGREEMENT_HEAD))]
    out += [row(r) for r in _agreement_rows(p)] + [""]
    return "\n".join(out)


def html(p: Panel | None) -> str:
    if p is None:
        return ""

    def table(head: list[str], rows: list[list[str]], cls: str) -> str:
        th = "".join(f"<th>{escape(h)}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in r) + "</tr>" for r in rows)
        # in a scroll box like the report's other tables: a narrow window scrolls the table, not the page
        return (f'<div class="scroll"><table class="{cls}"><thead><tr>{th}</tr></thead>'
                f"<tbody>{body}</tbody></table></div>")

    out = ['<section id="robustness"><h2>Speed claims under other runtimes</h2>', f"<p>{escape(INTRO)}</p>"]
    for c in p.claims:
        out.append(f'<h3>{escape(c.id)}: <span class="robustness-label">{escape(c.label)}</span></h3>')
        out.append(table(CELL_HEAD, [_cell_row(cell) for cell in c.cells], "robustness-cells"))
    out.append("<h3>Rank agreement and what predicts each runtime's time</h3>")
    out.append(table(AGREEMENT_HEAD, _agreement_rows(p), "robustness-agreement"))
    out.append("</section>")
    return "\n".join(out)

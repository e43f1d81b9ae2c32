"""Your models against the table's rows: error difference, parameter and FLOPs ratios, time ratios, card claims.

Everything compared here was measured in the same run (the same recipe, data, seeds, input and timing
protocol); published figures never enter it. A user's row is never "reproduced": there is nothing published to
reproduce. A comparison of two measured values goes through ``judge_lower`` alone, which asks the claims' one rule
(``suite.claims.rule.judge``: Welch intervals on final-epoch errors, time ratios over rounds, predicted or busy
values never deciding), so the papers' claims and yours are judged alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from suite.analysis.stats import Stat, fmt_num
from suite.claims.rule import INCONCLUSIVE, NOT_REPRODUCED, PARTIAL, REPRODUCED, Question, judge
from suite.claims.verdicts import Part, sample
from suite.report.measure import timing_protocol
from suite.report.tables import LABELS, RowData, TableData
from suite.report.view import Cell, Section
from suite.tables.claim import DIRECTION, ERROR, EXACT, SPEED, Magnitude

# The claims' verdicts, worded for a user's statement: it holds or not (a user's row reproduces nothing).
WORDS = {REPRODUCED: "holds", PARTIAL: "holds in direction, not in the claimed size", NOT_REPRODUCED: "does not hold"}
CLAIM_FORMS = ("lower error than ROW", "N % lower error than ROW", "faster than ROW on HW",
               "N % faster than ROW on HW", "fewer parameters than ROW", "fewer FLOPs than ROW")


def judge_lower(what: str, a: Stat | None, b: Stat | None, *, quantity: str, unit: str, missing: str,
                claimed_pct: float | None = None, reduced: str = "", device: str = "", protocol: str = "") -> Part:
    """Is ``a`` below ``b`` (by ``claimed_pct``)? The one call into the claims' rule."""
    if a is None or b is None:
        return Part(what, INCONCLUSIVE, missing)
    magnitude = DIRECTION
    if claimed_pct is not None:
        # nothing is published for a user's row: "N % lower error" is converted at the measured error of the row
        magnitude = Magnitude.pp(claimed_pct / 100.0 * b.mean) if quantity == ERROR else Magnitude.percent(claimed_pct)
    j = judge(Question(quantity, sample("yours", a), sample("theirs", b), magnitude, device=device,
                       reduced=reduced, unit=unit, protocol=protocol))
    detail = j.detail + "".join(f"; {c}" for c in j.context if c and c not in j.detail)
    return Part(what, WORDS.get(j.verdict, j.verdict), detail, j)


@dataclass
class Versus:
    """One user model against one row of the table."""

    row: str
    measured: bool
    error: Part | None = None
    error_diff_pp: float | None = None
    params_ratio: float | None = None
    flops_ratio: float | None = None
    time_ratio: dict[str, float] = field(default_factory=dict)  # hardware -> ours / theirs
    time_predicted: set[str] = field(default_factory=set)
    time_busy: set[str] = field(default_factory=set)  # a side timed on a busy machine: shown marked, no finding

    def to_dict(self) -> dict:
        return {"row": self.row, "measured": self.measured,
                "error": self.error.to_dict() if self.error else None, "error_diff_pp": self.error_diff_pp,
                "params_ratio": self.params_ratio, "flops_ratio": self.flops_ratio, "time_ratio": self.time_ratio,
                "time_predicted": sorted(self.time_predicted), "time_busy": sorted(self.time_busy)}


@dataclass
class UserComparison:
    model: str
    label: str
    file: str
    sha256: str
    versus: list[Versus]
    claims: list[tuple[str, Part]]
    uncounted: dict[str, list[str]]

    def to_dict(self) -> dict:
        return {"model": self.model, "row": self.label, "file": self.file, "sha256": self.sha256,
                "versus": [v.to_dict() for v in self.versus],
                "claims": [{"claim": text, **part.to_dict()} for text, part in self.claims],
                "uncounted": self.uncounted}


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _flops(r: RowData) -> float | None:
    return r.complexity_trained.get("flops_g")


def _find(td: TableData, label: str) -> RowData | None:
    key = label.strip().lower()
    return next((r for r in td.rows if r.in_table and key in (r.row.lower(), r.model.lower())), None)


def _versus(td: TableData, mine: RowData, other: RowData) -> Versus:
    v = Versus(other.row, other.measured)
    if not other.measured:
        return v
    v.error = _error_part(td, f"{mine.model} lower error than {other.row}", mine, other,
                          missing="an error is missing (not trained, or a timing-only table)")
    if mine.error_final and other.error_final:
        v.error_diff_pp = mine.error_final.mean - other.error_final.mean
    v.params_ratio = _ratio(mine.complexity_trained.get("params_m"), other.complexity_trained.get("params_m"))
    v.flops_ratio = _ratio(_flops(mine), _flops(other))
    for hw, t in mine.times.items():
        theirs = other.times.get(hw)
        if theirs is not None and theirs.mean:
            v.time_ratio[hw] = t.mean / theirs.mean
            if t.predicted or theirs.predicted:
                v.time_predicted.add(hw)
            if t.busy or theirs.busy:
                v.time_busy.add(hw)
    return v


def _error_part(td: TableData, what: str, mine: RowData, other: RowData, *, missing: str,
                claimed_pct: float | None = None) -> Part:
    reduced = "" if td.errors_meaningful else f"a {td.kind} run (use the paper preset)"
    return judge_lower(what, mine.error_final, other.error_final, quantity=ERROR, unit="%", missing=missing,
                       claimed_pct=claimed_pct, reduced=reduced)


_PCT = r"(?:(?P<pct>\d+(?:\.\d+)?)\s*%\s*)?"
_FORMS = (
    ("error", re.compile(rf"^{_PCT}lower (?:test )?error than (?P<row>.+?)$", re.I)),
    ("time", re.compile(rf"^{_PCT}faster than (?P<row>.+?) on (?P<hw>[\w@.-]+)$", re.I)),
    ("params", re.compile(rf"^{_PCT}fewer param(?:eter)?s than (?P<row>.+?)$", re.I)),
    ("flops", re.compile(rf"^{_PCT}fewer flops than (?P<row>.+?)$", re.I)),
)


def check_claim(td: TableData, mine: RowData, text: str) -> Part:
    """A card's claim, judged by the claims' rule on this run's measurements."""
    for kind, pattern in _FORMS:
        m = pattern.match(text.strip().rstrip("."))
        if not m:
            continue
        other = _find(td, m.group("row"))
        if other is None:
            return Part(text, INCONCLUSIVE, f"no row {m.group('row')!r} in table {td.id}")
        pct = float(m.group("pct")) if m.group("pct") else None
        missing = f"{other.row} was not measured in this run" if not other.measured else "not measured"
        if kind == "error":
            part = _error_part(td, text, mine, other, missing=missing, claimed_pct=pct)
        elif kind == "time":
            hw = m.group("hw").lower()
            part = judge_lower(text, mine.times.get(hw), other.times.get(hw), quantity=SPEED, unit="ms",
                               missing=f"not timed on {hw} in this run", claimed_pct=pct, device=hw,
                               protocol=timing_protocol(td))
        else:
            key = "params_m" if kind == "params" else "flops_g"
            part = judge_lower(text, Stat.exact(mine.complexity_trained.get(key)),
                               Stat.exact(other.complexity_trained.get(key)), quantity=EXACT,
                               unit="M" if kind == "params" else "G", missing=missing, claimed_pct=pct)
        return part
    return Part(text, INCONCLUSIVE, f"cannot read this claim; its forms: {'; '.join(CLAIM_FORMS)}")


def comparisons(td: TableData) -> list[UserComparison]:
    out = []
    for mine in (r for r in td.rows if r.user):
        wanted = mine.user.get("competes_with") or [r.row for r in td.rows if r.in_table]
        versus = []
        for label in wanted:
            other = _find(td, label)
            versus.append(_versus(td, mine, other) if other is not None else Versus(label, False))
        claims = [(text, check_claim(td, mine, text)) for text in mine.user.get("claims") or []]
        out.append(UserComparison(mine.model, mine.row, mine.user.get("file") or "", mine.user.get("sha256") or "",
                                  versus, claims, dict(mine.user.get("uncounted") or {})))
    return out


def _time_cell(v: Versus, hw: str) -> Cell:
    if hw not in v.time_ratio:
        return Cell("—", "na")
    if hw in v.time_busy:
        return Cell(f"{v.time_ratio[hw]:.2f}x ‡", "num busy")
    return Cell(f"{v.time_ratio[hw]:.2f}x{'*' if hw in v.time_predicted else ''}",
                "num pred" if hw in v.time_predicted else "num")


def _x(v: float | None) -> Cell:
    return Cell("—", "na") if v is None else Cell(f"{v:.2f}x", "num")


def sections(td: TableData) -> list[Section]:
    """The comparison block and the card claims of every user model in the table's run."""
    comps = comparisons(td)
    if not comps:
        return []
    hardware = sorted({hw for c in comps for v in c.versus for hw in v.time_ratio})
    header = ["Yours", "File (sha256)", "Against", "Error % Δ pp (yours - theirs)", "Lower error?",
              "Params ratio", "FLOPs ratio", *[f"{LABELS.get(hw, hw)} time ratio" for hw in hardware]]
    sec = Section("Your models against the table's rows",
                  "all measured by the runs this table renders (compatible runs: same recipe, data, budget, input, "
                  "timing protocol); ratios are yours / theirs, complexity at the trained input and head "
                  "(torchstat convention); * a predicted time (information only, never a verdict); ‡ a side timed "
                  "on a busy machine (not evidence); a user's row has nothing published to reproduce", header)
    claims = Section("Your models' own claims", "stated on the model's card, judged by the claims' rule on this "
                     "run's measurements", ["Yours", "Claim", "Verdict", "Detail"])
    uncounted = Section("Operations a complexity counter could not count", "listed by name: the counter's figure "
                        "leaves them out (never a silently low number)", ["Yours", "Counter", "Not counted"])
    for c in comps:
        where = Cell(f"{c.file} ({c.sha256[:8]})")
        for v in c.versus:
            if not v.measured:
                sec.rows.append([Cell(c.label), where, Cell(v.row), Cell("not measured in this run", "na"),
                                 Cell("—", "na"), Cell("—", "na"), Cell("—", "na"),
                                 *[Cell("—", "na") for _ in hardware]])
                continue
            times = [_time_cell(v, hw) for hw in hardware]
            diff = Cell(fmt_num(v.error_diff_pp, 2) if v.error_diff_pp is not None else "—", "num")
            verdict = Cell(f"{v.error.verdict}: {v.error.detail}" if v.error else "—")
            sec.rows.append([Cell(c.label), where, Cell(v.row), diff, verdict, _x(v.params_ratio),
                             _x(v.flops_ratio), *times])
        for text, part in c.claims:
            claims.rows.append([Cell(c.label), Cell(text), Cell(part.verdict), Cell(part.detail)])
        for conv, names in sorted(c.uncounted.items()):
            uncounted.rows.append([Cell(c.label), Cell(conv), Cell(", ".join(names))])
    return [s for s in (sec, claims, uncounted) if s.rows]

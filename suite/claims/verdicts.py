"""How a claim is judged: verdicts, parts, and the comparisons every paper's claims are built from.

Verdicts on measurements: ``reproduced`` / ``not reproduced`` / ``inconclusive`` (the difference is inside the
spread - seeds, or the stated fallback for one seed - or something was not measured) / ``inconclusive
(predicted)`` (the deciding value is a prediction: it is shown as information, it never decides) / ``inconclusive
(busy)`` (a deciding time was measured while other processes used the CPU: shown, never decides). A claim of
several parts is reproduced only if every part is, and not reproduced as soon as one measured part is
contradicted.

Verdicts on the paper's own table: ``supported`` / ``not supported`` (its numbers do not give what the text
says) / ``questionable`` (the arithmetic holds but rests on a misprint or on figures that are not comparable).
Claimed percentages are whole numbers, so a computed percentage within ``PCT_TOL`` points of one matches it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from suite.stats import Stat, compare, fmt_stat

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
PREDICTED = "inconclusive (predicted)"
BUSY = "inconclusive (busy)"
SUPPORTED, NOT_SUPPORTED, QUESTIONABLE = "supported", "not supported", "questionable"
INFO = "info"
PCT_TOL = 1.0  # percentage points: the texts round their percentages to whole numbers
HARDWARE_ORDER = ("gpu", "cpu", "rpi4", "rpi3b")


@dataclass
class Part:
    what: str
    verdict: str
    detail: str

    def to_dict(self) -> dict:
        return {"what": self.what, "verdict": self.verdict, "detail": self.detail}


@dataclass
class Check:
    verdict: str
    parts: list[Part] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "parts": [p.to_dict() for p in self.parts], "note": self.note}


@dataclass
class ClaimResult:
    claim: Claim
    measured: Check
    own_table: Check
    table: str = ""  # the table whose report shows it

    def to_dict(self) -> dict:
        c = self.claim
        return {"id": c.id, "text": c.text, "where": c.where, "table": self.table, "uses": list(c.uses),
                "measured": self.measured.to_dict(), "own_table": self.own_table.to_dict()}


@dataclass
class Measurements:
    """What claims need from one table's run, by the paper's row labels (tests build it directly)."""

    errors: dict[str, Stat] = field(default_factory=dict)  # best-epoch test error, %
    errors_final: dict[str, Stat] = field(default_factory=dict)
    times: dict[str, dict[str, Stat]] = field(default_factory=dict)  # hardware -> row -> inference ms
    params_trained: dict[str, float] = field(default_factory=dict)  # M, the trained (equal) heads
    params_published: dict[str, float] = field(default_factory=dict)  # M, 224 with the published heads
    values: dict[str, dict[str, Stat]] = field(default_factory=dict)  # other metric keys -> row -> value
    rows: tuple[str, ...] = ()  # every row of the table, measured or not
    errors_meaningful: bool = True  # False: a smoke/quick/reduced run, whose errors test no accuracy claim
    error_context: str = ""
    devices: dict[str, str] = field(default_factory=dict)  # hardware -> the device it was measured on

    def value(self, key: str, row: str) -> Stat | None:
        return self.values.get(key, {}).get(row)


@dataclass
class Published:
    """A published table by row label, with each row's published classifier head."""

    rows: dict[str, dict] = field(default_factory=dict)
    heads: dict[str, int] = field(default_factory=dict)

    def get(self, row: str, column: str):
        return self.rows.get(row, {}).get(column)


@dataclass(frozen=True)
class Claim:
    """A sentence of a paper, checked against our measurements and against the paper's own table.

    ``measured(ms)`` and ``own_table(pub)`` receive the measurements and the published rows of every table in
    ``uses`` (by table id); each returns a ``suite.claims.Check``.
    """

    id: str
    text: str
    where: str
    measured: Callable[[dict[str, Any]], Any]
    own_table: Callable[[dict[str, Any]], Any]
    uses: tuple[str, ...] = ()  # table ids it reads; the first is the table whose report shows it


# --- combining ----------------------------------------------------------------------------------------------

def all_parts(verdicts: list[str]) -> str:
    """A claim of several parts: contradicted by any measured part, reproduced only by all."""
    verdicts = [v for v in verdicts if v != INFO]
    if NOT_REPRODUCED in verdicts:
        return NOT_REPRODUCED
    if verdicts and all(v == REPRODUCED for v in verdicts):
        return REPRODUCED
    return PREDICTED if PREDICTED in verdicts and INCONCLUSIVE not in verdicts else INCONCLUSIVE


def any_hardware(verdicts: list[str]) -> str:
    """The same claim on several devices: a clear answer stands unless another device says the opposite."""
    clear = {v for v in verdicts if v in (REPRODUCED, NOT_REPRODUCED)}
    if len(clear) == 1:
        return clear.pop()
    if not clear and PREDICTED in verdicts:
        return PREDICTED
    return INCONCLUSIVE


def own_table(verdicts: list[str]) -> str:
    verdicts = [v for v in verdicts if v != INFO]
    if not verdicts or NOT_SUPPORTED in verdicts:
        return NOT_SUPPORTED
    return QUESTIONABLE if QUESTIONABLE in verdicts else SUPPORTED


def direction(c: int | None, want: int) -> str:
    if c is None or c == 0:
        return INCONCLUSIVE
    return REPRODUCED if c == want else NOT_REPRODUCED


def why(a: Stat, b: Stat) -> str:
    sources = sorted({s.sigma_source for s in (a, b) if s.sigma > 0})
    return f"spread from {', '.join(sources)}" if sources else "exact values"


def pct_less(a: float | None, b: float | None) -> float | None:
    """How much smaller a is than b, in % of b (a "x % faster / fewer" figure)."""
    return None if a is None or b is None or not b else 100.0 * (1 - a / b)


def matches(pct: float | None, claimed: float) -> bool:
    return pct is not None and abs(pct - claimed) <= PCT_TOL


# --- measured parts -----------------------------------------------------------------------------------------

def _predicted_part(what: str, ta: Stat, tb: Stat, unit: str) -> Part:
    lower = "lower" if ta.mean < tb.mean else "higher"
    errors = sorted({f"±{s.expected_error_pct:.0f} %" for s in (ta, tb)
                     if s.predicted and s.expected_error_pct is not None})
    return Part(what, PREDICTED, f"predicted, not measured: {fmt_stat(ta)} vs {fmt_stat(tb)} {unit} "
                                 f"({lower} by the prediction, expected error {', '.join(errors) or 'unknown'}); "
                                 "a prediction never decides a claim: measure it (natively, `suite bundle` or "
                                 "`--hardware rpi4@host`)")


def smaller(what: str, ta: Stat | None, tb: Stat | None, *, unit: str, missing: str, claimed_pct: float | None = None,
            word: str = "lower") -> Part:
    """Part "a below b": reproduced / not reproduced outside the spread, predicted values never decide."""
    if ta is None or tb is None:
        return Part(what, INCONCLUSIVE, missing)
    if ta.predicted or tb.predicted:
        return _predicted_part(what, ta, tb, unit)
    if ta.busy or tb.busy:
        return Part(what, BUSY, f"{fmt_stat(ta)} vs {fmt_stat(tb)} {unit}, measured while the machine was busy "
                                "(other processes used the CPU): a busy time never decides a claim; time it again "
                                "on a quiet machine")
    pct = pct_less(ta.mean, tb.mean)
    claimed = f", claimed {claimed_pct:.0f} %" if claimed_pct is not None else ""
    verdict = direction(compare(ta, tb), -1)
    amount = (f"{pct:.1f} % {word}" if pct is not None and pct >= 0
              else f"{100.0 * (ta.mean / tb.mean - 1):.1f} % {'higher' if word == 'lower' else 'slower'}")
    detail = f"{fmt_stat(ta)} vs {fmt_stat(tb)} {unit}: {amount}{claimed} ({why(ta, tb)})"
    if verdict == INCONCLUSIVE:
        detail += "; the difference is inside the spread"
    return Part(what, verdict, detail)


def faster(m: Measurements, hw: str, a: str, b: str, claimed_pct: float | None = None) -> Part:
    ta, tb = m.times.get(hw, {}).get(a), m.times.get(hw, {}).get(b)
    missing = ", ".join(r for r, t in ((a, ta), (b, tb)) if t is None)
    return smaller(f"{a} faster than {b} on {hw}", ta, tb, unit="ms", missing=f"not measured on {hw}: {missing}",
                   claimed_pct=claimed_pct, word="faster")


def faster_on(m: Measurements, key: str, a: str, b: str, *, label: str, claimed_pct: float | None = None) -> Part:
    """A training-time comparison (step or epoch time) on the device the run trained on."""
    ta, tb = m.value(key, a), m.value(key, b)
    device = m.devices.get("train", "the training device")
    missing = ", ".join(r for r, t in ((a, ta), (b, tb)) if t is None)
    return smaller(f"{a} {label} shorter than {b} (on {device})", ta, tb, unit=label.split()[-1],
                   missing=f"not measured: {missing}", claimed_pct=claimed_pct, word="faster")


def not_meaningful(m: Measurements, what: str) -> Part | None:
    if m.errors_meaningful:
        return None
    return Part(what, INCONCLUSIVE, f"errors of this run cannot test an accuracy claim ({m.error_context})")


def lower_error(m: Measurements, a: str, b: str, claimed_pct: float | None = None) -> Part:
    what = f"{a} lower error than {b}"
    if (part := not_meaningful(m, what)) is not None:
        return part
    ea, eb = m.errors.get(a), m.errors.get(b)
    if ea is None or eb is None:
        missing = ", ".join(r for r, e in ((a, ea), (b, eb)) if e is None)
        return Part(what, INCONCLUSIVE, f"not measured: {missing}")
    rel = 100.0 * (1 - ea.mean / eb.mean) if eb.mean else 0.0
    claimed = f", claimed {claimed_pct:.0f} %" if claimed_pct is not None else ""
    verdict = direction(compare(ea, eb), -1)
    detail = (f"best-epoch error {fmt_stat(ea, 2)} vs {fmt_stat(eb, 2)} %: {rel:+.1f} % relative{claimed} "
              f"({why(ea, eb)})")
    if a in m.errors_final and b in m.errors_final:
        detail += f"; final-epoch {fmt_stat(m.errors_final[a], 2)} vs {fmt_stat(m.errors_final[b], 2)} %"
    return Part(what, verdict, detail)


def fewer_params(m: Measurements, a: str, b: str, heads: str) -> Part:
    source = m.params_trained if heads == "equal" else m.params_published
    pa, pb = source.get(a), source.get(b)
    what = f"{a} fewer parameters than {b} ({heads} heads)"
    if pa is None or pb is None:
        return Part(what, INCONCLUSIVE, "not profiled")
    verdict = REPRODUCED if pa < pb else NOT_REPRODUCED
    return Part(what, verdict, f"{pa:.2f} vs {pb:.2f} M ({100 * (1 - pa / pb):.1f} % fewer)")


def pct_part(what: str, a: float | None, b: float | None, claimed: float, *, unit: str, word: str = "fewer") -> Part:
    """An exact quantity (parameters, FLOPs) claimed to be ``claimed`` % below another: within PCT_TOL points."""
    if a is None or b is None:
        return Part(what, INCONCLUSIVE, "not profiled")
    pct = pct_less(a, b)
    verdict = REPRODUCED if matches(pct, claimed) else NOT_REPRODUCED
    return Part(what, verdict, f"{a:.2f} vs {b:.2f} {unit}: {pct:.1f} % {word} (claimed {claimed:g} %, tolerance "
                               f"{PCT_TOL:.0f} pt)")


def own_pct_part(what: str, a: float | None, b: float | None, claimed: float, *, unit: str,
                 word: str = "fewer") -> Part:
    """The same arithmetic on the paper's own printed numbers."""
    if a is None or b is None:
        return Part(what, NOT_SUPPORTED, "rows missing from the table")
    pct = pct_less(a, b)
    return Part(what, SUPPORTED if matches(pct, claimed) else NOT_SUPPORTED,
                f"{a:g} vs {b:g} {unit}: {pct:.1f} % {word} (claimed {claimed:g} %)")


def hardware_of(m: Measurements) -> list[str]:
    return [hw for hw in HARDWARE_ORDER if m.times.get(hw)] + sorted(set(m.times) - set(HARDWARE_ORDER))

"""The one rule every claim is judged by (``judge``): Welch intervals, the claimed size, scope and budget.

Error claims "A has lower error than B by D pp" (D = 0 without a magnitude; a relative "by x %" is converted to
points at the published B value): Welch's 95 % interval of mean(B) - mean(A) over the final-epoch errors per seed
(Welch 1947; Welch-Satterthwaite degrees of freedom). Not reproduced if it lies below 0 or its upper end is below
D/2 (checked first); reproduced if its lower end is above 0 and its upper end reaches D; partially reproduced if
only its lower end is above 0; inconclusive otherwise, with the seeds per model that would resolve D with 80 %
power at the pooled spread s: N = ceil(2 (1.96 + 0.84)^2 s^2 / max(D, 0.1)^2), at least 2. Fewer than two seeds
on a side: "inconclusive (one seed)", with the direction and the test-set binomial spread as a floor. Two or more
seeds that all gave the same value: "inconclusive (no spread)": no spread is measured, so the interval would be
degenerate (zero width on both sides), and a degenerate interval decides nothing.

Speed claims "A is P % faster than B": the same outcomes on the ratio time(B) / time(A), claimed 1 / (1 - P/100),
its 95 % interval from the repeated measurement rounds (Welch on the log times, see
``suite.timing.ondevice.timing_protocol``); inconclusive when either model's IQR / median exceeds 10 %.
Exact quantities (parameters, FLOPs): the claimed percentage within 1 point.

A measurement outside the claim's scope is never evidence ("not testable here (needs ...)", the comparison as
context; "does not carry over" only where the ratio is reversed and its interval excludes the claim's direction);
a reduced training budget never decides an error claim; predicted values, times measured on a busy machine and
times taken under a shortened (smoke, quick) timing protocol never decide, and a busy time is never quoted.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from scipy import stats

from suite.tables.claim import ERROR, EXACT, SPEED, Magnitude, Scope

REPRODUCED, PARTIAL, NOT_REPRODUCED = "reproduced", "partially reproduced", "not reproduced"
INCONCLUSIVE, ONE_SEED = "inconclusive", "inconclusive (one seed)"
NO_SPREAD = "inconclusive (no spread)"
PREDICTED, BUSY = "inconclusive (predicted)", "inconclusive (busy machine)"
NOT_TESTABLE = "not testable here"
BUSY_TEXT = "busy machine, not evidence"  # a busy timing is never quoted as a finding
PCT_TOL = 1.0  # percentage points: the texts round their percentages to whole numbers
DISPERSION_LIMIT = 0.10  # IQR / median above which a timing decides nothing
Z_ALPHA, Z_POWER = 1.96, 0.84  # two-sided 5 %, 80 % power
MIN_EFFECT_PP = 0.1
REDUCED_TEXT = "errors of this run cannot test an accuracy claim: a reduced budget never decides an error claim"
# What each outcome of an interval means ("A is better than B by D"), for those who read a verdict.
MEANINGS = {
    REPRODUCED: "the 95 % interval of the difference lies above 0 and reaches the claimed size D",
    PARTIAL: "A is better than B (the 95 % interval lies above 0), but by less than claimed: the interval stops "
             "short of the claimed size D",
    NOT_REPRODUCED: "the 95 % interval lies below 0, or its upper end is below half the claimed size D",
    INCONCLUSIVE: "the 95 % interval includes 0: more seeds (or measurement rounds) are needed to decide",
    ONE_SEED: "a side has one seed: no interval, only the direction",
    NO_SPREAD: "every seed of a side gave the same value: no spread measured, the interval is degenerate",
}


def not_testable(devices: str) -> str:
    return f"{NOT_TESTABLE} (needs {devices})"


def is_not_testable(verdict: str) -> bool:
    return verdict.startswith(NOT_TESTABLE)


@dataclass(frozen=True)
class Sample:
    """One model's measurements: per seed (errors) or per measurement round (times), or one exact value."""

    label: str
    values: tuple[float, ...]
    predicted: bool = False
    busy: bool = False
    dispersion: float | None = None  # times: the largest IQR / median of its rounds
    best: tuple[float, ...] = ()  # errors: best-epoch error per seed, context only
    n_test: int | None = None  # errors: test images, for the one-seed binomial floor
    published: float | None = None  # the paper's single figure for this model (best-epoch error, ...)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def std(self) -> float | None:
        return statistics.stdev(self.values) if self.n > 1 else None


@dataclass(frozen=True)
class Question:
    """Is ``a`` better than ``b`` (lower error, faster, fewer) by ``magnitude``, measured on ``device``?"""

    quantity: str  # ERROR, SPEED or EXACT
    a: Sample
    b: Sample
    magnitude: Magnitude = Magnitude()
    scope: Scope = Scope()
    device: str = ""  # hardware key the times were measured on
    device_name: str = ""  # how the context names it ("this CPU")
    reduced: str = ""  # why the budget is not the paper's ("" = the paper's budget)
    unit: str = ""
    protocol: str = ""  # times: why the timing protocol is not the paper's ("" = the paper's)


@dataclass
class Judgement:
    verdict: str
    detail: str
    ci: tuple[float, float] | None = None  # pp (errors) or ratio time(B)/time(A) (speed)
    p_value: float | None = None
    seeds_needed: int | None = None
    claimed: float | None = None  # D in pp, or the claimed ratio
    context: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "detail": self.detail, "ci": list(self.ci) if self.ci else None,
                "p_value": self.p_value, "seeds_needed": self.seeds_needed, "claimed": self.claimed,
                "context": self.context}


# --- statistics ---------------------------------------------------------------------------------------------

def welch(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float, float, float]:
    """mean(b) - mean(a), its 95 % interval (low, high) and the two-sided p-value; Welch-Satterthwaite df.

    The variances are exact (``statistics``), so equal values give exactly no spread; without any spread the
    interval is the difference itself (``no_spread`` keeps that from deciding anything).
    """
    diff = statistics.fmean(b) - statistics.fmean(a)
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, diff, diff, 0.0 if diff else 1.0
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = stats.t.ppf(0.975, df) * se
    return diff, diff - half, diff + half, float(2 * stats.t.sf(abs(diff) / se, df))


def no_spread(*samples: Sample) -> list[str]:
    """Labels of the samples whose two or more values are all equal: their spread is not measured."""
    return [s.label for s in samples if s.n > 1 and max(s.values) == min(s.values)]


def _no_spread_text(flat: list[str]) -> str:
    return (f"every value of {' and '.join(flat)} is the same: no spread measured, so the 95 % interval is "
            "degenerate and decides nothing (do the seeds change the training?)")


def pooled_std(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    dfa, dfb = len(a) - 1, len(b) - 1
    if dfa + dfb <= 0:
        return 0.0
    ss = (statistics.variance(a) * dfa if dfa > 0 else 0.0) + (statistics.variance(b) * dfb if dfb > 0 else 0.0)
    return math.sqrt(ss / (dfa + dfb))


def seeds_needed(s: float, d: float, *, floor: float = MIN_EFFECT_PP) -> int:
    """Seeds per model resolving a difference ``d`` with 80 % power at spread ``s`` (two-sided 5 %)."""
    return max(2, math.ceil(2 * (Z_ALPHA + Z_POWER) ** 2 * s ** 2 / max(d, floor) ** 2))


def prediction_interval(values: tuple[float, ...]) -> tuple[float, float] | None:
    """95 % prediction interval of one more seed: mean +- t s sqrt(1 + 1/n)."""
    n = len(values)
    if n < 2:
        return None
    m, s = statistics.fmean(values), statistics.stdev(values)
    half = stats.t.ppf(0.975, n - 1) * s * math.sqrt(1 + 1 / n)
    return m - half, m + half


def outcome(low: float, high: float, zero: float, claimed: float) -> str:
    """The four outcomes of an interval against "no difference" (``zero``) and the claimed size."""
    if high < zero or high < zero + (claimed - zero) / 2:
        return NOT_REPRODUCED
    if low > zero and high >= claimed:
        return REPRODUCED
    if low > zero:
        return PARTIAL
    return INCONCLUSIVE


def same(low: float, high: float, margin: float) -> str:
    """"The same error": the interval inside +-margin reproduces it, entirely outside contradicts it."""
    if -margin <= low and high <= margin:
        return REPRODUCED
    if low > margin or high < -margin:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def binomial_pp(error_pct: float, n_test: int | None) -> float | None:
    if not n_test:
        return None
    p = min(max(error_pct / 100.0, 0.0), 1.0)
    return 100.0 * math.sqrt(p * (1 - p) / n_test)


def fmt_sample(s: Sample, digits: int = 2) -> str:
    std = f" ± {s.std:.{digits}f}" if s.std is not None else ""
    return f"{s.label} n={s.n} {s.mean:.{digits}f}{std}"


# --- the rule -------------------------------------------------------------------------------------------------

def judge(q: Question) -> Judgement:
    """The verdict of one comparison under the rule (module docstring)."""
    if q.quantity == EXACT:
        return _exact(q)
    if q.quantity == SPEED:
        if q.scope.devices and q.device not in q.scope.devices:
            return _out_of_scope(q)
        return _speed(q)
    if q.quantity == ERROR:
        return _error(q)
    raise ValueError(f"unknown quantity {q.quantity!r}")


def claimed_pp(q: Question) -> tuple[float, str]:
    """D in pp, and how a relative claim was converted."""
    m = q.magnitude
    if m.unit == "relative":
        if q.b.published is None:
            return 0.0, f"claimed {m.value:g} % relative: no published {q.b.label} value, judged on direction"
        d = m.value / 100.0 * q.b.published
        return d, f"claimed {m.value:g} % relative = {d:.2f} pp at the published {q.b.label} {q.b.published:g} %"
    if m.unit == "pp":
        return m.value, f"claimed {m.value:g} pp"
    if m.unit == "same":
        return m.value, f"claimed: the same error within ±{m.value:g} pp"
    return 0.0, "direction only"


def _error(q: Question) -> Judgement:
    d, conversion = claimed_pp(q)
    context = [conversion, *_best_context(q.a), *_best_context(q.b)]
    a, b = q.a, q.b
    if q.reduced:
        return Judgement(INCONCLUSIVE, f"{fmt_sample(a)} vs {fmt_sample(b)} %: {REDUCED_TEXT} ({q.reduced})",
                         claimed=d, context=context)
    if a.predicted or b.predicted:
        return Judgement(PREDICTED, "predicted values never decide", claimed=d, context=context)
    if a.n < 2 or b.n < 2:
        floor = [f for f in (binomial_pp(a.mean, a.n_test), binomial_pp(b.mean, b.n_test)) if f is not None]
        direction = "lower" if a.mean < b.mean else "not lower"
        spread = f"; test-set binomial spread at least ±{max(floor):.2f} pp" if floor else ""
        needed = seeds_needed(max(floor), d) if floor else None
        return Judgement(ONE_SEED, f"{fmt_sample(a)} vs {fmt_sample(b)} %: {a.label} {direction} "
                                   f"({b.mean - a.mean:+.2f} pp){spread}" + _needed_text(needed, d),
                         claimed=d, seeds_needed=needed, context=context)
    flat = no_spread(a, b)
    if flat:
        return Judgement(NO_SPREAD, f"final-epoch {fmt_sample(a)} vs {fmt_sample(b)} %: mean(B) - mean(A) = "
                                    f"{b.mean - a.mean:+.2f} pp; {_no_spread_text(flat)}; {conversion}",
                         claimed=d, context=context)
    diff, low, high, p = welch(a.values, b.values)
    verdict = same(low, high, d) if q.magnitude.unit == "same" else outcome(low, high, 0.0, d)
    needed = seeds_needed(pooled_std(a.values, b.values), d) if verdict == INCONCLUSIVE else None
    detail = (f"final-epoch {fmt_sample(a)} vs {fmt_sample(b)} %: mean(B) - mean(A) = {diff:+.2f} pp, 95 % CI "
              f"[{low:+.2f}, {high:+.2f}] (Welch, p = {p:.3g}); {conversion}" + _needed_text(needed, d))
    return Judgement(verdict, detail, (low, high), p, needed, d, context)


def _needed_text(needed: int | None, d: float) -> str:
    if needed is None:
        return ""
    return (f"; about {needed} seeds per model would resolve a {max(d, MIN_EFFECT_PP):g} pp difference with 80 % "
            "power at the observed spread")


def _best_context(s: Sample) -> list[str]:
    """The best-epoch figure beside the published one (never deciding), and our seeds' prediction interval."""
    if not s.best:
        return []
    text = f"{s.label}: best-epoch {statistics.fmean(s.best):.2f} %"
    if len(s.best) == len(s.values):
        text += " (final - best per seed: " + ", ".join(f"{f - b:+.2f}" for f, b in zip(s.values, s.best,
                                                                                          strict=True)) + " pp)"
    if s.published is not None:
        text += f"; published {s.published:g} %: " + published_inside(s.best, s.published)
    return [text]


def published_inside(values: tuple[float, ...], published: float) -> str:
    pi = prediction_interval(values)
    if pi is None:
        return "one seed, no prediction interval"
    where = "inside" if pi[0] <= published <= pi[1] else "outside"
    return f"published value {where} our seed spread (95 % prediction interval [{pi[0]:.2f}, {pi[1]:.2f}])"


def _ratio_text(q: Question) -> str:
    r = q.b.mean / q.a.mean if q.a.mean else float("inf")
    where = q.device_name or f"this {q.device}"
    if r >= 1:
        return f"on {where} {q.a.label} is {r:.2g}x faster than {q.b.label}"
    return f"on {where} {q.a.label} is {1 / r:.2g}x slower than {q.b.label}"


def _out_of_scope(q: Question) -> Judgement:
    """Not evidence either way; the comparison is context only where it was measured cleanly (no prediction, no
    busy machine, the full protocol), and "does not carry over" only where its interval excludes the claim."""
    where = q.device_name or f"this {q.device}"
    verdict = not_testable(q.scope.needs())
    if q.a.busy or q.b.busy:
        text = f"on {where}: {BUSY_TEXT}"
        return Judgement(verdict, text, context=[text])
    if q.a.predicted or q.b.predicted or q.protocol or min(q.a.values + q.b.values) <= 0:
        return Judgement(verdict, f"{where} is outside the claim's scope")
    ratio = q.b.mean / q.a.mean
    ci = None
    if q.a.n >= 2 and q.b.n >= 2:
        _, low, high, _ = welch(tuple(math.log(v) for v in q.a.values), tuple(math.log(v) for v in q.b.values))
        ci = (math.exp(low), math.exp(high))
    if ratio < 1 and ci is not None and ci[1] < 1:
        text = (f"{_ratio_text(q)} (95 % CI of the ratio [{ci[0]:.3g}, {ci[1]:.3g}]): the claim does not carry "
                f"over to {where}")
    else:
        direction = ("same direction as claimed" if ratio >= 1 else
                     "the opposite direction, " + ("not excluded by its interval" if ci else
                                                   "one round gives no interval"))
        text = f"{_ratio_text(q)} ({direction}; {where} is outside the claim's scope)"
    return Judgement(verdict, text, ci, claimed=None, context=[text])


def _speed(q: Question) -> Judgement:
    a, b = q.a, q.b
    p = q.magnitude.value if q.magnitude.unit == "percent" else 0.0
    claimed = 1.0 / (1.0 - p / 100.0)
    claim = f"claimed ratio {claimed:.3g} ({p:g} % faster)" if p else "claimed: faster"
    base = (f"{fmt_sample(a, 3)} vs {fmt_sample(b, 3)} {q.unit or 'ms'}: ratio time(B)/time(A) "
            f"{b.mean / a.mean:.3g}; {claim}")
    if a.predicted or b.predicted:
        return Judgement(PREDICTED, f"{base}; predicted, not measured: a prediction never decides", claimed=claimed)
    where = q.device_name or (f"this {q.device}" if q.device else "the device")
    if a.busy or b.busy:
        return Judgement(BUSY, f"{a.label} vs {b.label} on {where}: {BUSY_TEXT} (other processes used the CPU "
                               f"while it was timed); {claim}", claimed=claimed)
    if q.protocol:
        return Judgement(INCONCLUSIVE, f"{a.label} vs {b.label} on {where}: timed under {q.protocol}, not evidence; "
                                       f"{claim}", claimed=claimed)
    noisy = [s.label for s in (a, b) if s.dispersion is not None and s.dispersion > DISPERSION_LIMIT]
    if noisy:
        return Judgement(INCONCLUSIVE, f"{base}; IQR/median above {DISPERSION_LIMIT:.0%} for {', '.join(noisy)}",
                         claimed=claimed)
    if a.n < 2 or b.n < 2 or min(a.values + b.values) <= 0:
        return Judgement(INCONCLUSIVE, f"{base}; one measurement round per model gives no interval (repeat the "
                                       "timing: more seeds)", claimed=claimed)
    flat = no_spread(a, b)
    if flat:
        return Judgement(NO_SPREAD, f"{base}; {_no_spread_text(flat)}", claimed=claimed)
    la, lb = tuple(math.log(v) for v in a.values), tuple(math.log(v) for v in b.values)
    _, low, high, pv = welch(la, lb)
    lo, hi = math.exp(low), math.exp(high)
    verdict = outcome(lo, hi, 1.0, claimed)
    needed = seeds_needed(pooled_std(la, lb), math.log(claimed), floor=0.01) if verdict == INCONCLUSIVE else None
    detail = f"{base}; 95 % CI [{lo:.3g}, {hi:.3g}] (Welch on log times, p = {pv:.3g})"
    if needed:
        detail += f"; about {needed} measurement rounds per model would resolve it"
    return Judgement(verdict, detail, (lo, hi), pv, needed, claimed)


def _exact(q: Question) -> Judgement:
    a, b = q.a.mean, q.b.mean
    if not b:
        return Judgement(INCONCLUSIVE, "nothing to compare with")
    pct = 100.0 * (1 - a / b)
    if q.magnitude.unit == "percent":
        ok = abs(pct - q.magnitude.value) <= PCT_TOL
        return Judgement(REPRODUCED if ok else NOT_REPRODUCED,
                         f"{a:.2f} vs {b:.2f} {q.unit}: {pct:.1f} % fewer (claimed {q.magnitude.value:g} %, "
                         f"tolerance {PCT_TOL:.0f} pt)", claimed=q.magnitude.value)
    return Judgement(REPRODUCED if a < b else NOT_REPRODUCED, f"{a:.2f} vs {b:.2f} {q.unit} ({pct:.1f} % fewer)")

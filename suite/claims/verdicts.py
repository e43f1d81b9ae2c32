"""How a claim's parts are built from measurements and combined; every measured part is decided by
``suite.claims.rule.judge`` (the one rule), the paper's own table by its printed arithmetic.

Verdicts on measurements: ``reproduced`` / ``partially reproduced`` / ``not reproduced`` / ``inconclusive``
(with its variants: one seed, predicted, busy machine) / ``not testable here (needs ...)``. A claim of several
parts is not reproduced as soon as one part is contradicted, reproduced only if every testable part is; parts
outside the claim's scope are context, never evidence.

Verdicts on the paper's own table: ``supported`` / ``not supported`` (its numbers do not give what the text
says) / ``questionable`` (the arithmetic holds but rests on a misprint or on figures that are not comparable).
Claimed percentages are whole numbers, so a computed percentage within ``PCT_TOL`` points of one matches it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from suite.analysis.stats import Stat
from suite.claims.rule import (
    BUSY,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    ONE_SEED,
    PARTIAL,
    PCT_TOL,
    PREDICTED,
    REDUCED_TEXT,
    REPRODUCED,
    Judgement,
    Question,
    Sample,
    is_not_testable,
    judge,
    not_testable,
)
from suite.tables.claim import DIRECTION, ERROR, EXACT, SPEED, Claim, Magnitude, Scope
from suite.timing.profiles import HARDWARE_ORDER, PROFILES, label

SUPPORTED, NOT_SUPPORTED, QUESTIONABLE = "supported", "not supported", "questionable"
INFO = "info"


def device_words(hardware: str, *times: Stat) -> str:
    """How a verdict names a profile's machine ("this Raspberry Pi 4"); "" for a name no profile has. A
    predicted time was never taken on "this Raspberry Pi 4": it is "the RPi 4 prediction"."""
    if any(t.predicted for t in times):
        return f"the {label(hardware)} prediction"
    spec = PROFILES.get(hardware)
    return f"this {spec.board}" if spec else ""


@dataclass
class Part:
    what: str
    verdict: str
    detail: str
    judgement: Judgement | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"what": self.what, "verdict": self.verdict, "detail": self.detail}
        if self.judgement is not None:
            out.update({k: v for k, v in self.judgement.to_dict().items() if k not in ("verdict", "detail")})
        return out


@dataclass
class Check:
    verdict: str
    parts: list[Part] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "parts": [p.to_dict() for p in self.parts], "note": self.note}


@dataclass
class ClaimResult:
    claim: Claim
    measured: Check
    own_table: Check
    table: str = ""  # the table whose report shows it

    def to_dict(self) -> dict[str, Any]:
        c = self.claim
        scope = {"devices": list(c.scope.devices), "dataset": c.scope.dataset, "metrics": list(c.scope.metrics),
                 "budget": c.scope.budget}
        return {"id": c.id, "text": c.text, "where": c.where, "table": self.table, "uses": list(c.uses),
                "scope": scope, "measured": self.measured.to_dict(), "own_table": self.own_table.to_dict()}


@dataclass
class Measurements:
    """What claims need from one table's run, by the paper's row labels (tests build it directly)."""

    errors: dict[str, Stat] = field(default_factory=dict)  # best-epoch test error, % (context, never decides)
    errors_final: dict[str, Stat] = field(default_factory=dict)  # final-epoch test error, %: what decides
    times: dict[str, dict[str, Stat]] = field(default_factory=dict)  # hardware -> row -> inference ms
    params_trained: dict[str, float] = field(default_factory=dict)  # M, the trained (equal) heads
    params_published: dict[str, float] = field(default_factory=dict)  # M, 224 with the published heads
    values: dict[str, dict[str, Stat]] = field(default_factory=dict)  # other metric keys -> row -> value
    rows: tuple[str, ...] = ()  # every row of the table, measured or not
    errors_meaningful: bool = True  # False: a smoke/quick/reduced run, whose errors test no accuracy claim
    error_context: str = ""
    devices: dict[str, str] = field(default_factory=dict)  # hardware -> the device it was measured on
    train_hardware: str = "cpu"  # hardware key of the training device (training-time claims)
    published: dict[str, dict[str, Any]] = field(default_factory=dict)  # row -> the published row (best-epoch figures)
    test_images: int | None = None
    timing_protocol: str = ""  # why the times were not taken under the paper's protocol ("" = they were)

    def value(self, key: str, row: str) -> Stat | None:
        return self.values.get(key, {}).get(row)


@dataclass
class Published:
    """A published table by row label, with each row's published classifier head."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    heads: dict[str, int] = field(default_factory=dict)

    def get(self, row: str, column: str) -> Any:
        return self.rows.get(row, {}).get(column)


# A paper module's judges: claim id -> (measured(claim, measurements by table), own(claim, published by table)).
Measured = Callable[[Claim, dict[str, Measurements]], Check]
Own = Callable[[Claim, dict[str, Published]], Check]


# --- combining ----------------------------------------------------------------------------------------------

def _testable(verdicts: list[str]) -> tuple[list[str], list[str]]:
    verdicts = [v for v in verdicts if v != INFO]
    return [v for v in verdicts if not is_not_testable(v)], [v for v in verdicts if is_not_testable(v)]


def _untestable(verdicts: list[str]) -> str:
    """"not testable here (needs ...)" with every device the parts need."""
    needs = [d for v in verdicts for d in v.split("(needs ", 1)[-1].rstrip(")").split(", ")]
    return not_testable(", ".join(dict.fromkeys(needs)))


def all_parts(verdicts: list[str]) -> str:
    """A claim of several parts: contradicted by any testable part, reproduced only by all of them."""
    testable, untestable = _testable(verdicts)
    if not testable:
        return _untestable(untestable) if untestable else INCONCLUSIVE
    if NOT_REPRODUCED in testable:
        return NOT_REPRODUCED
    if untestable:  # a part outside what this run can test: the claim as a whole is not decided here
        return _untestable(untestable)
    if all(v == REPRODUCED for v in testable):
        return REPRODUCED
    if all(v in (REPRODUCED, PARTIAL) for v in testable):
        return PARTIAL
    if all(v in (REPRODUCED, PARTIAL, PREDICTED) for v in testable):
        return PREDICTED
    return INCONCLUSIVE


def any_hardware(verdicts: list[str]) -> str:
    """The same claim on several devices in its scope: a clear answer stands unless another says the opposite."""
    testable, untestable = _testable(verdicts)
    if not testable:
        return _untestable(untestable) if untestable else INCONCLUSIVE
    clear = {v for v in testable if v in (REPRODUCED, PARTIAL, NOT_REPRODUCED)}
    if len(clear) == 1:
        return clear.pop()
    if clear == {REPRODUCED, PARTIAL}:
        return PARTIAL
    if not clear and PREDICTED in testable:
        return PREDICTED
    return INCONCLUSIVE


def own_table(verdicts: list[str]) -> str:
    verdicts = [v for v in verdicts if v != INFO]
    if not verdicts or NOT_SUPPORTED in verdicts:
        return NOT_SUPPORTED
    return QUESTIONABLE if QUESTIONABLE in verdicts else SUPPORTED


def pct_less(a: float | None, b: float | None) -> float | None:
    """How much smaller a is than b, in % of b (a "x % faster / fewer" figure)."""
    return None if a is None or b is None or not b else 100.0 * (1 - a / b)


def matches(pct: float | None, claimed: float) -> bool:
    return pct is not None and abs(pct - claimed) <= PCT_TOL


def hardware_of(m: Measurements) -> list[str]:
    return [hw for hw in HARDWARE_ORDER if m.times.get(hw)] + sorted(set(m.times) - set(HARDWARE_ORDER))


def _part(what: str, j: Judgement) -> Part:
    return Part(what, j.verdict, j.detail + "".join(f"; {c}" for c in j.context if c and c not in j.detail), j)


def sample(label: str, s: Stat, *, best: Stat | None = None, published: float | None = None,
           n_test: int | None = None) -> Sample:
    return Sample(label, s.values or (s.mean,) * s.n, s.predicted, s.busy, s.dispersion,
                  best.values if best is not None else (), n_test, published)


# --- measured parts: each one question to the rule ---------------------------------------------------------

def speed(what: str, ta: Stat | None, tb: Stat | None, a: str, b: str, *, scope: Scope, device: str,
          magnitude: Magnitude = DIRECTION, missing: str = "", unit: str = "ms", protocol: str = "") -> Part:
    """Part "a faster than b" (time(B)/time(A) against the claimed ratio), judged within the claim's scope."""
    if ta is None or tb is None:
        return Part(what, INCONCLUSIVE, missing or f"not measured on {device}")
    q = Question(SPEED, sample(a, ta), sample(b, tb), magnitude, scope, device, device_words(device, ta, tb),
                 unit=unit, protocol=protocol)
    return _part(what, judge(q))


def faster(m: Measurements, hw: str, a: str, b: str, claim: Claim) -> Part:
    ta, tb = m.times.get(hw, {}).get(a), m.times.get(hw, {}).get(b)
    missing = ", ".join(r for r, t in ((a, ta), (b, tb)) if t is None)
    return speed(f"{a} faster than {b} on {hw}", ta, tb, a, b, scope=claim.scope, device=hw,
                 magnitude=claim.magnitude(a, b, SPEED), missing=f"not measured on {hw}: {missing}",
                 protocol=m.timing_protocol)


def in_scope(claim: Claim, hw: str) -> bool:
    return not claim.scope.devices or hw in claim.scope.devices


def faster_part(m: Measurements, a: str, b: str, claim: Claim, what: str = "") -> Part:
    """One part "a faster than b": judged on every device of the claim's scope that has times (a clear answer
    stands unless another device says the opposite); times on other devices are context, never evidence."""
    what = what or f"{a} faster than {b}"
    hardware = hardware_of(m)
    judged = [(hw, faster(m, hw, a, b, claim)) for hw in hardware if in_scope(claim, hw)]
    context = [c for hw in hardware if not in_scope(claim, hw)
               for c in (faster(m, hw, a, b, claim).judgement or Judgement("", "")).context]
    if not hardware:
        return Part(what, INCONCLUSIVE, f"no inference time measured (the claim needs {claim.scope.needs()})")
    if not judged:
        detail = "; ".join(context) or f"no time measured on {claim.scope.needs()}"
        return Part(what, not_testable(claim.scope.needs()), detail)
    detail = "; ".join(f"on {hw}: {p.detail}" for hw, p in judged)
    verdict = judged[0][1].verdict if len(judged) == 1 else any_hardware([p.verdict for _, p in judged])
    return Part(what, verdict, "; ".join([detail, *context]), judged[0][1].judgement if len(judged) == 1 else None)


def faster_on(m: Measurements, key: str, a: str, b: str, *, scope: Scope, magnitude: Magnitude,
              label: str) -> Part:
    """A training-time comparison (step or epoch time) on the device the run trained on."""
    ta, tb = m.value(key, a), m.value(key, b)
    device = m.devices.get("train", "the training device")
    missing = ", ".join(r for r, t in ((a, ta), (b, tb)) if t is None)
    return speed(f"{a} {label} shorter than {b} (on {device})", ta, tb, a, b, scope=scope,
                 device=m.train_hardware, magnitude=magnitude, missing=f"not measured: {missing}",
                 unit=label.split()[-1])


def reduced(m: Measurements) -> str:
    return "" if m.errors_meaningful else (m.error_context or "a reduced budget")


def error_question(m: Measurements, a: str, b: str, magnitude: Magnitude, scope: Scope,
                   final: dict[str, Stat] | None = None) -> Question | None:
    final = m.errors_final if final is None else final
    fa, fb = final.get(a), final.get(b)
    if fa is None or fb is None:
        return None

    def s(row: str, st: Stat) -> Sample:
        return sample(row, st, best=m.errors.get(row), published=m.published.get(row, {}).get("error_pct"),
                      n_test=m.test_images)

    return Question(ERROR, s(a, fa), s(b, fb), magnitude, scope, reduced=reduced(m), unit="%")


def lower_error(m: Measurements, a: str, b: str, claim: Claim, magnitude: Magnitude | None = None,
                what: str = "") -> Part:
    """Part "a has lower error than b (by the claimed size)": final-epoch errors per seed, Welch."""
    what = what or f"{a} lower error than {b}"
    q = error_question(m, a, b, magnitude or claim.magnitude(a, b, ERROR), claim.scope)
    if q is None:
        if not m.errors_meaningful:
            return Part(what, INCONCLUSIVE, f"{REDUCED_TEXT} ({reduced(m)})")
        missing = ", ".join(r for r in (a, b) if r not in m.errors_final)
        return Part(what, INCONCLUSIVE, f"final-epoch error not measured: {missing}")
    return _part(what, judge(q))


def exact(what: str, a: float | None, b: float | None, magnitude: Magnitude, *, unit: str) -> Part:
    """An exact quantity (parameters, FLOPs): the claimed percentage within PCT_TOL points, or the direction."""
    if a is None or b is None:
        return Part(what, INCONCLUSIVE, "not profiled")
    q = Question(EXACT, Sample("a", (a,)), Sample("b", (b,)), magnitude, unit=unit)
    return _part(what, judge(q))


def fewer_params(m: Measurements, a: str, b: str, heads: str) -> Part:
    source = m.params_trained if heads == "equal" else m.params_published
    return exact(f"{a} fewer parameters than {b} ({heads} heads)", source.get(a), source.get(b), Magnitude(),
                 unit="M")


def own_pct_part(what: str, a: float | None, b: float | None, claimed: float, *, unit: str,
                 word: str = "fewer") -> Part:
    """The same arithmetic on the paper's own printed numbers."""
    if a is None or b is None:
        return Part(what, NOT_SUPPORTED, "rows missing from the table")
    pct = pct_less(a, b)
    return Part(what, SUPPORTED if matches(pct, claimed) else NOT_SUPPORTED,
                f"{a:g} vs {b:g} {unit}: {pct:.1f} % {word} (claimed {claimed:g} %)")


__all__ = ["BUSY", "INCONCLUSIVE", "INFO", "NOT_REPRODUCED", "NOT_SUPPORTED", "ONE_SEED", "PARTIAL", "PCT_TOL",
           "PREDICTED", "QUESTIONABLE", "REPRODUCED", "SUPPORTED", "Check", "ClaimResult", "Measured", "Measurements",
           "Own", "Part", "Published", "all_parts", "any_hardware", "error_question", "exact", "faster", "faster_on",
           "faster_part", "fewer_params", "hardware_of", "in_scope", "lower_error", "matches", "own_pct_part",
           "own_table", "pct_less", "reduced", "sample", "speed"]

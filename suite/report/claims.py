"""The ThreshNet paper's claims T1-T6, checked against our measurements and against the paper's own table.

Verdicts on measurements: ``reproduced`` / ``not reproduced`` / ``inconclusive`` (the difference is inside the
spread - seeds, or the stated fallback for one seed or a prediction - or something was not measured). A claim
of several parts is reproduced only if every part is, and not reproduced as soon as one part is contradicted.

Verdicts on the paper's own table: ``supported`` / ``not supported`` (its numbers do not give what the text
says) / ``questionable`` (the arithmetic holds but rests on a misprint or on figures that are not comparable).
Claimed percentages are whole numbers, so a computed percentage within ``PCT_TOL`` points of one matches it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from suite.paper_tables import TABLES
from suite.report.stats import Stat, compare, fmt_stat
from zoo.published import load_table, published_row

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
SUPPORTED, NOT_SUPPORTED, QUESTIONABLE = "supported", "not supported", "questionable"
PCT_TOL = 1.0  # percentage points: the text rounds its percentages to whole numbers
HARDWARE_ORDER = ("gpu", "cpu", "rpi4")

# Facts from the reference notes (copied, never read at run time).
HARDNET85_PARAMS_HEAD10_M = 35.40  # HarDNet85 with a 10-class head: the equal-head comparison for T2
THRESHNET79_CODE_PARAMS_M = 14.37  # ThreshNet79 in the authors' code and in Table II (79-c)
PI_TABLE_SPREAD_PCT = 29.0  # the same model's Pi time differs by up to 29 % between Tables III and IV


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    where: str  # where in the paper it is made


CLAIMS: tuple[Claim, ...] = (
    Claim("T1", "ThreshNet79 inference is 5 %, 9 %, 10 %, 18 %, 20 % faster than HarDNet68, GhostNet, "
                "MobileNetV2, ShuffleNet, EfficientNet(-B0)", "abstract"),
    Claim("T2", "ThreshNet95 has 55 % fewer parameters than HarDNet85 (16.19 M, head 10, vs 36.67 M, head "
                "1000; "
                "at equal heads 16.19 vs 35.40 = 54 %)", "abstract, section IV"),
    Claim("T3", "ThreshNet79 reduces the error of HarDNet68 by 7 % (13.66 vs 14.66 on CIFAR-10) and its RPi "
                "time "
                "from 62.4 to 61.7 ms", "section IV, Table III"),
    Claim("T4", "ThreshNet95 has the lowest CIFAR-10 error of the table (13.31 %) and is faster than "
                "HarDNet85 "
                "(0.46 vs 0.50 ms)", "section IV, Table III"),
    Claim("T5", "ThreshNet28 is faster on the Pi than ShuffleNet (45.3 vs 48.5 ms) and has the shortest GPU "
                "time",
          "section IV, Table III"),
    Claim("T6", "ThreshNet79 has fewer parameters than HarDNet68 (14.31 vs 17.57 M)", "section IV"),
)
T1_TARGETS = (("HarDNet68", 5.0), ("GhostNet", 9.0), ("MobileNetV2", 10.0), ("ShuffleNet", 18.0),
              ("EfficientNetB0", 20.0))


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

    def to_dict(self) -> dict:
        return {"id": self.claim.id, "text": self.claim.text, "where": self.claim.where,
                "measured": self.measured.to_dict(), "own_table": self.own_table.to_dict()}


@dataclass
class Measurements:
    """What the claims need from a run, by the paper's row labels (tests build it directly)."""

    errors: dict[str, Stat] = field(default_factory=dict)  # best-epoch test error, %
    errors_final: dict[str, Stat] = field(default_factory=dict)
    times: dict[str, dict[str, Stat]] = field(default_factory=dict)  # hardware -> row -> per-image ms
    params_trained: dict[str, float] = field(default_factory=dict)  # M, the trained (equal) heads
    params_published: dict[str, float] = field(default_factory=dict)  # M, 224 with the published heads
    rows: tuple[str, ...] = ()  # every row of the table, measured or not
    errors_meaningful: bool = True  # False: a smoke/quick/reduced run, whose errors test no accuracy claim
    error_context: str = ""


# --- combining ----------------------------------------------------------------------------------------------

def all_parts(verdicts: list[str]) -> str:
    """A claim of several parts: contradicted by any, reproduced only by all."""
    if NOT_REPRODUCED in verdicts:
        return NOT_REPRODUCED
    if verdicts and all(v == REPRODUCED for v in verdicts):
        return REPRODUCED
    return INCONCLUSIVE


def any_hardware(verdicts: list[str]) -> str:
    """The same claim on several devices: a clear answer stands unless another device says the opposite."""
    clear = {v for v in verdicts if v != INCONCLUSIVE}
    return clear.pop() if len(clear) == 1 else INCONCLUSIVE


def own_table(verdicts: list[str]) -> str:
    if NOT_SUPPORTED in verdicts:
        return NOT_SUPPORTED
    return QUESTIONABLE if QUESTIONABLE in verdicts else SUPPORTED


def _direction(c: int | None, want: int) -> str:
    if c is None or c == 0:
        return INCONCLUSIVE
    return REPRODUCED if c == want else NOT_REPRODUCED


def _why(a: Stat, b: Stat) -> str:
    sources = sorted({s.sigma_source for s in (a, b) if s.sigma > 0})
    return f"spread from {', '.join(sources)}" if sources else "exact values"


# --- measured parts -----------------------------------------------------------------------------------------

def faster(m: Measurements, hw: str, a: str, b: str, claimed_pct: float | None = None) -> Part:
    ta, tb = m.times.get(hw, {}).get(a), m.times.get(hw, {}).get(b)
    what = f"{a} faster than {b} on {hw}"
    if ta is None or tb is None:
        missing = ", ".join(r for r, t in ((a, ta), (b, tb)) if t is None)
        return Part(what, INCONCLUSIVE, f"not measured on {hw}: {missing}")
    pct = 100.0 * (1 - ta.mean / tb.mean)
    claimed = f", claimed {claimed_pct:.0f} %" if claimed_pct is not None else ""
    verdict = _direction(compare(ta, tb), -1)
    speed = f"{pct:.1f} % faster" if pct >= 0 else f"{100.0 * (ta.mean / tb.mean - 1):.1f} % slower"
    detail = f"{fmt_stat(ta)} vs {fmt_stat(tb)} ms: {speed}{claimed} ({_why(ta, tb)})"
    if verdict == INCONCLUSIVE:
        detail += "; the difference is inside the spread"
    return Part(what, verdict, detail)


def lower_error(m: Measurements, a: str, b: str, claimed_pct: float | None = None) -> Part:
    what = f"{a} lower error than {b}"
    if not m.errors_meaningful:
        return Part(what, INCONCLUSIVE, "errors of this run cannot test an accuracy claim "
                                        f"({m.error_context})")
    ea, eb = m.errors.get(a), m.errors.get(b)
    if ea is None or eb is None:
        missing = ", ".join(r for r, e in ((a, ea), (b, eb)) if e is None)
        return Part(what, INCONCLUSIVE, f"not measured: {missing}")
    rel = 100.0 * (1 - ea.mean / eb.mean) if eb.mean else 0.0
    claimed = f", claimed {claimed_pct:.0f} %" if claimed_pct is not None else ""
    verdict = _direction(compare(ea, eb), -1)
    detail = (f"best-epoch error {fmt_stat(ea, 2)} vs {fmt_stat(eb, 2)} %: {rel:+.1f} % relative{claimed} "
              f"({_why(ea, eb)})")
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


def _hardware(m: Measurements) -> list[str]:
    return [hw for hw in HARDWARE_ORDER if m.times.get(hw)] + sorted(set(m.times) - set(HARDWARE_ORDER))


def _gpu_note(m: Measurements) -> str:
    if m.times.get("gpu"):
        return ""
    return "GPU not measured here (the paper used an RTX 3050): GPU parts stay inconclusive"


def _measured_t1(m: Measurements) -> Check:
    per_hw, parts = [], []
    for hw in _hardware(m):
        sub = [faster(m, hw, "ThreshNet79", other, pct) for other, pct in T1_TARGETS]
        parts += sub
        per_hw.append(all_parts([p.verdict for p in sub]))
    if not parts:
        return Check(INCONCLUSIVE, [], "no inference time measured")
    return Check(any_hardware(per_hw), parts,
                 "direction judged per device (all five faster = reproduced); percentages shown beside the "
                 "claim")


def _measured_t2(m: Measurements) -> Check:
    a, b = m.params_trained.get("ThreshNet95"), m.params_trained.get("HarDNet85")
    parts = []
    if a is None or b is None:
        return Check(INCONCLUSIVE, [Part("55 % fewer parameters", INCONCLUSIVE, "not profiled")])
    pct = 100 * (1 - a / b)
    verdict = REPRODUCED if abs(pct - 55.0) <= PCT_TOL else NOT_REPRODUCED
    parts.append(Part("55 % fewer parameters (equal heads)", verdict,
                      f"{a:.2f} vs {b:.2f} M: {pct:.1f} % fewer (claimed 55 %, tolerance {PCT_TOL:.0f} pt)"))
    pa, pb = m.params_published.get("ThreshNet95"), m.params_published.get("HarDNet85")
    if pa is not None and pb is not None:
        parts.append(Part("as published (mixed heads)", "info",
                          f"{pa:.2f} vs {pb:.2f} M: {100 * (1 - pa / pb):.1f} % fewer"))
    return Check(verdict, parts)


def _measured_t3(m: Measurements) -> Check:
    parts = [lower_error(m, "ThreshNet79", "HarDNet68", 7.0), faster(m, "rpi4", "ThreshNet79", "HarDNet68")]
    return Check(all_parts([p.verdict for p in parts]), parts)


def _measured_t4(m: Measurements) -> Check:
    parts = []
    if not m.errors_meaningful:
        parts.append(Part("lowest error of the table", INCONCLUSIVE,
                          f"errors of this run cannot test an accuracy claim ({m.error_context})"))
    elif "ThreshNet95" not in m.errors:
        parts.append(Part("lowest error of the table", INCONCLUSIVE, "ThreshNet95 not measured"))
    else:
        mine = m.errors["ThreshNet95"]
        others = {r: e for r, e in m.errors.items() if r != "ThreshNet95"}
        beaten = [r for r, e in others.items() if compare(mine, e) == 1]
        close = [r for r, e in others.items() if compare(mine, e) == 0]
        missing = [r for r in m.rows if r != "ThreshNet95" and r not in others]
        if beaten:
            verdict = NOT_REPRODUCED
            detail = f"lower error: {', '.join(f'{r} {fmt_stat(others[r], 2)}' for r in beaten)}"
        elif close or missing:
            verdict = INCONCLUSIVE
            detail = "; ".join(x for x in (f"inside the spread: {', '.join(close)}" if close else "",
                                          f"not measured: {', '.join(missing)}" if missing else "") if x)
        else:
            verdict, detail = REPRODUCED, f"lowest of {len(others) + 1} rows"
        parts.append(Part("lowest error of the table", verdict, f"ThreshNet95 {fmt_stat(mine, 2)} %; "
                                                                f"{detail}"))
    parts.append(faster(m, "gpu", "ThreshNet95", "HarDNet85"))
    for hw in _hardware(m):  # the claim is about the GPU; other devices are context, not evidence
        if hw != "gpu":
            info = faster(m, hw, "ThreshNet95", "HarDNet85")
            parts.append(Part(info.what + " (context)", "info", f"{info.verdict}: {info.detail}"))
    return Check(all_parts([p.verdict for p in parts if p.verdict != "info"]), parts, _gpu_note(m))


def _measured_t5(m: Measurements) -> Check:
    parts = [faster(m, "rpi4", "ThreshNet28", "ShuffleNet")]
    gpu = m.times.get("gpu", {})
    if "ThreshNet28" not in gpu:
        parts.append(Part("shortest GPU time", INCONCLUSIVE, "not measured on gpu"))
    else:
        mine = gpu["ThreshNet28"]
        others = {r: t for r, t in gpu.items() if r != "ThreshNet28"}
        beaten = [r for r, t in others.items() if compare(mine, t) == 1]
        close = [r for r, t in others.items() if compare(mine, t) == 0]
        verdict = NOT_REPRODUCED if beaten else INCONCLUSIVE if close else REPRODUCED
        parts.append(Part("shortest GPU time", verdict, f"ThreshNet28 {fmt_stat(mine)} ms; faster: "
                          f"{', '.join(beaten) or 'none'}; inside the spread: {', '.join(close) or 'none'}"))
    return Check(all_parts([p.verdict for p in parts]), parts, _gpu_note(m))


def _measured_t6(m: Measurements) -> Check:
    parts = [fewer_params(m, "ThreshNet79", "HarDNet68", "equal"),
             fewer_params(m, "ThreshNet79", "HarDNet68", "published")]
    note = ""
    if "ThreshNet79" in m.params_published:
        note = f"ThreshNet79 profiles to {m.params_published['ThreshNet79']:.2f} M; the text prints 14.31 M"
    return Check(all_parts([p.verdict for p in parts]), parts, note)


# --- the paper's own table ----------------------------------------------------------------------------------

def _pct_faster(t: float | None, other: float | None) -> float | None:
    return None if t is None or other is None else 100.0 * (1 - t / other)


def _own_t1(pub: dict[str, dict], heads: dict[str, int]) -> Check:
    parts, column_ok = [], []
    for col, label in (("gpu_time_ms", "GPU"), ("rpi4_time_ms", "RPi")):
        t79 = pub.get("ThreshNet79", {}).get(col)
        items, ok = [], True
        for other, claimed in T1_TARGETS:
            pct = _pct_faster(t79, pub.get(other, {}).get(col))
            if pct is None:
                items.append(f"{other}: no value")
                ok = False
                continue
            match = abs(pct - claimed) <= PCT_TOL
            ok &= match
            items.append(f"{other} {pct:+.1f} % (claimed {claimed:.0f} %{'' if match else ', mismatch'})")
        column_ok.append(ok)
        parts.append(Part(f"{label} column", SUPPORTED if ok else NOT_SUPPORTED, "; ".join(items)))
    verdict = SUPPORTED if any(column_ok) else NOT_SUPPORTED
    return Check(verdict, parts, "faster % = 1 - t(ThreshNet79) / t(other); neither time column of the table "
                                  "gives all five percentages" if verdict == NOT_SUPPORTED else "")


def _own_t2(pub: dict[str, dict], heads: dict[str, int]) -> Check:
    a, b = pub.get("ThreshNet95", {}).get("params_m"), pub.get("HarDNet85", {}).get("params_m")
    if a is None or b is None:
        return Check(NOT_SUPPORTED, [Part("55 % fewer", NOT_SUPPORTED, "rows missing")])
    pct = 100 * (1 - a / b)
    match = abs(pct - 55.0) <= PCT_TOL
    parts = [Part("55 % fewer parameters", SUPPORTED if match else NOT_SUPPORTED,
                  f"{a:.2f} vs {b:.2f} M: {pct:.1f} % fewer")]
    ha, hb = heads.get("ThreshNet95"), heads.get("HarDNet85")
    if ha != hb:
        eq = 100 * (1 - a / HARDNET85_PARAMS_HEAD10_M)
        parts.append(Part("equal heads", QUESTIONABLE,
                          f"the printed counts mix a {ha}-class ThreshNet95 with a {hb}-class HarDNet85; "
                          "with "
                          f"10-class heads 16.19 vs {HARDNET85_PARAMS_HEAD10_M:.2f} M = {eq:.1f} % fewer"))
    return Check(own_table([p.verdict for p in parts]), parts)


def _own_t3(pub: dict[str, dict], heads: dict[str, int]) -> Check:
    e79, e68 = pub.get("ThreshNet79", {}).get("error_pct"), pub.get("HarDNet68", {}).get("error_pct")
    t79, t68 = pub.get("ThreshNet79", {}).get("rpi4_time_ms"), pub.get("HarDNet68", {}).get("rpi4_time_ms")
    parts = []
    if e79 is not None and e68 is not None:
        rel = 100 * (1 - e79 / e68)
        parts.append(Part("7 % lower error", SUPPORTED if abs(rel - 7.0) <= PCT_TOL else NOT_SUPPORTED,
                          f"{e79:.2f} vs {e68:.2f} %: {rel:.1f} % relative ({e68 - e79:.2f} points)"))
    if t79 is not None and t68 is not None:
        gap = 100 * (1 - t79 / t68)
        parts.append(Part("RPi 62.4 -> 61.7 ms", SUPPORTED if t79 < t68 else NOT_SUPPORTED,
                          f"{t68} -> {t79} ms: {gap:.1f} % faster, far inside the "
                          f"up-to-{PI_TABLE_SPREAD_PCT:.0f} % "
                          "difference between the same model's Pi times in Tables III and IV"))
    return Check(own_table([p.verdict for p in parts]) if parts else NOT_SUPPORTED, parts)


def _own_t4(pub: dict[str, dict], heads: dict[str, int]) -> Check:
    errors = {r: v.get("error_pct") for r, v in pub.items() if v.get("error_pct") is not None}
    parts = []
    if errors:
        best = min(errors, key=errors.get)
        runner = sorted(errors.values())[1] if len(errors) > 1 else None
        parts.append(Part("lowest error of the table", SUPPORTED if best == "ThreshNet95" else NOT_SUPPORTED,
                          f"lowest: {best} {errors[best]:.2f} % (next {runner:.2f} %)"))
    g95, g85 = pub.get("ThreshNet95", {}).get("gpu_time_ms"), pub.get("HarDNet85", {}).get("gpu_time_ms")
    if g95 is not None and g85 is not None:
        parts.append(Part("faster than HarDNet85 (GPU)", SUPPORTED if g95 < g85 else NOT_SUPPORTED,
                          f"{g95:.2f} vs {g85:.2f} ms"))
    return Check(own_table([p.verdict for p in parts]) if parts else NOT_SUPPORTED, parts)


def _own_t5(pub: dict[str, dict], heads: dict[str, int]) -> Check:
    parts = []
    t28, tsh = pub.get("ThreshNet28", {}).get("rpi4_time_ms"), pub.get("ShuffleNet", {}).get("rpi4_time_ms")
    if t28 is not None and tsh is not None:
        parts.append(Part("faster than ShuffleNet on the Pi", SUPPORTED if t28 < tsh else NOT_SUPPORTED,
                          f"{t28} vs {tsh} ms ({100 * (1 - t28 / tsh):.1f} % faster)"))
    gpu = {r: v.get("gpu_time_ms") for r, v in pub.items() if v.get("gpu_time_ms") is not None}
    if "ThreshNet28" in gpu:
        mine = gpu["ThreshNet28"]
        ties = [r for r, t in gpu.items() if r != "ThreshNet28" and t <= mine]
        exact_ties = all(gpu[r] == mine for r in ties)
        verdict = SUPPORTED if not ties else QUESTIONABLE if exact_ties else NOT_SUPPORTED
        parts.append(Part("shortest GPU time", verdict,
                          f"ThreshNet28 {mine} ms; as fast or faster: {', '.join(ties) or 'none'}"))
    return Check(own_table([p.verdict for p in parts]) if parts else NOT_SUPPORTED, parts)


def _own_t6(pub: dict[str, dict], heads: dict[str, int]) -> Check:
    a, b = pub.get("ThreshNet79", {}).get("params_m"), pub.get("HarDNet68", {}).get("params_m")
    if a is None or b is None:
        return Check(NOT_SUPPORTED, [Part("fewer parameters", NOT_SUPPORTED, "rows missing")])
    parts = [Part("fewer parameters", SUPPORTED if a < b else NOT_SUPPORTED, f"{a:.2f} vs {b:.2f} M")]
    try:
        ablation = published_row("threshnet_table2_ablation", "ThreshNet79-c").get("params_m")
    except KeyError:
        ablation = THRESHNET79_CODE_PARAMS_M
    if ablation is not None and abs(ablation - a) > 0.005:
        parts.append(Part("the cited 14.31 M", QUESTIONABLE,
                          "Table II (ThreshNet79-c, the same model) and the authors' code give "
                          f"{ablation:.2f} M, "
                          f"not {a:.2f} M"))
    ha, hb = heads.get("ThreshNet79"), heads.get("HarDNet68")
    if ha != hb:
        parts.append(Part("heads", "info", f"the counts mix a {ha}-class and a {hb}-class head; the "
                                           "direction "
                                           "holds either way"))
    return Check(own_table([p.verdict for p in parts if p.verdict != "info"]), parts)


MEASURED: dict[str, Callable[[Measurements], Check]] = {
    "T1": _measured_t1, "T2": _measured_t2, "T3": _measured_t3, "T4": _measured_t4, "T5": _measured_t5,
    "T6": _measured_t6}
OWN_TABLE: dict[str, Callable[[dict, dict], Check]] = {
    "T1": _own_t1, "T2": _own_t2, "T3": _own_t3, "T4": _own_t4, "T5": _own_t5, "T6": _own_t6}


def published_rows(table_id: str = "3") -> tuple[dict[str, dict], dict[str, int]]:
    """The paper's table by row label, and each row's published classifier head."""
    spec = TABLES[table_id]
    rows = {r["model"]: dict(r) for r in load_table(spec.published_table)}
    return rows, {r.row: r.published_head for r in spec.rows}


def check_claims(m: Measurements, table_id: str = "3") -> list[ClaimResult]:
    pub, heads = published_rows(table_id)
    return [ClaimResult(c, MEASURED[c.id](m), OWN_TABLE[c.id](pub, heads)) for c in CLAIMS]


def measurements_from_table(td) -> Measurements:
    """Measurements of a report TableData (suite.report.tables), keyed by row label."""
    m = Measurements(rows=tuple(r.row for r in td.rows if r.in_table), errors_meaningful=td.errors_meaningful)
    if not td.errors_meaningful:
        man = td.run.manifest
        m.error_context = (f"{td.kind} run: {man.get('epochs') or 'recipe'} epoch(s) on "
                           f"{man.get('train_count', '?')} training / {man.get('test_count', '?')} test "
                           "images")
    for r in td.rows:
        if r.error_best:
            m.errors[r.row] = r.error_best
        if r.error_final:
            m.errors_final[r.row] = r.error_final
        for hw, stat in r.times.items():
            m.times.setdefault(hw, {})[r.row] = stat
        if "params_m" in r.complexity_trained:
            m.params_trained[r.row] = r.complexity_trained["params_m"]
        if "params_m" in r.complexity_published:
            m.params_published[r.row] = r.complexity_published["params_m"]
    return m

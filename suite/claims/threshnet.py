"""ThreshNet's claims T1-T6 judged (declared with Table III in ``suite.tables.threshnet``, CIFAR-10)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from suite.claims.rule import not_testable
from suite.claims.verdicts import (
    INCONCLUSIVE,
    INFO,
    NOT_SUPPORTED,
    PCT_TOL,
    QUESTIONABLE,
    REPRODUCED,
    SUPPORTED,
    Check,
    Measured,
    Measurements,
    Own,
    Part,
    all_parts,
    any_hardware,
    exact,
    faster,
    faster_part,
    fewer_params,
    hardware_of,
    in_scope,
    lower_error,
    own_table,
    pct_less,
)
from suite.tables.claim import EXACT, SPEED, Claim
from suite.tables.threshnet import T1_TARGETS, TABLE
from zoo.published import published_row

# Facts from the reference notes (copied, never read at run time).
HARDNET85_PARAMS_HEAD10_M = 35.40  # HarDNet85 with a 10-class head: the equal-head comparison for T2
THRESHNET79_CODE_PARAMS_M = 14.37  # ThreshNet79 in the authors' code and in Table II (79-c)
PI_TABLE_SPREAD_PCT = 29.0  # the same model's Pi time differs by up to 29 % between Tables III and IV
# Claims with a part on each device of their scope (T5: the Pi comparison and the shortest GPU time): every one of
# those devices is needed; the others are decided on any device of their scope.
EACH_DEVICE = frozenset({"T5"})


def _measured_t1(claim: Claim, m: Measurements) -> Check:
    if not m.times:
        return Check(INCONCLUSIVE, [], f"no inference time measured (the claim needs {claim.scope.needs()})")
    parts = [faster_part(m, c.a, c.b, claim) for c in claim.compared if c.quantity == SPEED]
    return Check(all_parts([p.verdict for p in parts]), parts,
                 "each ratio judged against its claimed percentage on the devices of the claim's scope; times on "
                 "other devices are context, never evidence")


def _measured_t2(claim: Claim, m: Measurements) -> Check:
    (c,) = [c for c in claim.compared if c.quantity == EXACT]
    part = exact(f"{c.magnitude.value:g} % fewer parameters (equal heads)", m.params_trained.get(c.a),
                 m.params_trained.get(c.b), c.magnitude, unit="M")
    parts = [part]
    pa, pb = m.params_published.get(c.a), m.params_published.get(c.b)
    if pa is not None and pb is not None:
        parts.append(Part("as published (mixed heads)", INFO,
                          f"{pa:.2f} vs {pb:.2f} M: {100 * (1 - pa / pb):.1f} % fewer"))
    return Check(part.verdict, parts)


def _measured_t3(claim: Claim, m: Measurements) -> Check:
    parts = [lower_error(m, "ThreshNet79", "HarDNet68", claim), faster_part(m, "ThreshNet79", "HarDNet68", claim)]
    return Check(all_parts([p.verdict for p in parts]), parts)


def _measured_t4(claim: Claim, m: Measurements) -> Check:
    others = [r for r in (m.rows or tuple(m.errors_final)) if r != "ThreshNet95"]
    errors = [lower_error(m, "ThreshNet95", r, claim) for r in others]
    missing = [r for r in others if r not in m.errors_final]
    summary = f"ThreshNet95 against {len(errors)} rows (final-epoch errors, Welch)"
    if missing and m.errors_meaningful:
        summary += f"; not measured: {', '.join(missing)}"
    lowest = Part("lowest error of the table", all_parts([p.verdict for p in errors]), summary)
    speed = faster_part(m, "ThreshNet95", "HarDNet85", claim)
    return Check(all_parts([lowest.verdict, speed.verdict]), [lowest, *errors, speed])


def _shortest(m: Measurements, claim: Claim) -> Part:
    """"ThreshNet28 has the shortest GPU time": one part, every other row compared on the GPU."""
    what = "shortest GPU time (ThreshNet28 faster than every other row)"
    on = [hw for hw in hardware_of(m) if in_scope(claim, hw)]
    if not m.times:
        return Part(what, INCONCLUSIVE, f"no inference time measured (the claim needs {claim.scope.needs()})")
    if not on:
        return Part(what, not_testable(claim.scope.needs()), f"no time measured on {claim.scope.needs()}")
    per_hw, details = [], []
    for hw in on:
        sub = {r: faster(m, hw, "ThreshNet28", r, claim) for r in m.times.get(hw, {}) if r != "ThreshNet28"}
        verdict = all_parts([p.verdict for p in sub.values()]) if sub else INCONCLUSIVE
        per_hw.append(verdict)
        others = sorted({p.verdict for p in sub.values()} - {REPRODUCED})
        by = "; ".join(f"{v}: {', '.join(r for r, p in sub.items() if p.verdict == v)}" for v in others)
        details.append(f"on {hw}: against {len(sub)} rows, {verdict}" + (f" ({by})" if by else ""))
    return Part(what, any_hardware(per_hw), "; ".join(details))


def _measured_t5(claim: Claim, m: Measurements) -> Check:
    pi = replace(claim, scope=replace(claim.scope, devices=("rpi4",)))
    gpu = replace(claim, scope=replace(claim.scope, devices=("gpu",)))
    parts = [faster_part(m, "ThreshNet28", "ShuffleNet", pi, "ThreshNet28 faster than ShuffleNet on the Pi"),
             _shortest(m, gpu)]
    return Check(all_parts([p.verdict for p in parts]), parts)


def _measured_t6(claim: Claim, m: Measurements) -> Check:
    parts = [fewer_params(m, "ThreshNet79", "HarDNet68", "equal"),
             fewer_params(m, "ThreshNet79", "HarDNet68", "published")]
    note = ""
    if "ThreshNet79" in m.params_published:
        note = f"ThreshNet79 profiles to {m.params_published['ThreshNet79']:.2f} M; the text prints 14.31 M"
    return Check(all_parts([p.verdict for p in parts]), parts, note)


# --- the paper's own table ----------------------------------------------------------------------------------

def _own_t1(pub: dict[str, dict[str, Any]], heads: dict[str, int]) -> Check:
    parts, column_ok = [], []
    for col, label in (("gpu_time_ms", "GPU"), ("rpi4_time_ms", "RPi")):
        t79 = pub.get("ThreshNet79", {}).get(col)
        items, ok = [], True
        for other, claimed in T1_TARGETS:
            pct = pct_less(t79, pub.get(other, {}).get(col))
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


def _own_t2(pub: dict[str, dict[str, Any]], heads: dict[str, int]) -> Check:
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


def _own_t3(pub: dict[str, dict[str, Any]], heads: dict[str, int]) -> Check:
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


def _own_t4(pub: dict[str, dict[str, Any]], heads: dict[str, int]) -> Check:
    errors: dict[str, float] = {r: v["error_pct"] for r, v in pub.items() if v.get("error_pct") is not None}
    parts = []
    if errors:
        best = min(errors, key=errors.__getitem__)
        runner = f" (next {sorted(errors.values())[1]:.2f} %)" if len(errors) > 1 else ""
        parts.append(Part("lowest error of the table", SUPPORTED if best == "ThreshNet95" else NOT_SUPPORTED,
                          f"lowest: {best} {errors[best]:.2f} %{runner}"))
    g95, g85 = pub.get("ThreshNet95", {}).get("gpu_time_ms"), pub.get("HarDNet85", {}).get("gpu_time_ms")
    if g95 is not None and g85 is not None:
        parts.append(Part("faster than HarDNet85 (GPU)", SUPPORTED if g95 < g85 else NOT_SUPPORTED,
                          f"{g95:.2f} vs {g85:.2f} ms"))
    return Check(own_table([p.verdict for p in parts]) if parts else NOT_SUPPORTED, parts)


def _own_t5(pub: dict[str, dict[str, Any]], heads: dict[str, int]) -> Check:
    parts = []
    t28, tsh = pub.get("ThreshNet28", {}).get("rpi4_time_ms"), pub.get("ShuffleNet", {}).get("rpi4_time_ms")
    if t28 is not None and tsh is not None:
        parts.append(Part("faster than ShuffleNet on the Pi", SUPPORTED if t28 < tsh else NOT_SUPPORTED,
                          f"{t28} vs {tsh} ms ({100 * (1 - t28 / tsh):.1f} % faster)"))
    gpu: dict[str, float] = {r: v["gpu_time_ms"] for r, v in pub.items() if v.get("gpu_time_ms") is not None}
    if "ThreshNet28" in gpu:
        mine = gpu["ThreshNet28"]
        ties = [r for r, t in gpu.items() if r != "ThreshNet28" and t <= mine]
        exact_ties = all(gpu[r] == mine for r in ties)
        verdict = SUPPORTED if not ties else QUESTIONABLE if exact_ties else NOT_SUPPORTED
        parts.append(Part("shortest GPU time", verdict,
                          f"ThreshNet28 {mine} ms; as fast or faster: {', '.join(ties) or 'none'}"))
    return Check(own_table([p.verdict for p in parts]) if parts else NOT_SUPPORTED, parts)


def _own_t6(pub: dict[str, dict[str, Any]], heads: dict[str, int]) -> Check:
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
        parts.append(Part("heads", INFO, f"the counts mix a {ha}-class and a {hb}-class head; the "
                                           "direction "
                                           "holds either way"))
    return Check(own_table([p.verdict for p in parts]), parts)




def _on(fn: Callable[[Claim, Measurements], Check]) -> Measured:
    """A T-claim reads Table III only: its measurements and its published rows."""
    return lambda claim, ms: fn(claim, ms.get(TABLE) or Measurements())


def _own(fn: Callable[[dict[str, dict[str, Any]], dict[str, int]], Check]) -> Own:
    return lambda claim, pubs: fn(pubs[TABLE].rows, pubs[TABLE].heads)


JUDGES = {"T1": (_on(_measured_t1), _own(_own_t1)), "T2": (_on(_measured_t2), _own(_own_t2)),
          "T3": (_on(_measured_t3), _own(_own_t3)), "T4": (_on(_measured_t4), _own(_own_t4)),
          "T5": (_on(_measured_t5), _own(_own_t5)), "T6": (_on(_measured_t6), _own(_own_t6))}

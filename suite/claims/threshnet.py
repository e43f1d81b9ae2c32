"""ThreshNet's claims T1-T6 (abstract, section IV; they cite Table III, CIFAR-10)."""

from __future__ import annotations

from suite.claims.verdicts import (
    INCONCLUSIVE,
    INFO,
    NOT_REPRODUCED,
    NOT_SUPPORTED,
    PCT_TOL,
    QUESTIONABLE,
    REPRODUCED,
    SUPPORTED,
    Check,
    Claim,
    Measurements,
    Part,
    all_parts,
    any_hardware,
    faster,
    fewer_params,
    hardware_of,
    lower_error,
    not_meaningful,
    own_table,
    pct_less,
)
from suite.stats import compare, fmt_stat
from zoo.published import published_row

TABLE = "threshnet-3"
# Facts from the reference notes (copied, never read at run time).
HARDNET85_PARAMS_HEAD10_M = 35.40  # HarDNet85 with a 10-class head: the equal-head comparison for T2
THRESHNET79_CODE_PARAMS_M = 14.37  # ThreshNet79 in the authors' code and in Table II (79-c)
PI_TABLE_SPREAD_PCT = 29.0  # the same model's Pi time differs by up to 29 % between Tables III and IV
T1_TARGETS = (("HarDNet68", 5.0), ("GhostNet", 9.0), ("MobileNetV2", 10.0), ("ShuffleNet", 18.0),
              ("EfficientNetB0", 20.0))


def _gpu_note(m: Measurements) -> str:
    if m.times.get("gpu"):
        return ""
    return "GPU not measured here (the paper used an RTX 3050): GPU parts stay inconclusive"


def _measured_t1(m: Measurements) -> Check:
    per_hw, parts = [], []
    for hw in hardware_of(m):
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
        parts.append(Part("as published (mixed heads)", INFO,
                          f"{pa:.2f} vs {pb:.2f} M: {100 * (1 - pa / pb):.1f} % fewer"))
    return Check(verdict, parts)


def _measured_t3(m: Measurements) -> Check:
    parts = [lower_error(m, "ThreshNet79", "HarDNet68", 7.0), faster(m, "rpi4", "ThreshNet79", "HarDNet68")]
    return Check(all_parts([p.verdict for p in parts]), parts)


def _measured_t4(m: Measurements) -> Check:
    parts = []
    if (meaningless := not_meaningful(m, "lowest error of the table")) is not None:
        parts.append(meaningless)
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
    for hw in hardware_of(m):  # the claim is about the GPU; other devices are context, not evidence
        if hw != "gpu":
            info = faster(m, hw, "ThreshNet95", "HarDNet85")
            parts.append(Part(info.what + " (context)", INFO, f"{info.verdict}: {info.detail}"))
    return Check(all_parts([p.verdict for p in parts]), parts, _gpu_note(m))


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

def _own_t1(pub: dict[str, dict], heads: dict[str, int]) -> Check:
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
        parts.append(Part("heads", INFO, f"the counts mix a {ha}-class and a {hb}-class head; the "
                                           "direction "
                                           "holds either way"))
    return Check(own_table([p.verdict for p in parts]), parts)




def _on(fn):
    """A T-claim reads Table III only: its measurements and its published rows."""
    return lambda ms: fn(ms[TABLE])


def _own(fn):
    return lambda pubs: fn(pubs[TABLE].rows, pubs[TABLE].heads)


def _claim(cid: str, text: str, where: str, measured, own) -> Claim:
    return Claim(cid, text, where, _on(measured), _own(own), uses=(TABLE,))


CLAIMS: tuple[Claim, ...] = (
    _claim("T1", "ThreshNet79 inference is 5 %, 9 %, 10 %, 18 %, 20 % faster than HarDNet68, GhostNet, "
                 "MobileNetV2, ShuffleNet, EfficientNet(-B0)", "abstract", _measured_t1, _own_t1),
    _claim("T2", "ThreshNet95 has 55 % fewer parameters than HarDNet85 (16.19 M, head 10, vs 36.67 M, head 1000; "
                 "at equal heads 16.19 vs 35.40 = 54 %)", "abstract, section IV", _measured_t2, _own_t2),
    _claim("T3", "ThreshNet79 reduces the error of HarDNet68 by 7 % (13.66 vs 14.66 on CIFAR-10) and its RPi time "
                 "from 62.4 to 61.7 ms", "section IV, Table III", _measured_t3, _own_t3),
    _claim("T4", "ThreshNet95 has the lowest CIFAR-10 error of the table (13.31 %) and is faster than HarDNet85 "
                 "(0.46 vs 0.50 ms)", "section IV, Table III", _measured_t4, _own_t4),
    _claim("T5", "ThreshNet28 is faster on the Pi than ShuffleNet (45.3 vs 48.5 ms) and has the shortest GPU time",
           "section IV, Table III", _measured_t5, _own_t5),
    _claim("T6", "ThreshNet79 has fewer parameters than HarDNet68 (14.31 vs 17.57 M)", "section IV", _measured_t6,
           _own_t6),
)

"""DP-Net's claims D1-D4 judged (declared in ``suite.tables.dpnet``; Tables 2, 4, 6 and 7)."""

from __future__ import annotations

from suite.claims.rule import REDUCED_TEXT, Question, Sample, judge
from suite.claims.verdicts import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    Check,
    Measurements,
    Part,
    Published,
    all_parts,
    exact,
    faster,
    matches,
    own_pct_part,
    own_table,
    pct_less,
    reduced,
)
from suite.tables.claim import ERROR, EXACT, Claim, Magnitude
from suite.tables.dpnet import D2_TARGETS, D4_TARGETS, DROP_PCT, OTHERS, PAPER_MOBILENETV3_PARAMS_M
from suite.tables.metrics import METRICS
from suite.timing.profiles import board


def _m(ms: dict[str, Measurements], table: str) -> Measurements:
    return ms.get(table) or Measurements()


def _p(pubs: dict[str, Published], table: str) -> Published:
    return pubs.get(table) or Published()


def accuracy_drop(m: Measurements, a: str, b: str, claimed: float) -> Part:
    """``a``'s top-1 at most ``claimed`` % (relative) below ``b``'s, through the rule: ``a``'s error less the
    claimed allowance (in pp at ``b``'s published top-1) is lower than ``b``'s error."""
    what = f"{a} top-1 at most {claimed:g} % (relative) below {b}"
    sa, sb = m.value("top1_acc_pct", a), m.value("top1_acc_pct", b)
    if sa is None or sb is None:
        return Part(what, INCONCLUSIVE, "not measured" if m.errors_meaningful else
                    f"{REDUCED_TEXT} ({reduced(m)})")
    published = m.published.get(b, {}).get("top1_acc_pct")
    base, source = (published, "published") if published is not None else (sb.mean, "measured")
    allowance = claimed / 100.0 * base
    shifted = Sample(f"{a} - {allowance:.2f} pp", tuple(100.0 - v - allowance for v in sa.values or (sa.mean,)))
    other = Sample(b, tuple(100.0 - v for v in sb.values or (sb.mean,)))
    j = judge(Question(ERROR, shifted, other, Magnitude(), reduced=reduced(m), unit="%"))
    return Part(what, j.verdict, f"top-1 errors, {a}'s less the claimed {claimed:g} % of {b}'s {source} top-1 "
                                 f"{base:.2f} % = {allowance:.2f} pp: {j.detail}", j)


# --- D1: parameters and accuracy on CIFAR-100 (Table 4) ------------------------------------------------------

def d1_measured(claim: Claim, ms: dict[str, Measurements]) -> Check:
    m = _m(ms, "dpnet-4")
    (c,) = [c for c in claim.compared if c.quantity == EXACT]
    parts = [exact(f"{c.magnitude.value:g} % fewer parameters (published heads, 224)", m.params_published.get(c.a),
                   m.params_published.get(c.b), c.magnitude, unit="M"),
             accuracy_drop(m, "DP-Net", "MobileNetV3", DROP_PCT)]
    return Check(all_parts([p.verdict for p in parts]), parts,
                 f"the paper prints MobileNetV3 at {PAPER_MOBILENETV3_PARAMS_M} M; torchvision's mobilenet_v3_large, "
                 "which the suite profiles, has 5.48 M, so the parameter percentage differs by construction")


def d1_own(claim: Claim, pubs: dict[str, Published]) -> Check:
    p = _p(pubs, "dpnet-4")
    parts = [own_pct_part("33.8 % fewer parameters", p.get("DP-Net", "params_m"), p.get("MobileNetV3", "params_m"),
                          33.8, unit="M"),
             own_pct_part("2.2 % lower top-1", p.get("DP-Net", "top1_acc_pct"), p.get("MobileNetV3", "top1_acc_pct"),
                          2.2, unit="%", word="lower")]
    return Check(own_table([x.verdict for x in parts]), parts)


# --- D2: FLOPs on ImageNet (Table 6) ------------------------------------------------------------------------

def d2_measured(claim: Claim, ms: dict[str, Measurements]) -> Check:
    m = _m(ms, "dpnet-6")
    flops = m.values.get("flops_m", {})
    parts = []
    for c in claim.compared:
        a, b = flops.get(c.a), flops.get(c.b)
        parts.append(exact(f"{c.magnitude.value:g} % fewer FLOPs than {c.b}", a.mean if a else None,
                           b.mean if b else None, c.magnitude, unit="M FLOPs"))
    return Check(all_parts([p.verdict for p in parts]), parts,
                 "FLOPs counted with torchstat's convention at 3x224x224 (the paper does not name its counter); "
                 "DP-Net is a reconstruction: see its card for the residual against the printed figures")


def d2_own(claim: Claim, pubs: dict[str, Published]) -> Check:
    p = _p(pubs, "dpnet-6")
    parts = [own_pct_part(f"{claimed:g} % fewer FLOPs than {other}", p.get("DP-Net", "flops_m"),
                          p.get(other, "flops_m"), claimed, unit="M") for other, claimed in D2_TARGETS]
    return Check(own_table([x.verdict for x in parts]), parts)


# --- D3: the fastest on CPU and Raspberry Pi (Table 7) -------------------------------------------------------

def d3_measured(claim: Claim, ms: dict[str, Measurements]) -> Check:
    m = _m(ms, "dpnet-7")
    per_hw = {hw: [faster(m, hw, "DP-Net", other, claim) for other in OTHERS] for hw in claim.scope.devices}
    parts = [p for sub in per_hw.values() for p in sub]
    return Check(all_parts([all_parts([p.verdict for p in sub]) for sub in per_hw.values()]), parts,
                 "CPU: this machine's CPU (the paper's was a Xeon E5-2678 v3 or a Ryzen 7 PRO 4750U: its text names "
                 "both); Raspberry Pi 3B: measured only on a real Pi 3B (`suite bundle`), never predicted")


def d3_own(claim: Claim, pubs: dict[str, Published]) -> Check:
    p = _p(pubs, "dpnet-7")
    parts = []
    for col in claim.scope.metrics:  # the time columns the claim speaks about, each a profile's
        label = board(METRICS[col].hardware)
        values = {r: p.get(r, col) for r in ("DP-Net", *OTHERS) if p.get(r, col) is not None}
        if "DP-Net" not in values:
            parts.append(Part(f"fastest on {label}", NOT_SUPPORTED, "rows missing"))
            continue
        best = min(values, key=values.__getitem__)
        parts.append(Part(f"fastest on {label}", SUPPORTED if best == "DP-Net" else NOT_SUPPORTED,
                          ", ".join(f"{r} {v:g}" for r, v in values.items())))
    return Check(own_table([x.verdict for x in parts]), parts)


# --- D4: P-ResNet18 parameters (Table 2) --------------------------------------------------------------------

def d4_measured(claim: Claim, ms: dict[str, Measurements]) -> Check:
    m = _m(ms, "dpnet-2")
    parts = [exact(f"{c.a} {c.magnitude.value:g} % fewer parameters than {c.b}", m.params_published.get(c.a),
                   m.params_published.get(c.b), c.magnitude, unit="M") for c in claim.compared]
    return Check(all_parts([p.verdict for p in parts]), parts,
                 "parameters at 224 with a 1000-way head, as printed; P-ResNets are reconstructions (see their cards)")


def d4_own(claim: Claim, pubs: dict[str, Published]) -> Check:
    p = _p(pubs, "dpnet-2")
    parts = []
    for row, claimed in D4_TARGETS:
        a, b = p.get(row, "params_m"), p.get("ResNet18", "params_m")
        pct = pct_less(a, b)
        verdict = SUPPORTED if matches(pct, claimed) else NOT_SUPPORTED
        parts.append(Part(f"{row} {claimed:g} % fewer parameters", verdict,
                          f"{a} vs {b} M: {pct:.1f} %" if pct is not None else "rows missing"))
    return Check(own_table([x.verdict for x in parts]), parts)


JUDGES = {"D1": (d1_measured, d1_own), "D2": (d2_measured, d2_own), "D3": (d3_measured, d3_own),
          "D4": (d4_measured, d4_own)}

"""DP-Net's claims D1-D4 (KSII TIIS 2022; Tables 2, 4, 6 and 7)."""

from __future__ import annotations

from suite.claims.verdicts import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_SUPPORTED,
    PCT_TOL,
    REPRODUCED,
    SUPPORTED,
    Check,
    Claim,
    Measurements,
    Part,
    Published,
    all_parts,
    faster,
    matches,
    not_meaningful,
    own_pct_part,
    own_table,
    pct_less,
    pct_part,
)
from suite.stats import Stat, compare, fmt_stat

OTHERS = ("MobileNetV3", "GhostNet", "MobileNetV2")
D2_TARGETS = (("MobileNetV3", 55.1), ("GhostNet", 21.9), ("MobileNetV2", 63.1))
D4_TARGETS = (("P-ResNet18A", 65.6), ("P-ResNet18B", 68.6))
PAPER_MOBILENETV3_PARAMS_M = 5.15  # what Table 4 prints; torchvision's mobilenet_v3_large has 5.48 M


def _m(ms: dict[str, Measurements], table: str) -> Measurements:
    return ms.get(table) or Measurements()


def _p(pubs: dict[str, Published], table: str) -> Published:
    return pubs.get(table) or Published()


def accuracy_drop(m: Measurements, a: str, b: str, claimed: float) -> Part:
    """``a``'s top-1 is at most ``claimed`` % (relative) below ``b``'s: the price the claim says is paid."""
    what = f"{a} top-1 at most {claimed:g} % (relative) below {b}"
    if (part := not_meaningful(m, what)) is not None:
        return part
    sa, sb = m.value("top1_acc_pct", a), m.value("top1_acc_pct", b)
    if sa is None or sb is None:
        return Part(what, INCONCLUSIVE, "not measured")
    factor = 1 - (claimed + PCT_TOL) / 100
    limit = Stat(sb.mean * factor, None, sb.n, sb.sigma * factor, sb.sigma_source)
    c = compare(sa, limit)
    verdict = NOT_REPRODUCED if c == -1 else REPRODUCED if c == 1 else INCONCLUSIVE
    drop = 100 * (1 - sa.mean / sb.mean)
    return Part(what, verdict, f"{fmt_stat(sa, 2)} vs {fmt_stat(sb, 2)} %: {drop:.1f} % lower (claimed {claimed:g} %, "
                               f"tolerance {PCT_TOL:.0f} pt)")


# --- D1: parameters and accuracy on CIFAR-100 (Table 4) ------------------------------------------------------

def d1_measured(ms: dict[str, Measurements]) -> Check:
    m = _m(ms, "dpnet-4")
    parts = [pct_part("33.8 % fewer parameters (published heads, 224)", m.params_published.get("DP-Net"),
                      m.params_published.get("MobileNetV3"), 33.8, unit="M"),
             accuracy_drop(m, "DP-Net", "MobileNetV3", 2.2)]
    return Check(all_parts([p.verdict for p in parts]), parts,
                 f"the paper prints MobileNetV3 at {PAPER_MOBILENETV3_PARAMS_M} M; torchvision's mobilenet_v3_large, "
                 "which the suite profiles, has 5.48 M, so the parameter percentage differs by construction")


def d1_own(pubs: dict[str, Published]) -> Check:
    p = _p(pubs, "dpnet-4")
    parts = [own_pct_part("33.8 % fewer parameters", p.get("DP-Net", "params_m"), p.get("MobileNetV3", "params_m"),
                          33.8, unit="M"),
             own_pct_part("2.2 % lower top-1", p.get("DP-Net", "top1_acc_pct"), p.get("MobileNetV3", "top1_acc_pct"),
                          2.2, unit="%", word="lower")]
    return Check(own_table([x.verdict for x in parts]), parts)


# --- D2: FLOPs on ImageNet (Table 6) ------------------------------------------------------------------------

def d2_measured(ms: dict[str, Measurements]) -> Check:
    m = _m(ms, "dpnet-6")
    flops = m.values.get("flops_m", {})
    parts = []
    for other, claimed in D2_TARGETS:
        a, b = flops.get("DP-Net"), flops.get(other)
        parts.append(pct_part(f"{claimed:g} % fewer FLOPs than {other}", a and a.mean, b and b.mean, claimed,
                              unit="M FLOPs"))
    return Check(all_parts([p.verdict for p in parts]), parts,
                 "FLOPs counted with torchstat's convention at 3x224x224 (the paper does not name its counter); "
                 "DP-Net is a reconstruction: see its card for the residual against the printed figures")


def d2_own(pubs: dict[str, Published]) -> Check:
    p = _p(pubs, "dpnet-6")
    parts = [own_pct_part(f"{claimed:g} % fewer FLOPs than {other}", p.get("DP-Net", "flops_m"),
                          p.get(other, "flops_m"), claimed, unit="M") for other, claimed in D2_TARGETS]
    return Check(own_table([x.verdict for x in parts]), parts)


# --- D3: the fastest on CPU and Raspberry Pi (Table 7) -------------------------------------------------------

def d3_measured(ms: dict[str, Measurements]) -> Check:
    m = _m(ms, "dpnet-7")
    parts = [faster(m, hw, "DP-Net", other) for hw in ("cpu", "rpi3b") for other in OTHERS]
    return Check(all_parts([p.verdict for p in parts]), parts,
                 "CPU: this machine's CPU (the paper's was a Xeon E5-2678 v3 or a Ryzen 7 PRO 4750U: its text names "
                 "both); Raspberry Pi 3B: measured only on a real Pi 3B (`suite bundle`), never predicted")


def d3_own(pubs: dict[str, Published]) -> Check:
    p = _p(pubs, "dpnet-7")
    parts = []
    for col, label in (("cpu_ms", "CPU"), ("rpi3b_s", "Raspberry Pi 3B")):
        values = {r: p.get(r, col) for r in ("DP-Net", *OTHERS) if p.get(r, col) is not None}
        if "DP-Net" not in values:
            parts.append(Part(f"fastest on {label}", NOT_SUPPORTED, "rows missing"))
            continue
        best = min(values, key=values.get)
        parts.append(Part(f"fastest on {label}", SUPPORTED if best == "DP-Net" else NOT_SUPPORTED,
                          ", ".join(f"{r} {v:g}" for r, v in values.items())))
    return Check(own_table([x.verdict for x in parts]), parts)


# --- D4: P-ResNet18 parameters (Table 2) --------------------------------------------------------------------

def d4_measured(ms: dict[str, Measurements]) -> Check:
    m = _m(ms, "dpnet-2")
    parts = [pct_part(f"{row} {claimed:g} % fewer parameters than ResNet18", m.params_published.get(row),
                      m.params_published.get("ResNet18"), claimed, unit="M") for row, claimed in D4_TARGETS]
    return Check(all_parts([p.verdict for p in parts]), parts,
                 "parameters at 224 with a 1000-way head, as printed; P-ResNets are reconstructions (see their cards)")


def d4_own(pubs: dict[str, Published]) -> Check:
    p = _p(pubs, "dpnet-2")
    parts = []
    for row, claimed in D4_TARGETS:
        a, b = p.get(row, "params_m"), p.get("ResNet18", "params_m")
        pct = pct_less(a, b)
        verdict = SUPPORTED if matches(pct, claimed) else NOT_SUPPORTED
        parts.append(Part(f"{row} {claimed:g} % fewer parameters", verdict,
                          f"{a} vs {b} M: {pct:.1f} %" if pct is not None else "rows missing"))
    return Check(own_table([x.verdict for x in parts]), parts)


CLAIMS_4 = (Claim("D1", "DP-Net has 33.8 % fewer parameters than MobileNetV3 for 2.2 % lower top-1 accuracy on "
                        "CIFAR-100", "section 4, Table 4", d1_measured, d1_own, uses=("dpnet-4",)),)
CLAIMS_6 = (Claim("D2", "DP-Net has 55.1 %, 21.9 %, 63.1 % fewer FLOPs than MobileNetV3, GhostNet, MobileNetV2 on "
                        "ImageNet", "section 4, Table 6", d2_measured, d2_own, uses=("dpnet-6",)),)
CLAIMS_7 = (Claim("D3", "DP-Net is the fastest of MobileNetV3, GhostNet, MobileNetV2 and DP-Net on CPU and "
                        "Raspberry Pi", "abstract, section 4, Table 7", d3_measured, d3_own, uses=("dpnet-7",)),)
CLAIMS_2 = (Claim("D4", "P-ResNet18A and P-ResNet18B have 65.6 % and 68.6 % fewer parameters than ResNet18",
                  "section 4, Table 2", d4_measured, d4_own, uses=("dpnet-2",)),)

"""ThresholdNet's claim R1 (abstract and section IV; Tables VI, CIFAR-10, and VII, STL-10).

"ThresholdNet is 60 % faster than DenseNet(121), 20 % faster and 10 % lower error than HarDNet(68); on STL-10
it has the same accuracy and is 10 % faster than HarDNet." The text names neither the variant (v1 or v2) nor
the time column (step or epoch time): every combination is computed and shown. A sub-claim holds on the
paper's own table when one variant on one column gives the claimed percentage; the sentence is questionable
when its parts need different variants. On measurements the direction decides, per sub-claim, for either
variant (the paper does not say which), with the percentages shown beside the claim.
"""

from __future__ import annotations

from suite.claims.verdicts import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_SUPPORTED,
    QUESTIONABLE,
    REPRODUCED,
    SUPPORTED,
    Check,
    Claim,
    Measurements,
    Part,
    Published,
    all_parts,
    faster_on,
    lower_error,
    matches,
    not_meaningful,
    own_table,
    pct_less,
)
from suite.stats import compare, fmt_stat

CIFAR, STL = "thresholdnet-6", "thresholdnet-7"
VARIANTS = ("ThresholdNet_v1", "ThresholdNet_v2")
TIMES = (("step_time_ms", "step time ms"), ("epoch_time_s", "epoch time s"))
# (table, other row, claimed % faster)
SPEED = ((CIFAR, "DenseNet121", 60.0), (CIFAR, "HarDNet68", 20.0), (STL, "HarDNet68", 10.0))
ERROR = (CIFAR, "HarDNet68", 10.0)


def _either(parts: list[Part]) -> str:
    """The paper does not say which variant: one reproduced suffices, all contradicted refutes."""
    verdicts = [p.verdict for p in parts]
    if REPRODUCED in verdicts:
        return REPRODUCED
    if verdicts and all(v == NOT_REPRODUCED for v in verdicts):
        return NOT_REPRODUCED
    return INCONCLUSIVE


def _same_accuracy(m: Measurements) -> Part:
    what = "STL-10: same accuracy as HarDNet68 (either variant)"
    if (part := not_meaningful(m, what)) is not None:
        return part
    other = m.errors.get("HarDNet68")
    mine = {v: m.errors.get(v) for v in VARIANTS if m.errors.get(v) is not None}
    if other is None or not mine:
        return Part(what, INCONCLUSIVE, "not measured")
    same = [v for v, e in mine.items() if compare(e, other) == 0]
    text = "; ".join(f"{v} {fmt_stat(e, 2)} %" for v, e in mine.items())
    return Part(what, REPRODUCED if same else NOT_REPRODUCED,
                f"{text} vs HarDNet68 {fmt_stat(other, 2)} %: "
                + (f"inside the spread for {', '.join(same)}" if same else "outside the spread for both"))


def measured(ms: dict[str, Measurements]) -> Check:
    parts: list[Part] = []
    verdicts: list[str] = []
    for table, other, claimed in SPEED:
        m = ms.get(table) or Measurements()
        sub = [faster_on(m, key, v, other, label=label, claimed_pct=claimed) for v in VARIANTS for key, label in TIMES]
        for p in sub:
            p.what = f"{'CIFAR-10' if table == CIFAR else 'STL-10'}: {p.what}"
        parts += sub
        verdicts.append(_either(sub))
    m = ms.get(CIFAR) or Measurements()
    err = [lower_error(m, v, ERROR[1], ERROR[2]) for v in VARIANTS]
    for p in err:
        p.what = f"CIFAR-10: {p.what}"
    parts += err
    verdicts.append(_either(err))
    acc = _same_accuracy(ms.get(STL) or Measurements())
    parts.append(acc)
    verdicts.append(acc.verdict)
    devices = sorted({(ms.get(t) or Measurements()).devices.get("train", "") for t in (CIFAR, STL)} - {""})
    note = ("a sub-claim holds if either variant shows it (the text names none); direction decides, percentages are "
            "shown beside the claim; times measured by the training engine on "
            f"{', '.join(devices) or 'the training device'} (the paper: an Nvidia GTX 3080 Ti with PyTorch 1.1.0), "
            "so absolute times compare only on a GPU, ratios between models anywhere")
    return Check(all_parts(verdicts), parts, note)


def _own_speed(pub: Published, table: str, other: str, claimed: float) -> tuple[Part, set[str]]:
    found, hits = [], set()
    for v in VARIANTS:
        for key, label in TIMES:
            pct = pct_less(pub.get(v, key), pub.get(other, key))
            if pct is None:
                continue
            ok = matches(pct, claimed)
            if ok:
                hits.add(v)
            found.append(f"{v} {label.split()[0]} {pct:+.1f} %{' (match)' if ok else ''}")
    where = "CIFAR-10" if table == CIFAR else "STL-10"
    what = f"{where}: {claimed:.0f} % faster than {other}"
    if not found:
        return Part(what, NOT_SUPPORTED, "rows missing"), hits
    return Part(what, SUPPORTED if hits else NOT_SUPPORTED, "; ".join(found)), hits


def own(pubs: dict[str, Published]) -> Check:
    parts, used = [], []
    for table, other, claimed in SPEED:
        part, hits = _own_speed(pubs.get(table) or Published(), table, other, claimed)
        parts.append(part)
        used.append(hits)
    cifar = pubs.get(CIFAR) or Published()
    err_hits, items = set(), []
    for v in VARIANTS:
        pct = pct_less(cifar.get(v, "error_pct"), cifar.get(ERROR[1], "error_pct"))
        if pct is not None:
            if matches(pct, ERROR[2]):
                err_hits.add(v)
            items.append(f"{v} {cifar.get(v, 'error_pct')} vs {cifar.get(ERROR[1], 'error_pct')} %: {pct:.1f} % lower"
                         f"{' (match)' if matches(pct, ERROR[2]) else ''}")
    parts.append(Part("CIFAR-10: 10 % lower error than HarDNet68", SUPPORTED if err_hits else NOT_SUPPORTED,
                      "; ".join(items) or "rows missing"))
    stl = pubs.get(STL) or Published()
    e68 = stl.get("HarDNet68", "error_pct")
    close = [f"{v} {stl.get(v, 'error_pct')}" for v in VARIANTS
             if stl.get(v, "error_pct") is not None and e68 is not None and abs(stl.get(v, "error_pct") - e68) <= 0.5]
    parts.append(Part("STL-10: same accuracy as HarDNet68", SUPPORTED if close else NOT_SUPPORTED,
                      f"HarDNet68 {e68} %; within 0.5 points: {', '.join(close) or 'none'}"))
    # "20 % faster and 10 % lower error than HarDNet" is one statement: does one variant give both?
    if used[1] and err_hits and not (used[1] & err_hits):
        parts.append(Part("one variant for the HarDNet68 sentence", QUESTIONABLE,
                          f"the speed-up matches only for {', '.join(sorted(used[1]))}, the error only for "
                          f"{', '.join(sorted(err_hits))}"))
    return Check(own_table([p.verdict for p in parts]), parts,
                 "faster % = 1 - t(ThresholdNet) / t(other) on the step or the epoch time; a match is within 1 point")


CLAIMS = (
    Claim("R1", "ThresholdNet is 60 % faster than DenseNet121, 20 % faster and 10 % lower error than HarDNet68 "
                "(CIFAR-10), and on STL-10 has the same accuracy and is 10 % faster than HarDNet68",
          "abstract, section IV, Tables VI and VII", measured, own, uses=(CIFAR, STL)),
)

"""ThresholdNet's claim R1 judged (declared in ``suite.tables.thresholdnet``; Tables VI, CIFAR-10, and VII, STL-10).

"ThresholdNet is 60 % faster than DenseNet(121), 20 % faster and 10 % lower error than HarDNet(68); on STL-10
it has the same accuracy and is 10 % faster than HarDNet." The text names neither the variant (v1 or v2) nor
the time column (step or epoch time): every combination is computed and shown. A sub-claim holds on the
paper's own table when one variant on one column gives the claimed percentage; the sentence is questionable
when its parts need different variants. On measurements each sub-claim goes through the rule for either
variant (the paper does not say which), against its claimed percentage.
"""

from __future__ import annotations

from suite.claims.rule import is_not_testable
from suite.claims.verdicts import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_SUPPORTED,
    PARTIAL,
    QUESTIONABLE,
    REPRODUCED,
    SUPPORTED,
    Check,
    Measurements,
    Part,
    Published,
    all_parts,
    faster_on,
    lower_error,
    matches,
    own_table,
    pct_less,
)
from suite.tables.claim import Claim, Magnitude
from suite.tables.thresholdnet import CIFAR, ERROR_CLAIM, SAME_MARGIN_PP, SPEED_CLAIMS, STL, TIMES, VARIANTS


def _either(parts: list[Part]) -> str:
    """The paper does not say which variant: one reproduced suffices, all contradicted refutes."""
    verdicts = [p.verdict for p in parts]
    for v in (REPRODUCED, PARTIAL):
        if v in verdicts:
            return v
    if verdicts and all(v == NOT_REPRODUCED for v in verdicts):
        return NOT_REPRODUCED
    if verdicts and all(is_not_testable(v) for v in verdicts):
        return verdicts[0]
    return INCONCLUSIVE


def measured(claim: Claim, ms: dict[str, Measurements]) -> Check:
    parts: list[Part] = []
    verdicts: list[str] = []
    for table, other, claimed in SPEED_CLAIMS:
        m = ms.get(table) or Measurements()
        sub = [faster_on(m, key, v, other, scope=claim.scope, magnitude=Magnitude.percent(claimed), label=label)
               for v in VARIANTS for key, label in TIMES]
        for p in sub:
            p.what = f"{'CIFAR-10' if table == CIFAR else 'STL-10'}: {p.what}"
        parts += sub
        verdicts.append(_either(sub))
    m = ms.get(CIFAR) or Measurements()
    err = [lower_error(m, v, ERROR_CLAIM[1], claim, Magnitude.relative(ERROR_CLAIM[2]),
                       f"CIFAR-10: {v} lower error than {ERROR_CLAIM[1]}") for v in VARIANTS]
    parts += err
    verdicts.append(_either(err))
    stl = ms.get(STL) or Measurements()
    same = [lower_error(stl, v, "HarDNet68", claim, Magnitude.same(SAME_MARGIN_PP),
                        f"STL-10: {v} the same error as HarDNet68 (within ±{SAME_MARGIN_PP:g} pp)") for v in VARIANTS]
    parts += same
    verdicts.append(_either(same))
    devices = sorted({(ms.get(t) or Measurements()).devices.get("train", "") for t in (CIFAR, STL)} - {""})
    note = ("a sub-claim holds if either variant shows it (the text names none); times measured by the training "
            f"engine on {', '.join(devices) or 'the training device'}: the paper's times come from a GPU (an Nvidia "
            "GTX 3080 Ti with PyTorch 1.1.0), so only times trained on a GPU decide the speed parts")
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


def own(claim: Claim, pubs: dict[str, Published]) -> Check:
    parts, used = [], []
    for table, other, claimed in SPEED_CLAIMS:
        part, hits = _own_speed(pubs.get(table) or Published(), table, other, claimed)
        parts.append(part)
        used.append(hits)
    cifar = pubs.get(CIFAR) or Published()
    err_hits, items = set(), []
    for v in VARIANTS:
        pct = pct_less(cifar.get(v, "error_pct"), cifar.get(ERROR_CLAIM[1], "error_pct"))
        if pct is not None:
            if matches(pct, ERROR_CLAIM[2]):
                err_hits.add(v)
            items.append(f"{v} {cifar.get(v, 'error_pct')} vs {cifar.get(ERROR_CLAIM[1], 'error_pct')} %: "
                         f"{pct:.1f} % lower"
                         f"{' (match)' if matches(pct, ERROR_CLAIM[2]) else ''}")
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


JUDGES = {"R1": (measured, own)}

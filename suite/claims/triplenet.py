"""TripleNet's claim P1 judged (declared with the README table in ``suite.tables.triplenet``)."""

from __future__ import annotations

from suite.claims.verdicts import (
    INCONCLUSIVE,
    Check,
    Measurements,
    Published,
    all_parts,
    any_hardware,
    faster,
    hardware_of,
    own_pct_part,
    own_table,
)
from suite.tables.claim import SPEED, Claim
from suite.tables.triplenet import P1_TARGETS, TABLE


def measured(claim: Claim, ms: dict[str, Measurements]) -> Check:
    m = ms.get(TABLE) or Measurements()
    parts, per_hw = [], []
    for hw in hardware_of(m):
        sub = [faster(m, hw, c.a, c.b, claim) for c in claim.compared if c.quantity == SPEED]
        parts += sub
        per_hw.append(all_parts([p.verdict for p in sub]))
    if not parts:
        return Check(INCONCLUSIVE, [], "no Raspberry Pi 4 time measured")
    return Check(any_hardware(per_hw), parts,
                 "a Raspberry Pi 4 claim: only rpi4 times decide (measured natively, through `suite bundle` or "
                 "`--hardware rpi4@host`; a prediction never does); each ratio judged against the claimed percentage")


def own(claim: Claim, pubs: dict[str, Published]) -> Check:
    pub = pubs.get(TABLE) or Published()
    mine = pub.get("TripleNet-B", "rpi4_time_ms")
    parts = [own_pct_part(f"{pct:.0f} % shorter than {other}", mine, pub.get(other, "rpi4_time_ms"), pct,
                          unit="ms", word="shorter") for other, pct in P1_TARGETS]
    return Check(own_table([p.verdict for p in parts]), parts,
                 "the README's own times give 15.2, 16.4, 23.8 and 29.6 %: each claimed figure is rounded up")


JUDGES = {"P1": (measured, own)}

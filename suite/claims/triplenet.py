"""TripleNet's claim P1 (the RuiyangJu/TripleNet README, the Raspberry Pi paper's results table)."""

from __future__ import annotations

from suite.claims.verdicts import (
    INFO,
    Check,
    Claim,
    Measurements,
    Part,
    Published,
    all_parts,
    faster,
    hardware_of,
    own_pct_part,
    own_table,
)

TABLE = "triplenet"
TARGETS = (("MobileNet", 16.0), ("ThreshNet95", 17.0), ("EfficientNetB0", 24.0), ("HarDNet85", 30.0))


def measured(ms: dict[str, Measurements]) -> Check:
    m = ms.get(TABLE) or Measurements()
    parts = [faster(m, "rpi4", "TripleNet-B", other, pct) for other, pct in TARGETS]
    for hw in hardware_of(m):  # the claim is about the Pi; other devices are context, not evidence
        if hw != "rpi4":
            for other, _ in TARGETS:
                info = faster(m, hw, "TripleNet-B", other)
                parts.append(Part(info.what + " (context)", INFO, f"{info.verdict}: {info.detail}"))
    return Check(all_parts([p.verdict for p in parts]), parts,
                 "a Raspberry Pi 4 claim: only rpi4 times decide (measured natively, through `suite bundle` or "
                 "`--hardware rpi4@host`; a prediction never does); the direction decides, percentages are shown")


def own(pubs: dict[str, Published]) -> Check:
    pub = pubs.get(TABLE) or Published()
    mine = pub.get("TripleNet-B", "rpi4_time_ms")
    parts = [own_pct_part(f"{pct:.0f} % shorter than {other}", mine, pub.get(other, "rpi4_time_ms"), pct,
                          unit="ms", word="shorter") for other, pct in TARGETS]
    return Check(own_table([p.verdict for p in parts]), parts,
                 "the README's own times give 15.2, 16.4, 23.8 and 29.6 %: each claimed figure is rounded up")


CLAIMS = (
    Claim("P1", "TripleNet-B's Raspberry Pi 4 time per image is 16 %, 17 %, 24 %, 30 % shorter than MobileNet, "
                "ThreshNet95, EfficientNet-B0, HarDNet85", "TripleNet README", measured, own, uses=(TABLE,)),
)

"""Which claims a planned run can decide: its seeds against the seed spread (the literature's or an observed one),
its hardware against each claim's scope, its budget against the paper's. What `suite run` prints with its estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from suite.claims.rule import seeds_needed
from suite.claims.threshnet import EACH_DEVICE
from suite.tables.claim import ERROR, EXACT, SPEED, Magnitude
from suite.tables.spec import TableSpec
from zoo.published import load_table


@dataclass(frozen=True)
class SeedSpread:
    """Test-error standard deviation over training seeds for this kind of model, with where it was published."""

    std_pp: float
    source: str


# Published seed-to-seed spread of test error (percentage points).
LITERATURE_SPREAD = {
    "cifar10": SeedSpread(0.25, "CIFAR-10 0.15-0.35 pp over seeds: Summers & Dinneen, ICML 2021; Jordan, ICLR 2024"),
    "cifar100": SeedSpread(0.8, "CIFAR-100 about 0.8 pp over seeds (a survey of the same sources)"),
}


FULL_PER_IMAGE_BATCH = 100  # the paper's per-image batch (the authors' test batch; the paper preset's)


def shortened_timing(preset: dict[str, Any]) -> str:
    """Why a preset (``Preset.to_dict()``, as manifests store it) does not time under the paper's protocol, or ""."""
    batch = preset.get("per_image_batch") or FULL_PER_IMAGE_BATCH
    if preset.get("latency_protocol") is None and batch == FULL_PER_IMAGE_BATCH:
        return ""
    return f"the {preset.get('name', '?')} preset's shortened timing protocol (batches of {batch}, fewer rounds)"


@dataclass(frozen=True)
class Device:
    name: str  # hardware key
    measured: bool  # False: predicted there, which never decides


def _error_pp(spec: TableSpec, b: str, magnitude: Magnitude) -> float:
    """The claimed difference in pp (a relative claim at the published value of ``b`` when the table has it)."""
    if magnitude.unit == "relative":
        rows = {r["model"]: r for r in load_table(spec.published_table)}
        published = (rows.get(b) or {}).get("error_pct")
        return magnitude.value / 100.0 * float(published) if published else 0.0
    return magnitude.value if magnitude.unit in ("pp", "same") else 0.0


def decidable(spec: TableSpec, seeds: int, devices: list[Device], *, full_budget: bool,
              spread: SeedSpread | None = None, timing_protocol: str = "") -> list[str]:
    """One line per claim the table shows: what the planned run can decide, and why not where it cannot; the
    same conditions the report's verdicts apply (``suite.claims.rule``, ``EACH_DEVICE``), so the two agree.

    ``timing_protocol``: why the run's times will not be taken under the paper's protocol ("" = they will be).
    """
    spread = spread or LITERATURE_SPREAD.get(spec.dataset or "")
    lines = []
    for claim in spec.claims:
        kinds = {c.quantity for c in claim.compared}
        ok: list[str] = []
        not_ok: list[str] = []
        if ERROR in kinds or "error_pct" in claim.scope.metrics:
            errors = [c for c in claim.compared if c.quantity == ERROR]
            worst = max([_error_pp(spec, c.b, c.magnitude) for c in errors] or [0.0])
            if not full_budget:
                not_ok.append("errors: a reduced budget never decides an error claim")
            elif seeds < 2:
                not_ok.append("errors: one seed gives no interval (inconclusive (one seed))")
            elif spread is not None:
                need = seeds_needed(spread.std_pp, worst)
                text = (f"errors: {seeds} seeds for {max(worst, 0.1):.2g} pp at {spread.std_pp:g} pp "
                        f"(about {need} needed)")
                (ok if seeds >= need else not_ok).append(text)
        if SPEED in kinds or any(m.endswith(("_ms", "_s")) for m in claim.scope.metrics):
            scoped = [d for d in devices if not claim.scope.devices or d.name in claim.scope.devices]
            measured = [d.name for d in scoped if d.measured]
            planned = {d.name for d in devices}
            absent = [d for d in claim.scope.devices if d not in planned]
            if claim.id in EACH_DEVICE and absent and scoped:  # a part on each device: one missing, undecided
                not_ok.append(f"times: not testable here (needs {', '.join(absent)})")
            if not scoped:
                not_ok.append(f"times: not testable here (needs {claim.scope.needs()})")
            elif not measured:
                not_ok.append(f"times: {', '.join(d.name for d in scoped)} predicted, which never decides")
            elif timing_protocol:
                not_ok.append(f"times on {', '.join(measured)}: {timing_protocol} never decides")
            elif seeds < 2:
                not_ok.append(f"times on {', '.join(measured)}: one measurement round per model gives no interval")
            else:
                ok.append(f"times on {', '.join(measured)}: {seeds} measurement rounds per model")
        if EXACT in kinds:
            ok.append("exact counts: decided by profiling")
        verdict = "cannot be decided" if not_ok else "can be decided"
        lines.append(f"{claim.id}: {verdict} ({'; '.join(not_ok + ok)})")
    if spread is not None:
        lines.append(f"seed spread: {spread.std_pp:g} pp ({spread.source})")
    return lines

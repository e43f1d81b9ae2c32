"""The papers' claims judged against our measurements and against the papers' own tables.

Claims are declared as data with their tables (``suite.tables``, type ``suite.tables.claim.Claim``); each paper's
judges live in ``suite/claims/<paper>.py`` and every measured part is decided by ``suite.claims.rule.judge``.
``check(spec, measurements, published)`` runs the claims a table shows.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator

from suite.claims.rule import BUSY, NOT_TESTABLE, ONE_SEED, PARTIAL, Judgement, Question, Sample, judge
from suite.claims.verdicts import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_SUPPORTED,
    PREDICTED,
    QUESTIONABLE,
    REPRODUCED,
    SUPPORTED,
    Check,
    ClaimResult,
    Measured,
    Measurements,
    Own,
    Part,
    Published,
    all_parts,
    any_hardware,
)
from suite.tables import PAPERS, TableSpec, get_table
from zoo.published import load_table
from zoo.registry import Registry


def _declared_judges() -> Iterator[tuple[str, tuple[Measured, Own]]]:
    # a paper's judges live in the module named after its key; a paper without claims has none
    for key in PAPERS:
        if importlib.util.find_spec(f"suite.claims.{key}") is not None:
            yield from importlib.import_module(f"suite.claims.{key}").JUDGES.items()


# claim id -> (judge of our measurements, judge of the paper's own tables); a claim id judged twice is refused
JUDGES: Registry[tuple[Measured, Own]] = Registry("claim judge", _declared_judges())


def published(table_id: str) -> Published:
    """A registered table's published rows by label, with each row's published head."""
    spec = get_table(table_id)
    rows = {str(r["model"]): dict(r) for r in load_table(spec.published_table)}
    return Published(rows, {r.row: r.published_head for r in spec.rows})


def check(spec: TableSpec, measurements: dict[str, Measurements], pubs: dict[str, Published] | None = None
          ) -> list[ClaimResult]:
    """The claims ``spec`` shows; ``measurements`` (and ``pubs``) by table id, missing tables count as empty."""
    results = []
    for claim in spec.claims:
        uses = claim.uses or (spec.id,)
        pub = {t: (pubs or {}).get(t) or published(t) for t in uses}
        ms = {t: measurements.get(t) or Measurements() for t in uses}
        for t in uses:  # the published figures the rule sets our seeds beside
            if not ms[t].published:
                ms[t].published = dict(pub[t].rows)
        measured, own = JUDGES[claim.id]
        results.append(ClaimResult(claim, measured(claim, ms), own(claim, pub), spec.id))
    return results


__all__ = ["BUSY", "Check", "ClaimResult", "INCONCLUSIVE", "JUDGES", "Judgement", "Measurements", "NOT_REPRODUCED",
           "NOT_SUPPORTED", "NOT_TESTABLE", "ONE_SEED", "PARTIAL", "PREDICTED", "Part", "Published", "QUESTIONABLE",
           "Question", "REPRODUCED", "SUPPORTED", "Sample", "all_parts", "any_hardware", "check", "judge",
           "published"]

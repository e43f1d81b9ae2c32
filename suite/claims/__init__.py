"""The papers' claims, checked against our measurements and against the papers' own tables.

Each paper's claims live in ``suite/claims/<paper>.py`` and are attached to a table in ``suite/tables/``;
``check(spec, measurements, published)`` runs the ones a table shows. Verdict rules: ``suite.claims.verdicts``.
"""

from __future__ import annotations

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
    Measurements,
    Part,
    Published,
    all_parts,
    any_hardware,
)


def published(table_id: str) -> Published:
    """A registered table's published rows by label, with each row's published head."""
    from suite.tables import get_table
    from zoo.published import load_table

    spec = get_table(table_id)
    rows = {r["model"]: dict(r) for r in load_table(spec.published_table)}
    return Published(rows, {r.row: r.published_head for r in spec.rows})


def check(spec, measurements: dict[str, Measurements], pubs: dict[str, Published] | None = None
          ) -> list[ClaimResult]:
    """The claims ``spec`` shows; ``measurements`` (and ``pubs``) by table id, missing tables count as empty."""
    results = []
    for claim in spec.claims:
        uses = claim.uses or (spec.id,)
        pub = {t: (pubs or {}).get(t) or published(t) for t in uses}
        ms = {t: measurements.get(t) or Measurements() for t in uses}
        results.append(ClaimResult(claim, claim.measured(ms), claim.own_table(pub), spec.id))
    return results


__all__ = ["Check", "ClaimResult", "INCONCLUSIVE", "Measurements", "NOT_REPRODUCED", "NOT_SUPPORTED", "PREDICTED",
           "Part", "Published", "QUESTIONABLE", "REPRODUCED", "SUPPORTED", "all_parts", "any_hardware", "check",
           "published"]

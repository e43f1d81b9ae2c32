"""A report table's numbers as the claims read them (``suite.claims.Measurements``, by row label).

Only the paper's rows enter: a user's rows have their own comparison block (``suite.report.usermodels``).
Parameter counts come from profiling the zoo (``profiled``: the table's rows as ``complexity_table`` gives them),
so a claim about them does not depend on which run, or which of its rows, is rendered.
"""

from __future__ import annotations

from suite.claims import Measurements
from suite.claims.decidable import shortened_timing
from suite.report.tables import TableData
from suite.tables import METRICS
from suite.tables.metrics import COMPLEXITY


def timing_protocol(td: TableData) -> str:
    """Why the run's times were not taken under the paper's protocol ("" when they were)."""
    preset = td.run.manifest.get("preset") if td.run is not None else None
    return shortened_timing(preset) if isinstance(preset, dict) else ""


def measurements(td: TableData, profiled: TableData | None = None) -> Measurements:
    rows = [r for r in td.rows if r.in_table]
    m = Measurements(rows=tuple(r.row for r in rows), errors_meaningful=td.errors_meaningful,
                     timing_protocol=timing_protocol(td))
    if td.run is not None:
        man = td.run.manifest
        m.devices["train"] = (man.get("provenance") or {}).get("device_name") or man.get("device") or "?"
        m.train_hardware = "gpu" if str(man.get("device") or "").startswith("cuda") else "cpu"
        if isinstance(man.get("test_count"), int):
            m.test_images = man["test_count"]
        if not td.errors_meaningful:
            m.error_context = (f"{td.kind} run: {man.get('epochs') or 'recipe'} epoch(s) on "
                               f"{man.get('train_count', '?')} training / {man.get('test_count', '?')} test images")
    else:
        m.error_context = "not trained: no run of this table"
    for r in rows:
        if r.published:
            m.published[r.row] = dict(r.published)
        if r.error_best:
            m.errors[r.row] = r.error_best
        if r.error_final:
            m.errors_final[r.row] = r.error_final
        for hw, stat in r.times.items():
            m.times.setdefault(hw, {})[r.row] = stat
            if hw in r.devices:
                m.devices.setdefault(hw, r.devices[hw])
        for key, stat in r.values.items():
            m.values.setdefault(key, {})[r.row] = stat
    for r in (profiled or td).rows:
        if not r.in_table:
            continue
        if "params_m" in r.complexity_trained:
            m.params_trained[r.row] = r.complexity_trained["params_m"]
        if "params_m" in r.complexity_published:
            m.params_published[r.row] = r.complexity_published["params_m"]
        for key, stat in r.values.items():
            if METRICS[key].group == COMPLEXITY:
                m.values.setdefault(key, {})[r.row] = stat
    return m

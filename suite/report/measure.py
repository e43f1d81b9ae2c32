"""A report table's numbers as the claims read them (``suite.claims.Measurements``, by row label)."""

from __future__ import annotations

from suite.claims import Measurements
from suite.report.tables import TableData


def measurements(td: TableData) -> Measurements:
    m = Measurements(rows=tuple(r.row for r in td.rows if r.in_table), errors_meaningful=td.errors_meaningful)
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
    for r in td.rows:
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
        if "params_m" in r.complexity_trained:
            m.params_trained[r.row] = r.complexity_trained["params_m"]
        if "params_m" in r.complexity_published:
            m.params_published[r.row] = r.complexity_published["params_m"]
    return m

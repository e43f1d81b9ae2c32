"""Run the real torchstat 0.0.7 on one zoo model and print its totals as JSON (last line of stdout).

    python tests/oracle/run_torchstat.py MODEL HEAD [CxHxW]

Runs in its own process because torchstat patches module classes globally and adds buffers to the model.
torchstat 0.0.7 calls DataFrame.append, removed in pandas 2: a shim restores it in this process only.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys

import pandas as pd


def _append(self, other, ignore_index=False):  # the pandas<2 behaviour torchstat's reporter relies on
    frame = other.to_frame().T if isinstance(other, pd.Series) else other
    return pd.concat([self, frame], ignore_index=ignore_index)


if not hasattr(pd.DataFrame, "append"):
    pd.DataFrame.append = _append

import torchstat.statistics as ts_stats  # noqa: E402

import zoo  # noqa: E402

_raw: dict = {}
_original_report = ts_stats.report_format


def _capture(nodes):
    # Raw totals straight from torchstat's own per-leaf values, before its formatting rounds them.
    _raw.update(
        params=int(sum(int(n.parameter_quantity) for n in nodes)),
        flops=int(sum(int(n.Flops) for n in nodes)),
        madd=int(sum(int(n.MAdd) for n in nodes)),
        memory_mb=float(sum(float(n.inference_memory) for n in nodes)),
        memrw_bytes=int(sum(int(n.Memory[0]) + int(n.Memory[1]) for n in nodes)),
        rows=len(nodes),
        # per leaf: name, params, FLOPs, MAdd, Memory MB, MemRead B, MemWrite B (for diagnosing a mismatch)
        layers=[[n.name, int(n.parameter_quantity), int(n.Flops), int(n.MAdd), float(n.inference_memory),
                 int(n.Memory[0]), int(n.Memory[1])] for n in nodes],
    )
    return _original_report(nodes)


ts_stats.report_format = _capture


def _printed(summary: str) -> dict[str, str]:
    keys = {"params": r"Total params: ([\d,]+)", "memory": r"Total memory: ([\d.]+)MB",
            "madd": r"Total MAdd: (\S+)MAdd", "flops": r"Total Flops: (\S+)Flops",
            "memrw": r"Total MemR\+W: (\S+)B"}
    return {k: m.group(1) for k, rx in keys.items() if (m := re.search(rx, summary))}


def main(argv: list[str]) -> int:
    name, head = argv[0], int(argv[1])
    size = tuple(int(s) for s in (argv[2] if len(argv) > 2 else "3x224x224").split("x"))
    model = zoo.create_model(name, num_classes=head)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        ts_stats.stat(model, size)
    result = {"model": name, "head": head, "input": list(size), **_raw, "printed": _printed(buf.getvalue())}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

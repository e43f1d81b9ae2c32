"""Run the real torchstat 0.0.7 on zoo models and print each one's totals as a JSON line.

    python tests/oracle/run_torchstat.py MODEL HEAD CxHxW [MODEL HEAD CxHxW ...]

Each model is measured in a forked child because torchstat patches module classes globally and adds buffers to
the model.
torchstat 0.0.7 calls DataFrame.append, removed in pandas 2: a shim restores it in this process only.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
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


def _one(name: str, head: int, size_text: str) -> dict:
    size = tuple(int(s) for s in size_text.split("x"))
    model = zoo.create_model(name, num_classes=head)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        ts_stats.stat(model, size)
    return {"model": name, "head": head, "input": list(size), **_raw, "printed": _printed(buf.getvalue())}


def main(argv: list[str]) -> int:
    """One JSON line per MODEL HEAD SIZE triple, each measured in a forked child: torchstat's class patches
    die with the child, and torch is imported once."""
    failed = 0
    for i in range(0, len(argv), 3):
        name, head, size_text = argv[i], int(argv[i + 1]), argv[i + 2] if i + 2 < len(argv) else "3x224x224"
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: measure, write one line, leave without running the parent's cleanup
            os.close(read)
            try:
                line, code = json.dumps(_one(name, head, size_text)), 0
            except BaseException as exc:  # noqa: BLE001 - reported to the parent as the case's line
                line, code = json.dumps({"model": name, "error": f"{type(exc).__name__}: {exc}"}), 1
            os.write(write, line.encode() + b"\n")
            os._exit(code)
        os.close(write)
        with os.fdopen(read, "rb") as fh:
            out = fh.read().decode()
        _, status = os.waitpid(pid, 0)
        failed += status != 0
        print(out.strip() or json.dumps({"model": name, "error": f"child ended with status {status}"}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

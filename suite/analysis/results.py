"""Results as data: every finished line of `suite run` as one row of a pandas DataFrame.

>>> from suite.analysis import results
>>> df = results.load("results")                      # every run under results/, or one run directory
>>> df.pivot_table(index="model", values="error_best_pct", aggfunc="mean")

One row per (run, model, dataset, seed): the latest line of each key. The columns are flat: identity and
provenance (run, table, row, model, dataset, seed, status, preset, recipe, precision, commit, torch, device,
host, threads), training (error_best_pct, error_final_pct, top1_acc_pct, top5_acc_pct, step_time_ms, ...), its
throughput against the device's peak (images_per_s, gflop_per_image, achieved_gflops, peak_gflops, peak_precision,
peak_source, share_of_peak, throughput_rule: suite.run.throughput), the
complexity of each convention as published (``published_<convention>_<metric>``: 224 with the published head)
and as trained (``trained_<convention>_<metric>``), and per hardware profile ``<hw>_per_image_ms``,
``<hw>_median_ms``, ``<hw>_p90_ms``, ``<hw>_predicted``, ``<hw>_expected_error_pct`` and its provenance; the
same under another runtime as ``<hw>_<runtime>_<metric>`` (``suite.timing.runtimes.column``).
``suite report`` builds its tables from this frame; ``suite export`` writes it.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pandas as pd

from suite.complexity.report import CONVENTIONS
from suite.core.errors import SuiteError
from suite.run.records import ResultRecord
from suite.run.store import find_runs
from suite.run.throughput import Throughput
from suite.timing.runtimes import EAGER, column, prefix, runtime_of
from suite.train.result import TrainResult

IDENTITY = ("run", "table", "row", "model", "dataset", "seed", "status", "reason", "preset", "recipe", "precision",
            "channels_last", "train_subset", "test_subset", "device")
# TrainResult fields that are no column of their own: the line's identity says them, or they are not figures
_TRAIN_NOT_COLUMNS = {"model", "dataset", "seed", "status", "reason", "precision", "channels_last", "num_classes",
                      "params", "error_best_note", "checkpoint", "diverged_epoch", "dropout_layers"}
_TRAIN_RENAMED = {"error_best_epoch": "best_epoch", "seconds": "train_seconds"}


def _train_fields() -> dict[str, str]:
    """results column -> TrainResult field: every scalar figure of a training result."""
    scalar = ("int", "float", "str", "bool")
    return {_TRAIN_RENAMED.get(f.name, f.name): f.name for f in fields(TrainResult)
            if str(f.type).split(" | ")[0] in scalar and f.name not in _TRAIN_NOT_COLUMNS}


TRAIN_FIELDS = _train_fields()
# A time's field in a latency record by (metric, per image): the median call at the measured batch (batch 1 for
# a latency), or the time of a test-loop batch divided by its images.
_TIME_FIELDS = {("ms", False): "median_ms", ("iqr_ms", False): "iqr_ms", ("p90_ms", False): "p90_ms",
                ("ms", True): "per_image_ms", ("iqr_ms", True): "per_image_iqr_ms"}


def time_column(hw: str, metric: str = "ms", batch: int | None = 1, runtime: str = EAGER) -> str:
    """The results column of a time measured on ``hw``: ``metric`` "ms" (the median), "iqr_ms" or "p90_ms";
    ``batch`` the images per call (1: a latency), None per image of a test-loop batch; a ``runtime`` other
    than eager has its own columns."""
    key = (metric, batch is None)
    if key not in _TIME_FIELDS:
        raise ValueError(f"no time column for metric {metric!r} at batch {batch}")
    return column(hw, _TIME_FIELDS[key], runtime)


def timed_hardware(df: pd.DataFrame) -> list[str]:
    """The hardware profiles with a measured (or predicted) eager time in ``df``, per call or per image (the
    columns of other runtimes are the robustness panel's)."""
    suffixes = {time_column("", "ms", b) for b in (1, None)}
    found = {str(c)[: -len(s)] for c in df.columns for s in suffixes if str(c).endswith(s) and df[c].notna().any()}
    return sorted(hw for hw in found if runtime_of(hw) == EAGER)


LATENCY_FIELDS = ("per_image_ms", "median_ms", "p90_ms", "iqr_ms", "per_image_iqr_ms", "runs", "per_image_batch",
                  "threads", "predicted", "expected_error_pct", "held_out", "busy")


def _complexity(prefix: str, rec: dict | None) -> dict:
    if not rec:
        return {}
    out = {f"{prefix}_model": rec.get("model"), f"{prefix}_head": rec.get("num_classes"),
           f"{prefix}_input": "x".join(str(s) for s in rec.get("input_size") or []) or None}
    for conv in CONVENTIONS:
        c = rec.get(conv)
        if not c:
            continue
        p = f"{prefix}_{conv}"
        if c.get("params") is not None:
            out[f"{p}_params_m"] = c["params"] / 1e6
        for key, scale in (("flops", 1e9), ("madd", 1e9), ("macs", 1e9)):
            if c.get(key) is not None:
                out[f"{p}_{key}_g"] = c[key] / scale
        if c.get("flops") is not None:
            out[f"{p}_flops_m"] = c["flops"] / 1e6
        for key in ("memory_mb", "memrw_mb"):
            if c.get(key) is not None:
                out[f"{p}_{key}"] = c[key]
    return out


def _latency(hw: str, rec: dict) -> dict:
    out = {f"{hw}_{k}": rec.get(k) for k in LATENCY_FIELDS if k in rec}
    prov = rec.get("provenance") or {}
    cal = rec.get("calibration") or {}
    out[f"{hw}_extrapolated"] = any(str(n).startswith("extrapolated") for n in cal.get("notes", []))
    if cal:
        out[f"{hw}_worst_model"] = cal.get("worst_model")
        out[f"{hw}_worst_error_pct"] = cal.get("worst_model_error_pct", cal.get("max_loo_error_pct"))
        out[f"{hw}_calibration_points"] = len(cal.get("points") or [])
    out[f"{hw}_device"] = prov.get("hardware_device") or prov.get("device_model") or rec.get("device")
    out[f"{hw}_host"] = prov.get("host") or prov.get("hostname")
    out[f"{hw}_source"] = prov.get("source") or ("prediction" if rec.get("predicted") else "native")
    load = rec.get("load") or {}
    for key in ("other_cpu", "load_before", "load_after", "cpu_mhz"):
        if load.get(key) is not None:
            out[f"{hw}_{key}"] = load[key]
    return out


def flatten(line: dict, manifest: dict | None = None) -> dict:
    """One results.jsonl line (of any version; and its run's manifest) as one flat row."""
    manifest = manifest or {}
    rec = ResultRecord.from_dict(line)
    row = {k: getattr(rec, k) if hasattr(rec, k) else rec.extra.get(k) for k in IDENTITY}
    row["run"] = rec.run or manifest.get("run_name")
    row["table"] = _table_id(rec.table or manifest.get("table"))
    train = rec.train or {}
    prov = train.get("provenance") or manifest.get("provenance") or {}
    worker = rec.worker
    host = (prov.get("host") or (worker.get("train") or {}).get("host") or (worker.get("time") or {}).get("host")
            or (manifest.get("provenance") or {}).get("host"))
    row.update(commit=prov.get("git_commit"), torch=prov.get("torch"), torchvision=prov.get("torchvision"),
               python=prov.get("python"), device_name=prov.get("device_name"), host=host,
               threads=prov.get("threads"), cpu_count=prov.get("cpu_count"))
    summary = rec.summary or {}
    for col, key in TRAIN_FIELDS.items():
        row[col] = train.get(key)
    row["epoch_time_iqr_s"] = _iqr(train.get("epoch_times_s"))  # the epochs' spread, for comparing epoch times
    row["error_best_pct"] = summary.get("best_error_pct", row["error_best_pct"])
    row["error_final_pct"] = summary.get("final_error_pct", row["error_final_pct"])
    best, top5 = row["error_best_pct"], row["top5_error_at_best_pct"]
    row["top1_acc_pct"] = None if best is None else 100.0 - best
    row["top5_acc_pct"] = None if top5 is None else 100.0 - top5
    user = rec.user_model or {}  # a user's model: the file it came from and its sha256
    row.update(user_file=user.get("path") or user.get("module"), user_sha256=user.get("sha256"))
    row.update(_throughput(rec.throughput))
    comp = rec.complexity or {}
    row.update(_complexity("published", comp.get("published")))
    row.update(_complexity("trained", comp.get("trained")))
    for hw, measured in rec.latency.items():
        row.update(_latency(hw, measured))
    for hw, cells in rec.runtimes.items():  # the runtimes timed beside eager
        for rt, cell in cells.items():
            if cell.get("status") == "measured":
                row.update(_latency(prefix(hw, rt), cell))
            else:
                row[column(hw, "reason", rt)] = cell.get("reason")
    return row


THROUGHPUT_COLUMNS = {"gflop_per_image": "gflop_per_image", "achieved_gflops": "achieved_gflops",
                      "peak_gflops": "peak_gflops", "peak_precision": "peak_precision", "peak_source": "peak_source",
                      "share_of_peak": "share_of_peak", "throughput_rule": "rule"}


def _throughput(rate: Throughput | None) -> dict:
    """The training throughput against the device's peak (suite.run.throughput); None for a line without."""
    return {col: getattr(rate, name) if rate is not None else None for col, name in THROUGHPUT_COLUMNS.items()}


def _iqr(values) -> float | None:
    """Inter-quartile range of a list of numbers (None for fewer than two)."""
    import numpy as np

    if not isinstance(values, list) or len(values) < 2:
        return None
    try:
        q1, q3 = np.percentile([float(v) for v in values], [25, 75])
    except (TypeError, ValueError):
        return None
    return float(q3 - q1)


def _table_id(name) -> str | None:
    if name is None:
        return None
    from suite.tables import resolve

    return resolve(str(name)) or str(name)


def frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=list(IDENTITY))
    for col in ("seed", "epochs", "best_epoch", "train_images", "test_images"):
        if col in df:
            df[col] = df[col].astype("Int64")
    return df.sort_values(["run", "table", "model", "seed"], kind="stable", na_position="last").reset_index(drop=True)


def run_frame(run) -> pd.DataFrame:
    """The rows of one loaded run (``suite.run.store.Run``)."""
    return frame([flatten(line, run.manifest) for line in run.lines])


def resolve_run(ref: str | Path, results: str | Path = "results") -> Path:
    """A run directory given as a path, or as a run name under ``results``."""
    path = Path(ref).expanduser()
    if path.is_dir():
        return path
    candidate = Path(results).expanduser() / str(ref)
    if candidate.is_dir():
        return candidate
    raise SuiteError(f"no run {str(ref)!r}: neither a directory nor a run under {results}/ (see `ls {results}`)")


def load(path: str | Path, *, run: str | None = None) -> pd.DataFrame:
    """Every run under ``path`` (a results folder or one run directory) as one DataFrame."""
    runs = find_runs(Path(path))
    if run is not None:
        runs = [r for r in runs if run in (r.name, r.path.name)]
        if not runs:
            raise SuiteError(f"no run named {run!r} under {path}")
    return frame([flatten(line, r.manifest) for r in runs for line in r.lines])


__all__ = ["flatten", "frame", "load", "resolve_run", "run_frame", "time_column", "timed_hardware"]

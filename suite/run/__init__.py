"""`suite run`: train, profile and time every model of a paper table, into one resumable run directory.

The flow, one module each:

- ``plan``: configuration -> jobs (``RunConfig``, ``prepare`` -> ``Plan``, the time estimate);
- ``store``: the run directory (manifest, results.jsonl, job directories, harvest; ``find_runs`` /
  ``load_run`` for readers) — its docstring shows the layout;
- ``modes``: each job's training mode (pinned, or probed per model before any job trains; kept on resume);
- ``job``: the one function that trains, profiles and times one (model, dataset, seed), under every executor;
- ``executors``: ``local`` (in this process; with ``--jobs N`` a worker per CPU slot, ``slots`` decides them),
  ``gpus`` (a worker per GPU slot), ``ray`` (a task per job);
- ``runner``: the driver, the only writer of results.jsonl;
- ``presets``, ``records``, ``backends``: presets, the pieces of a line, the calls that do real work;
- what a run shows and `suite status`: ``suite.watch``.

The run name is derived from everything that changes the numbers, so re-running the same command finds the
directory and skips the finished lines, whichever executor runs it.
"""

from __future__ import annotations

from .backends import Backends, real_backends
from .executor_check import EXECUTORS
from .plan import (
    PRECISIONS,
    ModelJob,
    Plan,
    RunConfig,
    config_hash,
    estimate_seconds,
    estimate_wall,
    parse_seeds,
    prepare,
)
from .presets import PRESETS, Preset
from .records import FINISHED, RECORD_VERSION, SCHEMA, Line, ResultRecord, as_dict, now, result_key, train_summary
from .runner import Outcome, Runner
from .store import (
    MANIFEST,
    RESULTS,
    RunStore,
    append_jsonl,
    find_runs,
    latest_by_key,
    load_run,
    read_jsonl,
    write_json_atomic,
)

__all__ = [
    "EXECUTORS", "FINISHED", "MANIFEST", "PRECISIONS", "PRESETS", "RECORD_VERSION", "RESULTS", "SCHEMA", "Backends",
    "Line", "ModelJob", "ResultRecord",
    "Outcome", "Plan", "Preset", "RunConfig", "RunStore", "Runner", "append_jsonl", "as_dict", "config_hash",
    "estimate_seconds", "estimate_wall", "find_runs", "latest_by_key", "load_run", "now", "parse_seeds",
    "prepare", "read_jsonl", "real_backends", "result_key", "train_summary", "write_json_atomic",
]

"""Complexity the report computes itself: tables with no run (complexity-only tables, claims on parameters).

Profiling is deterministic, so results are cached on disk, keyed by the zoo's and the profiler's sources and
the suite and torch versions: a changed model, counter or suite recomputes.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

import torch

import suite
import zoo
from suite.complexity import profile
from suite.core.fileio import write_text_atomic
from suite.core.hostcache import cache_root


def _cache_file() -> Path:
    return cache_root() / "report_complexity.json"


@cache
def _key() -> str:
    here = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(f"{suite.__version__}|{torch.__version__}".encode())
    for folder in (here.parent / "zoo", here / "complexity"):
        for f in sorted(folder.rglob("*.py")):
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()[:16]


_memory: dict[str, dict] = {}


def _load() -> dict:
    if not _memory:
        try:
            data = json.loads(_cache_file().read_text())
            if data.get("key") == _key() and data.get("suite_version") == suite.__version__:
                _memory.update(data.get("profiles", {}))
        except (OSError, ValueError, AttributeError):
            pass
    return _memory


def _save() -> None:
    try:
        path = _cache_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps({"key": _key(), "suite_version": suite.__version__, "profiles": _memory}))
    except OSError:
        pass  # a read-only home only costs the recomputation


def torchstat(model: str, head: int, input_size: tuple[int, int, int]) -> dict:
    """torchstat-convention totals of ``model`` with ``head`` classes at ``input_size`` (a results.jsonl record)."""
    profiles = _load()
    key = f"{model}|{head}|{'x'.join(map(str, input_size))}"
    if key not in profiles:
        rep = profile(zoo.create_structure(model, num_classes=head), tuple(input_size), convention="torchstat")
        profiles[key] = {"params": rep.params, "flops": rep.flops, "madd": rep.madd, "memory_mb": rep.memory_mb,
                         "memrw_mb": rep.memrw_mb}
        _save()
    return dict(profiles[key])


def complexity_record(model: str, head: int, input_size) -> dict:
    """The ``complexity.published`` / ``.trained`` shape of a results line, computed here."""
    return {"model": model, "num_classes": head, "input_size": list(input_size),
            "torchstat": torchstat(model, head, tuple(input_size))}

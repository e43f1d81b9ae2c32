"""Timing one model under several runtimes: convert, check the outputs against eager, then time interleaved.

Every runtime goes through the same protocol (``suite.timing.latency.measure_latencies``: warm-up, sized runs,
median/IQR, busy marking), interleaved round by round (eager, onnxruntime, openvino, eager, ...) at the same
thread count. Before anything is timed, each converted model's logits on a fixed input must match eager's:
``max |y - y_eager| <= REL_TOL x max |y_eager| + ABS_TOL`` (the device runner's constants: one copy). A failed
conversion, a mismatch or a runtime that cannot run on the profile is that cell's reason; the others go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from suite.core.errors import one_line
from suite.timing.hardware import HardwareProfile
from suite.timing.latency import measure_latencies
from suite.timing.ondevice.runner import output_check as device_output_check
from suite.timing.ondevice.timing_protocol import Protocol, measuring_state
from suite.timing.runtimes import EAGER, OPSET, Runtime, not_here

MEASURED, SKIPPED, FAILED = "measured", "skipped", "failed"


@dataclass
class Cell:
    """One model under one runtime on one profile: its timing, or why there is none."""

    runtime: str
    status: str  # measured | skipped | failed
    reason: str = ""
    record: dict = field(default_factory=dict)  # LatencyResult.to_dict() when measured
    check: dict | None = None  # the output check against eager
    settings: dict = field(default_factory=dict)
    declaration: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {**self.record, "runtime": self.runtime, "status": self.status, "reason": self.reason or None,
                "output_check": self.check, "runtime_provenance": {**self.declaration, "settings": self.settings,
                                                                   "opset": OPSET}}


def output_check(reference: np.ndarray, got) -> dict:
    """How far ``got`` is from eager's logits, and whether that is within the tolerance: the rule the device's
    runner applies (one copy, in the file shipped to devices)."""
    return {**device_output_check(reference, got), "input": "randn(seed 1)"}


def _convert(model: nn.Module, runtime: Runtime, example: torch.Tensor, reference: np.ndarray, threads: int,
             device: str, per_image_batch: int | None) -> tuple[nn.Module | None, Cell]:
    cell = Cell(runtime.name, SKIPPED, declaration=runtime.provenance())
    try:
        conv = runtime.prepare(model, example, threads, device)
    except Exception as exc:  # noqa: BLE001 - a model that does not convert is its cell's reason
        cell.status, cell.reason = FAILED, f"{runtime.name}: conversion failed: {one_line(exc, 300)}"
        return None, cell
    cell.settings = conv.settings
    try:
        with torch.inference_mode():
            got = conv.module(example)
            got = got.detach().cpu().numpy() if isinstance(got, torch.Tensor) else got
            cell.check = output_check(reference, got)
            if per_image_batch and per_image_batch != example.shape[0]:
                # a lazy compiler (torch.compile, a shape-specialised plugin) fails here, not inside the timing
                conv.module(torch.zeros(per_image_batch, *example.shape[1:], device=example.device))
    except Exception as exc:  # noqa: BLE001 - a converted model that does not run is its cell's reason
        cell.status, cell.reason = FAILED, f"{runtime.name}: run failed: {one_line(exc, 300)}"
        return None, cell
    if not cell.check["passed"]:
        c = cell.check
        why = c.get("why") or f"max abs diff {c['max_abs_diff']:.3g} > {c['allowed']:.3g}"
        cell.status, cell.reason = FAILED, f"{runtime.name}: outputs differ from eager ({why})"
        return None, cell
    return conv.module, cell


def measure_runtimes(model: nn.Module, profile: HardwareProfile, runtimes: list[Runtime], *, name: str,
                     input_size=(3, 32, 32), batch: int = 1, per_image_batch: int | None = 100,
                     threads: int | None = None, protocol: Protocol | None = None,
                     rounds: int = 4) -> dict[str, Cell]:
    """``model`` under each runtime on ``profile`` (a local or predicted profile), keyed by runtime name."""
    n_threads = threads or profile.threads
    input_size = tuple(int(s) for s in input_size)
    cells: dict[str, Cell] = {}
    modules: dict[str, nn.Module] = {}
    example = torch.randn(batch, *input_size, generator=torch.Generator().manual_seed(1)).to(profile.device)
    # converted and checked in the state they are timed in (threads, eval): a compiler guarding on it does not
    # compile again inside the timing
    with measuring_state(model, n_threads, torch.device(profile.device)), torch.inference_mode():
        reference = model(example).detach().cpu().numpy()
        for rt in runtimes:
            reason = not_here(rt, profile.device, native=profile.native, remote=profile.is_remote)
            if reason:
                cells[rt.name] = Cell(rt.name, SKIPPED, reason, declaration=rt.provenance())
                continue
            if rt.name == EAGER:
                module: nn.Module | None = model
                cell = Cell(rt.name, SKIPPED, declaration=rt.provenance(), check={"passed": True, "reference": True},
                            settings={"threads": n_threads, "device": profile.device})
            else:
                module, cell = _convert(model, rt, example, reference, n_threads, profile.device, per_image_batch)
            cells[rt.name] = cell
            if module is not None:
                modules[rt.name] = module
    timing = {"rounds": rounds, "input_size": input_size, "batch": batch, "threads": n_threads,
              "per_image_batch": per_image_batch, "protocol": protocol}
    try:
        results = measure_latencies(modules, profile, **timing) if modules else {}  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - one runtime failing mid-timing: each timed alone, the failing one says why
        results = {}
        for rt_name, module in modules.items():
            try:
                results.update(measure_latencies({rt_name: module}, profile, **timing))  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001
                cells[rt_name].status = FAILED
                cells[rt_name].reason = f"{rt_name}: timing failed: {one_line(exc, 300)}"
        for res in results.values():
            res.provenance["notes"] = [*res.provenance.get("notes", []),
                                       "timed alone: the interleaved timing failed under another runtime"]
    for rt_name, res in results.items():
        res.model = name
        res.provenance["runtime"] = rt_name
        cells[rt_name].record = res.to_dict()
        cells[rt_name].status = MEASURED
    return cells

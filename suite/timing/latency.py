"""Inference time on a hardware profile: measured with the suite's timing protocol, or predicted (rpi4 off a Pi).

The protocol itself (warm-up, pilot-sized run count, stability rule, median / p90 / IQR at batch 1 and the
per-image time at batch 100) is ``suite.timing.ondevice.timing_protocol``: a torch-only file that ``suite bundle`` ships
verbatim to a device, so a native run here and a bundle run on a Raspberry Pi time with the same code. This
module adds the hardware profile, the provenance and the prediction path.

On ``rpi4`` off a Raspberry Pi the latency is predicted by ``suite.timing.rpi4`` instead; the result then says
``predicted: true`` with its expected error, and never carries a measured spread. A remote profile
(``rpi4@host``, ``ssh://host``) is timed on that machine by ``suite.device.remote.measure_remote``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import nn

from suite.core.errors import SuiteError
from suite.timing.hardware import HardwareProfile, get_profile
from suite.timing.ondevice.timing_protocol import (  # noqa: F401 - re-exported: suite.timing.latency is the public entry point
    Clock,
    LatencyResult,
    LoadSample,
    LoadWindow,
    Measurement,
    Protocol,
    Sync,
    Timing,
    measuring_state,
    quantile,
    quantiles,
    sample_load,
    sync_for,
    time_calls,
    time_model,
    time_models,
)


def measure_latency(model: nn.Module, profile: HardwareProfile | str, *, input_size=(3, 32, 32),
                    batch: int = 1, threads: int | None = None, per_image_batch: int | None = 100,
                    model_name: str | None = None, protocol: Protocol | None = None,
                    clock: Clock = time.perf_counter, sync: Sync | None = None,
                    sampler: Callable[[], LoadSample] | None = None) -> LatencyResult:
    """Time ``model`` on ``profile`` (or predict it: rpi4 off a Pi); the protocol is ondevice/timing_protocol.py's.

    ``sync`` defaults to ``torch.cuda.synchronize`` on CUDA; tests pass fakes for ``clock``, ``sync`` and
    ``sampler`` (the machine-load reading behind ``busy``). The model's train/eval flags, device and the
    process's thread count are left as they were.
    """
    if isinstance(profile, str):
        profile = get_profile(profile, threads=threads)
    input_size = tuple(int(s) for s in input_size)
    name = model_name or getattr(model, "zoo_name", None) or type(model).__name__
    if profile.remote is not None:
        raise SuiteError(f"hardware {profile.remote.spec!r} is a remote device: it is timed there by "
                         "suite.device.remote.measure_remote (suite latency and suite run do that)")
    if not profile.native:
        return _predicted(model, profile, input_size, batch, name)
    protocol = protocol or Protocol()
    n_threads = threads or profile.threads
    m = time_model(model, input_size=input_size, batch=batch, threads=n_threads, per_image_batch=per_image_batch,
                   protocol=protocol, device=profile.device, clock=clock, sync=sync, sampler=sampler)
    return _measured(name, profile, m, protocol, input_size, batch, n_threads, clock)


def measure_latencies(models: dict[str, nn.Module], profile: HardwareProfile | str, *, rounds: int = 4,
                      input_size=(3, 32, 32), batch: int = 1, threads: int | None = None,
                      per_image_batch: int | None = 100, protocol: Protocol | None = None,
                      clock: Clock = time.perf_counter, sync: Sync | None = None,
                      sampler: Callable[[], LoadSample] | None = None) -> dict[str, LatencyResult]:
    """Time models that are compared with each other interleaved (rounds A, B, A, B, ...; see the protocol)."""
    if isinstance(profile, str):
        profile = get_profile(profile, threads=threads)
    input_size = tuple(int(s) for s in input_size)
    if profile.is_remote or not profile.native:
        return {name: measure_latency(m, profile, input_size=input_size, batch=batch, threads=threads,
                                      per_image_batch=per_image_batch, model_name=name, protocol=protocol)
                for name, m in models.items()}
    protocol = protocol or Protocol()
    n_threads = threads or profile.threads
    ms = time_models(models, rounds=rounds, input_size=input_size, batch=batch, threads=n_threads,
                     per_image_batch=per_image_batch, protocol=protocol, device=profile.device, clock=clock,
                     sync=sync, sampler=sampler)
    return {name: _measured(name, profile, m, protocol, input_size, batch, n_threads, clock,
                            interleaved_with=sorted(set(models) - {name}), rounds=rounds)
            for name, m in ms.items()}


def _measured(name: str, profile: HardwareProfile, m: Measurement, protocol: Protocol, input_size, batch: int,
              n_threads: int, clock: Clock, **extra) -> LatencyResult:
    prov = profile.provenance(threads=m.threads, protocol=protocol.to_dict(),
                              clock=getattr(clock, "__qualname__", repr(clock)),
                              load=m.load.to_dict() if m.load is not None else None, **extra)
    return LatencyResult(model=name, hardware=profile.name, device=str(torch.device(profile.device)),
                         input_size=input_size, batch=batch, threads=n_threads, provenance=prov,
                         **m.result_fields())


def _predicted(model: nn.Module, profile: HardwareProfile, input_size, batch: int,
               name: str) -> LatencyResult:
    from suite.timing import rpi4  # imported lazily: only predictions need the calibration

    pred = rpi4.predict(model, input_size, model_name=name)
    prov = profile.provenance(prediction=pred.method, calibration_source=pred.calibration["source"])
    if batch != 1:
        prov["notes"] = [*prov.get("notes", []), f"batch={batch} ignored: the prediction is a per-image time"]
    return LatencyResult(
        model=name, hardware=profile.name, device="rpi4 (predicted)", input_size=input_size, batch=batch,
        threads=profile.threads, median_ms=pred.ms, p90_ms=None, iqr_ms=None, runs=0, per_image_ms=pred.ms,
        per_image_batch=None, per_image_runs=0, per_image_iqr_ms=None, predicted=True,
        expected_error_pct=pred.expected_error_pct, calibration=pred.calibration, features=pred.features,
        held_out=pred.held_out, provenance=prov)

"""The mode probe: a few training steps of one model in each exact mode (suite.core.modes), on synthetic data at
the run's batch, input, device, precision and threads; the fastest mode is chosen, eager unless another is
``MARGIN`` faster. The rates are kept per host (suite.core.hostcache), so a second run does not probe again.

``time_steps`` is the one step timer: `suite doctor` times its modes with it too. The loop is the engine's
(the batch drawn on the device, autocast, deterministic or --fast kernels, channels-last, torch.compile with its
eager fallback); the clock is read after the device finished, never on a queued launch. torch.compile runs in a
child process (``time_steps_in_child``) stopped after its limit: a compiler cannot be interrupted inside one.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

import torch
import torch.nn.functional as F

import zoo
from suite.core import hostcache
from suite.core.errors import one_line
from suite.core.modes import EAGER, MODES, Mode, ModeChoice, ProbeSpec, choose
from suite.timing.ondevice.timing_protocol import LoadSample, LoadWindow, sample_load
from suite.train.engine import compile_or_eager, fast_kernels
from suite.train.support import autocast, deterministic, sync

CACHE_KIND = "train_modes"
STEPS = 5  # timed steps per mode and round, after two untimed ones
STEP_LIMIT_S = 3.0  # the timed steps of one mode's round stop here (at least one is timed)
COMPILE_LIMIT_S = 150.0  # torch.compile and its steps, in a child process stopped here
ESTIMATE_COMPILE_LIMIT_S = 60.0  # the estimate's: it should take seconds, a pinned compile costs it this at most


@dataclass
class Throughput:
    images_per_s: float
    loss: float
    compiled: bool | None = None  # a compiling mode: False when it fell back to eager
    steps: int = 0  # timed steps (fewer than asked when the time limit came first)
    setup_s: float | None = None  # building, compiling and the two warm-up steps: what every job pays once


@dataclass(frozen=True)
class _Synthetic:
    """What compile_or_eager reads of a data set: the image shape."""

    image_shape: tuple[int, int, int]


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def time_steps(spec: ProbeSpec, mode: str, *, steps: int = STEPS, max_s: float = math.inf) -> Throughput:
    """Images/s of up to ``steps`` timed training steps (after two untimed ones) of ``spec`` in ``mode``."""
    threads = torch.get_num_threads()
    try:
        if spec.threads:
            torch.set_num_threads(spec.threads)
        return _steps(spec, MODES[mode], steps, max_s)
    finally:
        torch.set_num_threads(threads)


def _steps(spec: ProbeSpec, chosen: Mode, steps: int, max_s: float) -> Throughput:
    begin = time.perf_counter()
    device = _device(spec.device)
    torch.manual_seed(0)
    net = zoo.create_model(spec.model, num_classes=spec.num_classes).to(device).train()
    if chosen.channels_last:
        net.to(memory_format=torch.channels_last)
    compiled = (compile_or_eager(net, spec.model, _Synthetic(spec.shape), device, chosen.channels_last)
                if chosen.compile else None)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda") if spec.precision == "fp16" else None
    batch = spec.batch
    x = torch.rand(batch * 4, *spec.shape, device=device)  # moved once: batches are drawn on the device
    if chosen.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, spec.num_classes, (batch * 4,), device=device)
    loss_sum = torch.zeros((), device=device)
    timed = 0
    with fast_kernels() if spec.fast else deterministic(device):
        for i in range(steps + 2):
            if i == 2:
                sync(device)  # the untimed warm-up steps are done before the clock starts
                loss_sum.zero_()
                start = time.perf_counter()
            elif i > 2 and time.perf_counter() - start > max_s:
                break  # queued launches are drained below, before the clock is read
            j = (i % 4) * batch
            with autocast(spec.precision, device):
                loss = F.cross_entropy(net(x[j:j + batch]), y[j:j + batch])
            opt.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()
            loss_sum += loss.detach().float()
            timed += i >= 2
        sync(device)  # every queued step has run before the clock is read
        seconds = time.perf_counter() - start
    return Throughput(timed * batch / seconds, float(loss_sum.item()) / timed, compiled, timed, start - begin)


def _child(conn, spec: ProbeSpec, mode: str, steps: int, max_s: float) -> None:
    try:
        from zoo.user import install

        install(spec.models_from)  # a fresh interpreter: the user's models are loaded from their bytes
        conn.send(asdict(time_steps(spec, mode, steps=steps, max_s=max_s)))
    except Exception as exc:  # noqa: BLE001 - the parent turns it into this mode's failure
        conn.send({"error": one_line(exc, 300)})
    finally:
        conn.close()


def time_steps_in_child(spec: ProbeSpec, mode: str, *, steps: int = STEPS, max_s: float = math.inf,
                        limit_s: float = COMPILE_LIMIT_S) -> Throughput | None:
    """``time_steps`` in a child process stopped after ``limit_s`` (None: it was stopped).

    torch.compile cannot be interrupted inside a process; a child can be, so a compiler that takes minutes
    costs ``limit_s`` at most. The child gets the caller's thread count unless ``spec`` names one.
    """
    if spec.threads is None:
        spec = replace(spec, threads=torch.get_num_threads())
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked torch threads or CUDA state
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, spec, mode, steps, max_s), daemon=True)
    child.start()
    send.close()
    try:
        answer = receive.recv() if receive.poll(limit_s) else None
    except EOFError:
        answer = {"error": f"the compiling process ended without an answer (exit {child.exitcode})"}
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receive.close()
    if answer is None:
        return None
    if "error" in answer:
        raise RuntimeError(answer["error"])
    return Throughput(**answer)


Timer = Callable[[ProbeSpec, str], Throughput | str]  # a mode's rate, or why it has none


def time_mode(spec: ProbeSpec, mode: str) -> Throughput | str:
    """One mode's rate for the probe (a compiling mode in a child with a time limit), or why there is none."""
    try:
        if not MODES[mode].compile:
            return time_steps(spec, mode, max_s=STEP_LIMIT_S)
        result = time_steps_in_child(spec, mode, max_s=STEP_LIMIT_S, limit_s=COMPILE_LIMIT_S)
    except Exception as exc:  # noqa: BLE001 - a mode that fails is not chosen; the run says why
        return one_line(exc, 200)
    if result is None:
        return f"torch.compile did not finish within {COMPILE_LIMIT_S:.0f} s here"
    if result.compiled is False:
        return "the model does not compile (it would train eagerly)"
    return result


def cache_key(spec: ProbeSpec) -> str:
    device = _device(spec.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    threads = spec.threads or torch.get_num_threads()
    return hostcache.host_key(spec.model, name, spec.precision, f"batch={spec.batch}",
                              "x".join(map(str, spec.shape)), f"classes={spec.num_classes}", f"threads={threads}",
                              f"fast={spec.fast}", f"torch={torch.__version__}",
                              *(src.identity()["sha256"] for src in spec.models_from))  # an edited file: again


def _cached(value: object) -> tuple[dict[str, float | None], dict[str, str], str, dict[str, float]] | None:
    """A cache entry's rates, notes, date and setup seconds; None for anything else (a damaged entry is a miss)."""
    if not isinstance(value, dict):
        return None
    rates, notes, date = value.get("images_per_s"), value.get("notes", {}), value.get("date")
    if not isinstance(rates, dict) or set(rates) != set(MODES) or not isinstance(notes, dict) \
            or not isinstance(date, str):
        return None
    if not all(r is None or (isinstance(r, int | float) and not isinstance(r, bool) and r > 0)
               for r in rates.values()):
        return None
    setup = value.get("setup_s")
    setup = setup if isinstance(setup, dict) else {}
    kept_setup = {str(m): float(v) for m, v in setup.items()
                  if m in MODES and isinstance(v, int | float) and not isinstance(v, bool) and v >= 0}
    return ({m: None if r is None else float(r) for m, r in rates.items()},
            {str(k): str(v) for k, v in notes.items()}, date, kept_setup)


def probe(spec: ProbeSpec, *, timer: Timer = time_mode,
          sampler: Callable[[], LoadSample] = sample_load) -> ModeChoice:
    """The fastest exact mode of ``spec`` on this host, from the host cache when it holds this measurement.

    The machine's load is read around each round timed in this process (``sampler``): rates measured while other
    processes used the CPU decide nothing (the model trains eagerly) and are not kept for later runs.
    """
    from zoo.user import install

    install(spec.models_from)
    key = cache_key(spec)
    found = _cached(hostcache.read(CACHE_KIND, key))
    if found is not None:
        kept, why, date, setup_kept = found
        return ModeChoice(choose(kept), f"probe cached {date}", kept, why, setup_kept)
    rates: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    setup: dict[str, float] = {}
    # The modes timed in this process run twice, forwards then backwards (A B ... B A), each keeping its faster
    # round: the load of other processes and the first mode's warm-up only ever slow a round down. A compiling
    # mode runs once, in between (its compilation costs minutes on a CPU).
    here = [m for m in MODES if not MODES[m].compile]
    windows: list[LoadWindow] = []
    for mode in [*here, *(m for m in MODES if MODES[m].compile), *reversed(here)]:
        before = sampler()
        result = timer(spec, mode)
        if not MODES[mode].compile:  # a compiling child's own CPU time would read as another process's
            windows.append(LoadWindow.between(before, sampler()))
        if isinstance(result, str):
            notes.setdefault(mode, result)
            rates.setdefault(mode, None)
        elif not math.isfinite(result.loss):
            notes.setdefault(mode, f"loss {result.loss}")
            rates.setdefault(mode, None)
        else:
            rates[mode] = max(rates.get(mode) or 0.0, result.images_per_s)
            if result.setup_s is not None:
                setup[mode] = min(setup.get(mode, math.inf), result.setup_s)
            notes.pop(mode, None)
    date = datetime.now(UTC).date().isoformat()
    load = LoadWindow.combine(windows) if windows else None
    if load is not None and load.busy:
        return ModeChoice(EAGER, f"probe {date} on a busy machine ({load.describe()}): decides nothing, not kept",
                          rates, notes, setup, busy=True)
    hostcache.write(CACHE_KIND, key, {"images_per_s": rates, "notes": notes, "date": date, "setup_s": setup})
    return ModeChoice(choose(rates), f"probe {date}", rates, notes, setup)


def probe_dict(spec: ProbeSpec) -> dict:
    """``probe`` as a plain dict: what an executor's worker sends back to the driver."""
    return probe(spec).to_dict()


def seconds_per_image(spec: ProbeSpec, mode: str) -> float:
    """The estimate's step time in ``mode``: a compiling mode that does not finish in time is timed eagerly in
    its memory format (compiling only ever shortens a step)."""
    if MODES[mode].compile:
        try:
            result = time_steps_in_child(spec, mode, steps=2, limit_s=ESTIMATE_COMPILE_LIMIT_S)
        except RuntimeError:
            result = None
        if result is not None:
            return 1.0 / result.images_per_s
        mode = "channels_last" if MODES[mode].channels_last else "eager"
    return 1.0 / time_steps(spec, mode, steps=2).images_per_s

"""CPU job slots of ``--executor local``: ``--jobs N|auto`` jobs at once, each in a worker process with its share
of the cores, pinned to its own core set where the OS allows.

A small CNN at batch 100 on 32x32 images does not scale across cores: k one-core trainings side by side beat one
k-core training. ``auto`` picks the slot count from a short measured scaling probe (``Backends.scaling_probe``,
cached per host); on a CUDA device it means 1. The threads per slot change the trained weights, so they are part
of the run's identity whenever ``--jobs`` is given or more than one slot runs (``identity``). Torch-free: the
probe itself runs in subprocesses (``suite.run.scaling_probe``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from suite.core.errors import SuiteError

AUTO = "auto"
# A slot count must beat the fewer-slot choice by this much to be chosen: the probe is a few steps, so smaller
# differences are noise (ties go to fewer slots).
TIE_MARGIN = 1.05
MAX_PROBED = 5  # slot counts probed at most (1, 2, 4, 8, ... and the core count)



@dataclass(frozen=True)
class ProbeResult:
    """Aggregate training images/s per slot count; ``busy`` says how loaded the machine was when that made the
    figures unreliable."""

    rates: dict[int, float]
    busy: str | None = None


Probe = Callable[[Sequence[tuple[int, int]], Sequence[int], bool], ProbeResult]


def usable_cores() -> list[int]:
    """The CPU ids this process may run on (its affinity mask), else 0..cpu_count-1."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def _probe_cache() -> str:
    from suite.core.hostcache import cache_root

    from .scaling_probe import CACHE_KIND

    return str(cache_root() / f"{CACHE_KIND}.json")


def can_pin() -> bool:
    """Whether a process may set its CPU affinity here (Linux; not every container allows it)."""
    if not hasattr(os, "sched_setaffinity"):
        return False
    try:
        os.sched_setaffinity(0, os.sched_getaffinity(0))  # a no-op that fails where pinning is refused
    except OSError:
        return False
    return True


def default_threads(count: int) -> int:
    """Intra-op threads per slot: the physical cores shared out (one per physical core for a single slot)."""
    from suite.timing.hardware import physical_cores

    return max(1, physical_cores() // max(count, 1))


@dataclass(frozen=True)
class JobSlots:
    """How many jobs train at once on this machine's CPU, with how many threads each, pinned to which cores."""

    count: int = 1
    threads: int | None = None  # per slot; None: one slot in the driver, torch's count set by the run (api.run)
    cores: tuple[tuple[int, ...], ...] = ()  # per slot, the cores it is pinned to; () unpinned
    origin: str = "default"  # where the count came from: "--jobs", "smoke preset", "auto: probe measured ..."
    explicit: bool = False  # --jobs was given: the threads name the run even for one slot
    speedups: dict[int, float] = field(default_factory=dict)  # slots -> aggregate images/s over one slot's
    unpinned_reason: str | None = None  # why the slots are not pinned (None: pinned, or one slot)

    @property
    def pooled(self) -> bool:
        """Jobs run in worker processes (more than one slot); one slot runs in the driver."""
        return self.count > 1

    def identity(self) -> dict:
        """What the run's name takes from the slots: the threads per job, when chosen (not the default)."""
        if self.explicit or self.count > 1:
            return {"threads_per_job": self.threads}
        return {}

    def names(self) -> list[str]:
        return [f"cpu{i}" for i in range(self.count)]

    def describe(self) -> dict:
        return {"jobs": self.count, "threads_per_job": self.threads, "origin": self.origin,
                "slot_specs": [{"name": n, "threads": self.threads,
                                "cores": list(self.cores[i]) if self.cores else None}
                               for i, n in enumerate(self.names())],
                "pinned": bool(self.cores), **({"unpinned": self.unpinned_reason} if self.unpinned_reason else {}),
                **({"probe_speedups": {str(k): round(v, 3) for k, v in self.speedups.items()}}
                   if self.speedups else {})}

    def text(self) -> str:
        """The banner's words: slots, threads per slot, pinning, and where the choice came from."""
        if not self.pooled:
            threads = f"{self.threads} thread(s)" if self.threads else "one thread per physical core"
            return f"1 slot (in this process, {threads}; {self.origin})"
        if self.cores:
            where = "pinned to cores " + ", ".join("-".join(map(str, _span(c))) for c in self.cores)
        else:
            where = f"unpinned ({self.unpinned_reason})"
        return f"{self.count} slots x {self.threads} thread(s), {where} ({self.origin})"


def _span(cores: tuple[int, ...]) -> tuple[int, ...]:
    """(0, 1, 2, 3) -> (0, 3) for the banner; a single core or a gap keeps every id."""
    if len(cores) > 1 and list(cores) == list(range(cores[0], cores[-1] + 1)):
        return (cores[0], cores[-1])
    return cores if len(cores) == 1 else tuple(cores)


def parse_jobs(value: str | int | None) -> int | str | None:
    """``--jobs`` as given: a positive integer, ``auto``, or None (the preset's); anything else one line."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text == AUTO:
        return AUTO
    try:
        number = int(text)
    except ValueError:
        raise SuiteError(f"bad --jobs {value!r}; expected a positive integer or auto") from None
    if number < 1:
        raise SuiteError(f"--jobs must be a positive integer or auto, got {number}")
    return number


def check_jobs(jobs: str | int | None, *, executor: str, threads: int | None) -> None:
    """Bad ``--jobs`` input, one line, before anything is read: the value, the executor, the threads that fit."""
    given = parse_jobs(jobs)
    if given is None:
        return
    cores = len(usable_cores())
    if executor == "gpus":
        raise SuiteError("--jobs is for --executor local; with --executor gpus use --jobs-per-gpu (jobs sharing "
                         "one GPU)")
    if executor == "ray":
        raise SuiteError("--jobs is for --executor local; Ray places jobs by its own resources (--threads sets "
                         "the CPUs each job asks for)")
    if given == AUTO:
        if threads is not None and threads > cores:
            raise SuiteError(f"--threads {threads} is more than the {cores} core(s) this process may use")
        return
    assert isinstance(given, int)
    if given > cores:
        raise SuiteError(f"--jobs {given} is more than the {cores} core(s) this process may use")
    if threads is not None and given * threads > cores:
        raise SuiteError(f"--jobs {given} x --threads {threads} = {given * threads} threads on {cores} core(s); "
                         f"give at most --threads {cores // given}, or leave --threads out")


def check_jobs_device(jobs: str | int | None, executor: str, device: str) -> None:
    """More than one CPU job slot on a run that trains on a GPU: one line (several jobs per GPU: gpus)."""
    given = parse_jobs(jobs)
    if executor == "local" and isinstance(given, int) and given > 1 and device != "cpu":
        raise SuiteError(f"--jobs {given} trains on CPU cores, and this run trains on {device}; for several jobs "
                         "per GPU use --executor gpus --jobs-per-gpu (or --device cpu)")


def candidates(cores: int, threads: int | None) -> list[int]:
    """Slot counts the probe compares: 1, 2, 4, ... and the core count (at most MAX_PROBED), those that fit."""
    counts = [1]
    while counts[-1] * 2 <= cores:
        counts.append(counts[-1] * 2)
    if counts[-1] != cores:
        counts.append(cores)
    fit = [k for k in counts if threads is None or k * threads <= cores]
    return fit[:MAX_PROBED - 1] + fit[-1:] if len(fit) > MAX_PROBED else fit


def layout(count: int, cores: Sequence[int], pin: bool) -> tuple[tuple[int, ...], ...]:
    """Slot i's core set: the usable cores cut into ``count`` equal runs (the rest left idle); () unpinned."""
    if count <= 1 or not pin:
        return ()
    per = len(cores) // count
    return tuple(tuple(cores[i * per:(i + 1) * per]) for i in range(count))


def choose(speedups: dict[int, float]) -> int:
    """The slot count with the best aggregate images/s; one within TIE_MARGIN of fewer slots loses to them."""
    best = 1
    for k in sorted(speedups):
        if speedups[k] > speedups.get(best, 1.0) * TIE_MARGIN:
            best = k
    return best


def measured_speedups(probe: Probe | None, cores: Sequence[int], threads: int | None,
                      pin: bool) -> tuple[dict[int, float], str | None]:
    """Aggregate images/s of k slots over one slot of all threads, for each probed k ({} without a probe), and
    the probe's busy note."""
    if probe is None:
        return {}, None
    counts = candidates(len(cores), threads)
    if len(counts) < 2:
        return {1: 1.0}, None
    rounds = [(k, threads or default_threads(k)) for k in counts]
    rounds[0] = (1, default_threads(1))  # the baseline: one job in the driver, as --jobs 1 trains
    result = probe(rounds, cores, pin)
    base = result.rates.get(1)
    if not base:
        return {}, result.busy
    return {k: result.rates[k] / base for k in counts if result.rates.get(k)}, result.busy


def resolve(jobs: str | int | None, *, preset_jobs: str | int, preset_name: str, executor: str, device: str,
            threads: int | None, probe: Probe | None) -> JobSlots:
    """The slots a run uses: an explicit --jobs wins over the preset's; ``auto`` asks the (cached) probe."""
    if executor != "local":
        return JobSlots()
    given = parse_jobs(jobs)
    wanted = given if given is not None else parse_jobs(preset_jobs)
    origin = "--jobs" if given is not None else f"{preset_name} preset"
    cores = usable_cores()
    pin = can_pin()
    unpinned = None if pin else "this OS does not let a process choose its cores"
    speedups: dict[int, float] = {}
    if wanted == AUTO:
        if device != "cpu":
            return JobSlots(1, threads or default_threads(1) if given is not None else threads,
                            origin=f"auto: 1 on {device} (several jobs per GPU: --executor gpus "
                                            "--jobs-per-gpu)", explicit=given is not None)
        speedups, busy = measured_speedups(probe, cores, threads, pin)
        count = choose(speedups)
        if not speedups:
            origin = "auto: no scaling probe figure (none here, or it failed), 1 slot"
        elif count > 1:
            origin = f"auto: probe measured {speedups[count]:.2f}x for {count} slots"
        else:
            best = max((k for k in speedups if k > 1), key=speedups.__getitem__, default=None)
            origin = ("auto: probe measured " + (f"{speedups[best]:.2f}x for {best} slots" if best else "one core")
                      + ", 1 slot")
        if busy:
            origin += (f"; measured while the machine was busy ({busy}): remove {_probe_cache()} to measure "
                       "again")
    else:
        assert isinstance(wanted, int)
        count = wanted if device == "cpu" else 1  # a preset's count on a GPU run (an explicit one is refused)
        count = min(count, len(cores)) if given is None else count  # a preset's figure fits the machine
    per = threads or default_threads(count)
    return JobSlots(count, per if (count > 1 or given is not None or threads) else None,
                    layout(count, cores, pin), origin, given is not None, speedups,
                    unpinned if count > 1 else None)

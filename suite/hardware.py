"""Hardware profiles: where a latency is measured (cpu, gpu) or predicted (rpi4 off a Raspberry Pi 4).

``get_profile("cpu")`` is this machine's CPU with one thread per physical core, ``"gpu"`` the current CUDA
device, ``"rpi4"`` a native measurement on a Raspberry Pi 4 (4 threads, fp32, batch 1) or, anywhere else, a
prediction by ``suite.rpi4``. Detection reads files whose paths are arguments, so tests can fake them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from suite.errors import SuiteError, unknown
from suite.provenance import cpu_model, device_name, provenance

PROFILE_NAMES = ("cpu", "gpu", "rpi4")
CPUINFO = Path("/proc/cpuinfo")
DEVICE_TREE_MODEL = Path("/proc/device-tree/model")
CPU0_FREQ = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")
RPI4_THREADS = 4  # the Pi 4's four Cortex-A72 cores: torch's default there, presumably the paper's setting


@dataclass(frozen=True)
class HardwareProfile:
    name: str  # "cpu" | "gpu" | "rpi4"
    device: str  # torch device the model runs on for a native measurement
    threads: int  # intra-op threads used while measuring (torch.set_num_threads)
    native: bool  # False: the latency is predicted (rpi4 off a Pi), never measured
    device_name: str  # CPU model, GPU name, or the Pi's model string
    clock_mhz: float | None = None  # current clock of cpu0 where readable
    pi_model: str | None = None  # /proc/device-tree/model on a Raspberry Pi
    notes: tuple[str, ...] = field(default_factory=tuple)

    def provenance(self, **extra) -> dict:
        """suite.provenance.provenance() plus what this profile adds (call it while the threads are set)."""
        record = provenance(self.device, hardware=self.name, hardware_device=self.device_name,
                            measured_natively=self.native, clock_mhz=self.clock_mhz)
        if self.pi_model:
            record["pi_model"] = self.pi_model
        if self.notes:
            record["notes"] = list(self.notes)
        record.update(extra)
        return record


def physical_cores(cpuinfo: Path = CPUINFO) -> int:
    """Physical cores available to this process: distinct (physical id, core id) among the allowed CPUs.

    Hyper-threads share a core's execution units, so one thread per physical core is the stable setting.
    Falls back to the affinity mask size where /proc/cpuinfo has no topology (ARM boards, containers).
    """
    try:
        allowed = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        allowed = set(range(os.cpu_count() or 1))
    cores: set[tuple[str, str]] = set()
    try:
        proc, phys, core = None, "0", None
        for line in [*cpuinfo.read_text().splitlines(), ""]:
            key, _, value = (s.strip() for s in line.partition(":"))
            if key == "processor":
                proc = int(value)
            elif key == "physical id":
                phys = value
            elif key == "core id":
                core = value
            elif not line.strip() and proc is not None:  # blank line closes one processor block
                if core is not None and proc in allowed:
                    cores.add((phys, core))
                proc, phys, core = None, "0", None
    except (OSError, ValueError):
        cores = set()
    return max(1, min(len(cores), len(allowed)) if cores else len(allowed))


def cpu_clock_mhz(path: Path = CPU0_FREQ) -> float | None:
    try:
        return int(path.read_text().strip()) / 1000.0  # the file is in kHz
    except (OSError, ValueError):
        return None


def raspberry_pi4_model(path: Path = DEVICE_TREE_MODEL) -> str | None:
    """The device-tree model string if this is a Raspberry Pi 4, else None."""
    try:
        model = path.read_bytes().rstrip(b"\x00").decode(errors="replace").strip()
    except OSError:
        return None
    return model if "Raspberry Pi 4" in model else None


def get_profile(name: str, *, threads: int | None = None, device_tree: Path = DEVICE_TREE_MODEL,
                cpuinfo: Path = CPUINFO) -> HardwareProfile:
    """The profile called ``name``; ``threads`` overrides its thread count (not for a predicted rpi4)."""
    key = str(name).strip().lower()
    if threads is not None and threads < 1:
        raise SuiteError(f"--threads must be a positive integer, got {threads}")
    if key == "cpu":
        return HardwareProfile("cpu", "cpu", threads or physical_cores(cpuinfo), True, cpu_model(),
                               cpu_clock_mhz())
    if key == "gpu":
        if not torch.cuda.is_available():
            raise SuiteError("hardware 'gpu' needs a CUDA device, and torch sees none on this machine "
                             f"(torch {torch.__version__}, CUDA build {torch.version.cuda or 'none'})")
        device = f"cuda:{torch.cuda.current_device()}"
        return HardwareProfile("gpu", device, threads or physical_cores(cpuinfo), True, device_name(device))
    if key == "rpi4":
        pi = raspberry_pi4_model(device_tree)
        if pi:
            return HardwareProfile("rpi4", "cpu", threads or RPI4_THREADS, True, pi, cpu_clock_mhz(),
                                   pi_model=pi)
        notes = ("not a Raspberry Pi 4: latency predicted by suite.rpi4 from the model's features",)
        if threads is not None and threads != RPI4_THREADS:
            notes += (f"threads={threads} ignored: the prediction is calibrated on the published Pi 4 runs",)
        return HardwareProfile("rpi4", "cpu", RPI4_THREADS, False, "Raspberry Pi 4 Model B (predicted)",
                               notes=notes)
    raise unknown("hardware", name, PROFILE_NAMES)


def parse_profiles(text: str, *, threads: int | None = None, **kw) -> list[HardwareProfile]:
    """'cpu,rpi4' -> [cpu profile, rpi4 profile] (duplicates dropped, order kept)."""
    names = [n.strip().lower() for n in str(text).split(",") if n.strip()]
    if not names:
        raise SuiteError(f"no hardware named in {text!r}; choose from {', '.join(PROFILE_NAMES)}")
    return [get_profile(n, threads=threads, **kw) for n in dict.fromkeys(names)]

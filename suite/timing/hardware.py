"""Hardware profiles: where a latency is measured (cpu, gpu, a remote device) or predicted (rpi4 off a Pi 4).

``get_profile("cpu")`` is this machine's CPU with one thread per physical core, ``"gpu"`` the current CUDA
device, ``"rpi4"`` a native measurement on a Raspberry Pi 4 (4 threads, fp32, batch 1) or, anywhere else, a
prediction by ``suite.timing.rpi4``. ``"rpi4@[user@]host[:port]"`` and ``"ssh://[user@]host[:port]"`` are remote
profiles (``remote`` set): timed on that machine over SSH by ``suite.device.remote``, never predicted; an
``rpi4@`` target must turn out to be a Raspberry Pi 4. Detection reads files whose paths are arguments, so
tests can fake them.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

import torch

from suite.core.errors import SuiteError, unknown
from suite.core.provenance import cpu_model, device_name, provenance
from suite.timing.ondevice import device_identify as identify
from suite.timing.profiles import PROFILES, REMOTE_FORMS, Timing, board_labels, local_names

CPUINFO = Path("/proc/cpuinfo")
DEVICE_TREE_MODEL = Path("/proc/device-tree/model")
CPU0_FREQ = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")
RPI4_THREADS = PROFILES["rpi4"].threads or 4


@dataclass(frozen=True)
class RemoteTarget:
    """A machine reached over SSH: ``user``/``port`` None leave them to ~/.ssh/config."""

    spec: str  # as typed: "rpi4@pi@raspberrypi.local:2222", "ssh://127.0.0.1:2222"
    host: str
    user: str | None = None
    port: int | None = None
    expect: str | None = None  # "rpi4": the device must identify as a Raspberry Pi 4

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host

    @property
    def display(self) -> str:
        host = f"[{self.host}]" if ":" in self.host and self.port is not None else self.host
        return (f"{self.user}@" if self.user else "") + host + (f":{self.port}" if self.port is not None else "")


@dataclass(frozen=True)
class HardwareProfile:
    name: str  # "cpu" | "gpu" | "rpi4" | a remote device's label ("remote-<host>" until it identifies itself)
    device: str  # torch device the model runs on for a native measurement
    threads: int  # intra-op threads used while measuring (torch.set_num_threads)
    native: bool  # False: the latency is predicted (rpi4 off a Pi), never measured
    device_name: str  # CPU model, GPU name, or the Pi's model string
    clock_mhz: float | None = None  # current clock of cpu0 where readable
    pi_model: str | None = None  # /proc/device-tree/model on a Raspberry Pi
    notes: tuple[str, ...] = field(default_factory=tuple)
    remote: RemoteTarget | None = None  # set: measured on that machine over SSH (native is then False)

    @property
    def is_remote(self) -> bool:
        return self.remote is not None

    def provenance(self, **extra) -> dict:
        """suite.core.provenance.provenance() plus what this profile adds (call it while the threads are set)."""
        record = provenance(self.device, hardware=self.name, hardware_device=self.device_name,
                            measured_natively=self.native, clock_mhz=self.clock_mhz)
        if self.native:
            record.update(source="native", host=socket.gethostname())
        if self.pi_model:
            record["pi_model"] = self.pi_model
            record["device_model"] = self.pi_model
        if self.notes:
            record["notes"] = list(self.notes)
        record.update(extra)
        return record


def physical_cores(cpuinfo: Path = CPUINFO) -> int:
    """Physical cores available to this process (the rule is device_identify's, shared with the bundle)."""
    try:
        allowed = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        allowed = None
    return identify.physical_cores(str(cpuinfo), allowed=allowed)


def cpu_clock_mhz(path: Path = CPU0_FREQ) -> float | None:
    try:
        return int(path.read_text().strip()) / 1000.0  # the file is in kHz
    except (OSError, ValueError):
        return None


def raspberry_pi4_model(path: Path = DEVICE_TREE_MODEL) -> str | None:
    """The device-tree model string if this is a Raspberry Pi 4 (not a Pi 400 or CM4), else None."""
    model = identify.read_device_model(str(path))
    return model if identify.pi_label(model) == "rpi4" else None


# What ssh or a shell would read as an option or a metacharacter: never part of a host or user name.
_UNSAFE_SSH = set(";$`|&'\"\\<>(){}*?!#~")


def _check_ssh_word(text: str, what: str, value: str | None) -> None:
    """Reject a host or user that ssh would take for an option (``-oProxyCommand=...``) or a shell would expand."""
    if value is None:
        return
    bad = sorted({c for c in value if c in _UNSAFE_SSH or c.isspace() or not c.isprintable()})
    if value.startswith("-") or bad or not value:
        why = "begins with '-'" if value.startswith("-") else f"holds {' '.join(repr(c) for c in bad)}"
        raise SuiteError(f"bad remote {text!r}: the {what} {why}; a {what} is a plain name "
                         f"(write {' or '.join(REMOTE_FORMS)})")


def parse_remote(text: str) -> RemoteTarget | None:
    """'rpi4@[user@]host[:port]' or 'ssh://[user@]host[:port]' -> RemoteTarget; None for a local name."""
    text = str(text).strip()
    expect = None
    if text.lower().startswith("ssh://"):
        rest = text[len("ssh://"):].rstrip("/")
    else:
        label, sep, rest = text.partition("@")
        if not sep or label.lower() not in board_labels():
            if sep:
                raise SuiteError(f"bad hardware {text!r}: a remote device is written {' or '.join(REMOTE_FORMS)}"
                                 f" ({', '.join(board_labels())} before the @)")
            return None
        expect = label.lower()
    login, sep, hostport = rest.rpartition("@")
    user = login if sep else None
    m = re.fullmatch(r"\[(?P<h6>[0-9A-Fa-f:.]+)\](?::(?P<p6>\d+))?|(?P<h>[^:@/\s\[\]]+)(?::(?P<p>\d*))?", hostport)
    if not m or (user is not None and not re.fullmatch(r"[^@:/\s]+", user)):
        raise SuiteError(f"bad remote {text!r}; write {' or '.join(REMOTE_FORMS)}")
    host = m.group("h6") or m.group("h")
    for what, value in (("host", host), ("user", user)):
        _check_ssh_word(text, what, value)
    port_text = m.group("p6") or m.group("p")
    port = None
    if port_text is not None:
        if not port_text or not 0 < int(port_text) < 65536:
            raise SuiteError(f"bad port in {text!r}; a port is a number from 1 to 65535")
        port = int(port_text)
    return RemoteTarget(text, host, user, port, expect)


def remote_profile(target: RemoteTarget, *, threads: int | None = None) -> HardwareProfile:
    """The profile of a remote device; its name is final for LABEL@host, provisional for ssh:// (the device's
    hostname decides: suite.device.remote.identify_remote tells it before any timing)."""
    name = target.expect or identify.host_label(target.host)
    fixed = PROFILES[target.expect].threads if target.expect else None
    threads = threads or fixed or 0  # 0: the device's physical cores
    return HardwareProfile(name, "cpu", threads, False, f"remote {target.display}", remote=target)


def get_profile(name: str, *, threads: int | None = None, device_tree: Path = DEVICE_TREE_MODEL,
                cpuinfo: Path = CPUINFO) -> HardwareProfile:
    """The profile called ``name``; ``threads`` overrides its thread count (not for a predicted rpi4)."""
    key = str(name).strip().lower()
    if threads is not None and threads < 1:
        raise SuiteError(f"--threads must be a positive integer, got {threads}")
    target = parse_remote(name)
    if target is not None:
        return remote_profile(target, threads=threads)
    spec = PROFILES.get(key)
    timing = spec.timing if spec is not None else None
    if timing is Timing.LOCAL_CPU:
        return HardwareProfile(key, "cpu", threads or physical_cores(cpuinfo), True, cpu_model(), cpu_clock_mhz())
    if timing is Timing.CUDA:
        if not torch.cuda.is_available():
            raise SuiteError(f"hardware {key!r} needs a CUDA device, and torch sees none on this machine "
                             f"(torch {torch.__version__}, CUDA build {torch.version.cuda or 'none'})")
        device = f"cuda:{torch.cuda.current_device()}"
        return HardwareProfile(key, device, threads or physical_cores(cpuinfo), True, device_name(device))
    if timing is Timing.PREDICTED:
        return _board_or_prediction(key, threads, device_tree)
    err = unknown("hardware", name, local_names())
    raise SuiteError(f"{err} (a remote device is written {' or '.join(REMOTE_FORMS)})")


def _board_or_prediction(key: str, threads: int | None, device_tree: Path) -> HardwareProfile:
    """Measured natively on the board itself, else predicted (the one predictor there is: the Pi 4's)."""
    fixed = PROFILES[key].threads or 1
    model = identify.read_device_model(str(device_tree))
    if model is not None and identify.pi_label(model) == key:
        return HardwareProfile(key, "cpu", threads or fixed, True, model, cpu_clock_mhz(), pi_model=model)
    board = PROFILES[key].board
    notes: tuple[str, ...] = (f"not a {board}: latency predicted by suite.timing.rpi4 from the model's features",)
    if threads is not None and threads != fixed:
        notes += (f"threads={threads} ignored: the prediction is calibrated on the published {board} runs",)
    return HardwareProfile(key, "cpu", fixed, False, f"{board} Model B (predicted)", notes=notes)


def parse_profiles(text: str, *, threads: int | None = None, **kw) -> list[HardwareProfile]:
    """'cpu,rpi4,ssh://pi@host:22' -> [cpu, rpi4, remote profile] (duplicates dropped, order kept).

    Local names are case-insensitive; a remote's user and host are kept as typed.
    """
    names = [n.strip() if parse_remote(n) else n.strip().lower() for n in str(text).split(",") if n.strip()]
    if not names:
        raise SuiteError(f"no hardware named in {text!r}; choose from {', '.join(local_names())}")
    return [get_profile(n, threads=threads, **kw) for n in dict.fromkeys(names)]

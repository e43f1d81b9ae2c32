"""The hardware profiles, one declaration each: every part of the suite that names a device reads it from here.

A profile says how its latency is obtained (``Timing``), what the report calls it, where it sorts, the paper
columns that print its times, and what to tell a user whose machine lacks it. Adding a profile is one
``HardwareSpec(...)`` in ``PROFILES`` (or ``register_profile`` for a profile outside the suite); how a local
profile is measured is ``suite.timing.hardware``'s business, which dispatches on ``timing``.

This module imports nothing heavy: the tables, the report and the claims read it without loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from zoo.registry import KeyedRegistry


class Timing(Enum):
    LOCAL_CPU = "local cpu"  # this machine's CPU
    CUDA = "cuda"  # this machine's current CUDA device
    REMOTE_DEVICE = "remote device"  # measured on the board itself: natively there, a bundle or over SSH
    PREDICTED = "predicted"  # a board measured on itself, and predicted (suite.timing.rpi4) anywhere else


@dataclass(frozen=True)
class PublishedTime:
    """A paper column that prints this profile's times (its key in the published CSVs)."""

    key: str  # "rpi4_time_ms"
    unit: str = "ms/img"
    scale: float = 1.0  # published unit per measured ms (a time printed in s: 1e-3)
    digits: int = 2


@dataclass(frozen=True)
class HardwareSpec:
    name: str  # as typed in --hardware and stored in results lines ("rpi4")
    label: str  # what the report calls it ("RPi 4")
    timing: Timing
    board: str  # what a sentence calls the machine ("Raspberry Pi 4", "CUDA GPU")
    published: tuple[PublishedTime, ...] = ()
    threads: int | None = None  # fixed thread count on the board (None: one per physical core)
    color: str = "tab:gray"  # its points in the report's plots
    missing_here: str = ""  # needs: why a table's column is partial on a machine without it
    how_to_measure: str = ""  # the report's note on a time column the run did not measure ("" : --hardware NAME)
    # regexes on the device-tree model string of the boards that may carry this name (the first match wins); the
    # device's own copy is suite.timing.ondevice.device_identify.PI_LABELS, which a test holds equal to these
    device_models: tuple[str, ...] = ()

    @property
    def local(self) -> bool:
        """Usable as ``--hardware NAME`` on this machine (measured, or predicted off the board)."""
        return self.timing is not Timing.REMOTE_DEVICE

    @property
    def board_label(self) -> bool:
        """A board a remote target may be checked against: ``NAME@host``."""
        return self.timing in (Timing.REMOTE_DEVICE, Timing.PREDICTED)

    def how(self) -> str:
        return self.how_to_measure or f"add `--hardware {self.name}`"


_PI_THREADS = 4  # the Pi 4's four Cortex-A72 cores: torch's default there, presumably the paper's setting

# In report order: the order of the time columns, plots and claim parts.
PROFILES = KeyedRegistry("hardware", lambda p: p.name, (
    HardwareSpec("gpu", "GPU", Timing.CUDA, "CUDA GPU", (PublishedTime("gpu_time_ms"),), color="tab:green",
                 missing_here="no CUDA GPU here: the GPU column stays empty (ratios on the CPU instead)",
                 how_to_measure="no CUDA device was used for this run; run `suite run --hardware gpu` on a CUDA "
                                "machine"),
    HardwareSpec("rpi4", "RPi 4", Timing.PREDICTED, "Raspberry Pi 4", (PublishedTime("rpi4_time_ms", digits=1),),
                 threads=_PI_THREADS, color="tab:orange",
                 device_models=(r"^Raspberry Pi 4 Model B\b", r"^Raspberry Pi 4\b(?! *0)"),
                 missing_here="no Raspberry Pi 4 here: its column is predicted (never decides a claim) unless "
                              "measured through `suite bundle` or `--hardware rpi4@host`"),
    HardwareSpec("rpi3b", "RPi 3B", Timing.REMOTE_DEVICE, "Raspberry Pi 3B",
                 (PublishedTime("rpi3b_s", unit="s/img", scale=1e-3),), color="tab:brown",
                 device_models=(r"^Raspberry Pi 3 Model B(?! Plus)\b",),
                 missing_here="no Raspberry Pi 3B here: its column needs `suite bundle` on a Pi 3B",
                 how_to_measure="measure it on a Raspberry Pi 3B with `suite bundle` (never predicted)"),
    HardwareSpec("rpi5", "RPi 5", Timing.REMOTE_DEVICE, "Raspberry Pi 5", color="tab:purple",
                 device_models=(r"^Raspberry Pi 5\b",),
                 missing_here="no Raspberry Pi 5 here: its column needs `suite bundle` on a Pi 5"),
    HardwareSpec("cpu", "CPU", Timing.LOCAL_CPU, "CPU", (PublishedTime("cpu_ms", digits=1),), color="tab:blue"),
))


REMOTE_FORMS = ("rpi4@[user@]host[:port]", "ssh://[user@]host[:port]")  # how a remote device is written
HARDWARE_ORDER = PROFILES.keys()  # a live view: a registered profile joins it
register_profile = PROFILES.register  # after the declared ones in report order; a name declared twice is refused


def order_key(name: str) -> tuple[int, str]:
    """Sort key: declared profiles in report order, any other name (a remote-<host> label) after, by name."""
    names = list(PROFILES)
    return (names.index(name) if name in names else len(names), name)


def local_names() -> tuple[str, ...]:
    """What ``--hardware`` takes besides the remote forms."""
    return tuple(n for n, p in PROFILES.items() if p.local)


def board_labels() -> tuple[str, ...]:
    """What may stand before the @ of ``LABEL@host``."""
    return tuple(n for n, p in PROFILES.items() if p.board_label)


def label(name: str) -> str:
    spec = PROFILES.get(name)
    return spec.label if spec else name


def board(name: str | None) -> str:
    spec = PROFILES.get(name or "")
    return spec.board if spec else str(name)

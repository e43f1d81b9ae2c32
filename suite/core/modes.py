"""The training modes a run may use: the same mathematics in another memory layout or compiled, never a lower
precision (that is ``--precision``, asked for explicitly), and the rule that picks one from measured rates.

Torch-free, so that `suite run` validates ``--mode`` before torch is imported; ``suite.train.modes`` times a
model in each mode (the probe), ``suite.run.modes`` gives every job of a plan its mode.

>>> choose({"eager": 100.0, "channels_last": 104.0, "compile": None, "channels_last+compile": None})
'eager'
>>> choose({"eager": 100.0, "channels_last": 120.0, "compile": 133.0, "channels_last+compile": 90.0})
'compile'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from suite.core.errors import SuiteError, unknown
from zoo.registry import KeyedRegistry


@dataclass(frozen=True)
class Mode:
    name: str
    channels_last: bool  # the model's weights and each batch in channels-last memory format
    compile: bool  # torch.compile, eager where the model does not compile
    description: str


MODES = KeyedRegistry("mode", lambda m: m.name, (
    Mode("eager", False, False, "fp32 contiguous tensors, eager PyTorch"),
    Mode("channels_last", True, False, "channels-last memory format"),
    Mode("compile", False, True, "torch.compile"),
    Mode("channels_last+compile", True, True, "channels-last memory format and torch.compile"),
))
EAGER = "eager"
AUTO = "auto"  # each model in the mode a probe found fastest on this host
CHOICES = (AUTO, *MODES)
# Another mode replaces eager only when it is at least this much faster: a smaller gain is within what a few
# timed steps can tell apart, and eager is the mode every other number of the suite was measured in.
MARGIN = 0.05


def check_mode(name: str) -> str:
    """``name`` as a valid --mode (auto or a MODES name), else a one-line error naming the closest."""
    text = str(name).strip().lower().replace("-", "_").replace(" ", "")
    if text in CHOICES:
        return text
    raise unknown("mode", str(name), CHOICES)


def spelled_mode(mode: str | None, *, channels_last: bool, compile: bool) -> str | None:
    """The --mode that ``--mode``, ``--channels-last`` and ``--compile`` together ask for (None: none of them);
    flags that contradict --mode are a one-line error."""
    flags = [flag for flag, on in (("--channels-last", channels_last), ("--compile", compile)) if on]
    by_flags = next((m.name for m in MODES.values() if (m.channels_last, m.compile) == (channels_last, compile)),
                    EAGER)
    if mode is None:
        return by_flags if flags else None
    mode = check_mode(mode)
    if flags and mode != by_flags:
        raise SuiteError(f"--mode {mode} contradicts {' '.join(flags)}; give one (--mode {by_flags} is what "
                         f"{' '.join(flags)} spell)")
    return mode


def choose(rates: Mapping[str, float | None], margin: float = MARGIN, *, images: float | None = None,
           setup_s: Mapping[str, float] | None = None) -> str:
    """The fastest mode of ``rates`` (images/s, None: not measured), eager unless it is ``margin`` faster.

    With ``images`` (what one job will train) and ``setup_s`` (each mode's building, compiling and warm-up
    seconds), a mode is judged by the job's whole time, setup + images / rate: a compilation that the planned
    images never pay back loses. A mode whose setup was not measured is then judged by its rate alone, except a
    compiling one, which is left out.
    """
    base = rates.get(EAGER)
    measured = {m: r for m, r in rates.items() if m in MODES and r is not None and r > 0}
    if not base or not measured:
        return EAGER
    if images is None:
        fastest = max(measured, key=lambda m: measured[m])
        return fastest if measured[fastest] >= base * (1.0 + margin) else EAGER
    setup = setup_s or {}
    cost = {m: max(0.0, setup[m] - setup.get(EAGER, 0.0)) + images / rate if m in setup else images / rate
            for m, rate in measured.items() if m in setup or not MODES[m].compile}
    best = min(cost, key=lambda m: cost[m])
    return best if cost[best] * (1.0 + margin) <= images / base else EAGER


@dataclass(frozen=True)
class ProbeSpec:
    """What a probe times: one model's training step as the run will take it (everything but the mode)."""

    model: str
    num_classes: int
    shape: tuple[int, int, int]
    batch: int
    device: str  # "auto": cuda where the probing process sees one
    precision: str = "fp32"
    fast: bool = False
    threads: int | None = None  # None: the probing process's own count
    models_from: tuple = ()  # zoo.user.UserSource of --models-from: a child process loads the same model


@dataclass(frozen=True)
class ModeChoice:
    """The mode one model trains in, and why: a probe's rates per mode, or the flag or preset that pinned it."""

    mode: str
    source: str  # "--mode", "paper preset", "probe 2026-12-07", "probe cached 2026-12-07", "resumed ..."
    images_per_s: Mapping[str, float | None] = field(default_factory=dict)  # the probe's, per mode
    notes: Mapping[str, str] = field(default_factory=dict)  # why a mode has no rate
    setup_s: Mapping[str, float] = field(default_factory=dict)  # the probe's, per mode: build, compile, warm-up
    busy: bool = False  # the probe ran while other processes used the machine: its rates decide nothing

    @property
    def probed(self) -> bool:
        return bool(self.images_per_s)

    def speedup(self) -> float | None:
        """The chosen mode's rate over eager's (None without both)."""
        base, rate = self.images_per_s.get(EAGER), self.images_per_s.get(self.mode)
        return rate / base if base and rate else None

    def describe(self) -> str:
        """'channels_last (x1.20 eager; probe cached 2026-12-07)'."""
        ratio = self.speedup()
        gain = f"x{ratio:.2f} eager; " if ratio and self.mode != EAGER else ""
        return f"{self.mode} ({gain}{self.source})"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["images_per_s"], out["notes"] = dict(self.images_per_s), dict(self.notes)
        out["setup_s"] = dict(self.setup_s)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModeChoice:
        return cls(str(data["mode"]), str(data.get("source") or ""), dict(data.get("images_per_s") or {}),
                   dict(data.get("notes") or {}), dict(data.get("setup_s") or {}), bool(data.get("busy")))

    def __hash__(self) -> int:  # frozen with mappings inside: hashed by what it says
        return hash((self.mode, self.source, tuple(sorted(self.images_per_s.items()))))

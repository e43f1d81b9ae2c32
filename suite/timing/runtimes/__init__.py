"""Runtimes as declarations: how a model is run when it is timed (PyTorch eager, ONNX Runtime, OpenVINO, ...).

``eager`` is the papers' protocol, the default, and the only runtime whose times decide a verdict; the others
are timed with the same protocol (``suite.timing.ondevice.timing_protocol``) beside it, so a reader sees whether
a speed comparison survives deployment. Each runtime is one ``Runtime`` in ``RUNTIMES`` (one module each under
this package); ``register_runtime`` adds one at run time. ``column`` names a runtime's result columns.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from suite.core.errors import SuiteError, unknown
from zoo.registry import DuplicateName, KeyedRegistry

if TYPE_CHECKING:
    from torch import nn

EAGER = "eager"
OPSET = 17  # the ONNX opset every exported model uses (TorchScript exporter: it exports every zoo model)


class Prepared(Protocol):
    """A converted model: called like the eager model (a batch tensor in, logits out)."""

    def __call__(self, x): ...


@dataclass(frozen=True)
class Conversion:
    """What ``Runtime.prepare`` returns: the callable that is timed and the settings it runs with."""

    module: nn.Module  # an nn.Module so the timing protocol's eval/thread handling applies unchanged
    settings: dict = field(default_factory=dict)  # threads, provider, optimisation level: provenance


@dataclass(frozen=True)
class Runtime:
    """One way of running a model. ``prepare(model, example, threads, device)`` converts it."""

    name: str
    label: str
    converter: str  # how a model gets there: "none", "torch.compile", "torch.onnx.export (...), opset 17"
    devices: tuple[str, ...]  # torch device types it runs on ("cpu", "cuda")
    prepare: Callable[[nn.Module, object, int, str], Conversion]
    version: Callable[[], str]
    packages: tuple[str, ...] = ()  # import names it needs beyond torch
    install: str = ""  # the command that installs them
    decides: bool = False  # only the papers' protocol decides a verdict

    def missing(self) -> str | None:
        """Why it cannot run in this environment (a package that does not import), or None."""
        absent = [p for p in self.packages if importlib.util.find_spec(p) is None]
        if absent:
            return f"{self.name}: {', '.join(absent)} is not installed (install: {self.install})"
        return None

    def provenance(self) -> dict:
        return {"runtime": self.name, "label": self.label, "converter": self.converter,
                "version": self.version(), "decides": self.decides}


def prefix(hw: str, runtime: str = EAGER) -> str:
    """What every results column of ``hw`` under ``runtime`` starts with (eager keeps the plain hardware name)."""
    return hw if runtime == EAGER else f"{hw}_{runtime}"


def runtime_of(name: str) -> str:
    """The runtime a column prefix names: ``cpu_onnxruntime`` -> onnxruntime, a plain hardware name -> eager."""
    return next((rt for rt in RUNTIMES if rt != EAGER and name.endswith(f"_{rt}")), EAGER)


def column(hw: str, metric: str, runtime: str = EAGER) -> str:
    """The results column of ``metric`` measured on ``hw`` under ``runtime`` (eager keeps the plain names)."""
    return f"{prefix(hw, runtime)}_{metric}"


def _declared() -> tuple[Runtime, ...]:
    from suite.timing.runtimes import eager, onnx_runtime, openvino_cpu, torch_compile

    return (eager.RUNTIME, torch_compile.RUNTIME, onnx_runtime.RUNTIME, openvino_cpu.RUNTIME)


RUNTIMES: KeyedRegistry[Runtime] = KeyedRegistry("runtime", lambda r: r.name, _declared())


def register_runtime(runtime: Runtime) -> Runtime:
    """Add a runtime after the declared ones (a plug-in); a name already declared is refused."""
    try:
        return RUNTIMES.register(runtime)
    except DuplicateName as exc:
        raise SuiteError(str(exc)) from None


def get_runtime(name: str) -> Runtime:
    key = str(name).strip().lower()
    if key not in RUNTIMES:
        raise unknown("runtime", key, RUNTIMES)
    return RUNTIMES[key]


def parse_runtimes(text: str | None) -> list[Runtime]:
    """'eager,onnxruntime' -> runtimes (order kept, duplicates dropped); every name known and installed."""
    if text is None:
        return [RUNTIMES[EAGER]]
    items = [t.strip().lower() for t in str(text).split(",")]
    if not items or any(not t for t in items):
        raise SuiteError(f"--runtimes {text!r} has an empty item; name runtimes separated by commas, from "
                         f"{', '.join(RUNTIMES)}")
    runtimes = [get_runtime(t) for t in dict.fromkeys(items)]  # every name checked before any import
    for r in runtimes:
        reason = r.missing()
        if reason:
            raise SuiteError(reason)
    return runtimes


def not_here(runtime: Runtime, device: str, *, native: bool = True, remote: bool = False) -> str | None:
    """Why ``runtime`` does not time on a profile (its torch ``device``), or None when it does."""
    if runtime.name == EAGER:
        return None
    if remote:
        return (f"{runtime.name}: a remote device times what its bundle runs (eager, and ONNX Runtime where "
                "onnxruntime imports there)")
    if not native:
        return f"{runtime.name}: a predicted time is eager-only (the predictor is calibrated on eager times)"
    kind = device.split(":", 1)[0]
    if kind not in runtime.devices:
        return f"{runtime.name} runs on {', '.join(runtime.devices)}, not on {kind}"
    return None


def timed_here(runtimes: Iterable[Runtime], profile) -> list[Runtime]:
    """The runtimes beside eager that time on ``profile`` (a local measured one); the rest skip it."""
    remote = profile.remote is not None
    return [r for r in runtimes if r.name != EAGER
            and not_here(r, profile.device, native=profile.native, remote=remote) is None]


def lacking(record: dict, profile, runtimes: Iterable[Runtime]) -> bool:
    """Whether a results record misses ``profile``'s eager time or one of the runtimes timed there."""
    done = ((record.get("runtimes") or {}).get(profile.name)) or {}
    return profile.name not in (record.get("latency") or {}) or any(r.name not in done
                                                                   for r in timed_here(runtimes, profile))


def check_profiles(runtimes: Iterable[Runtime], profiles: Iterable) -> None:
    """Refuse a runtime that cannot run on a measured profile's device (openvino on a GPU), and a predicted or
    remote profile without eager (it times nothing else); a runtime such a profile lacks is skipped later."""
    runtimes = list(runtimes)
    for p in profiles:
        remote = p.remote is not None
        if (remote or not p.native) and not any(r.name == EAGER for r in runtimes):
            raise SuiteError(f"--hardware {p.name} is timed with eager only; add eager to --runtimes")
        if p.native and not remote:
            for r in runtimes:
                reason = not_here(r, p.device)
                if reason:
                    raise SuiteError(f"--runtimes {r.name} on --hardware {p.name}: {reason}")


__all__ = ["EAGER", "OPSET", "RUNTIMES", "Conversion", "Runtime", "check_profiles", "column", "get_runtime",
           "lacking", "not_here", "parse_runtimes", "prefix", "register_runtime", "runtime_of", "timed_here"]

"""The peak FLOP/s of a training device: declared for GPUs (``GPU_PEAKS``), measured for CPUs (``cpu_peak``).

A GPU's figures are the vendor's dense peaks (no structured sparsity) per precision, each with where it comes
from; a card is found by ``torch.cuda.get_device_name()`` (``gpu_peak``), and a card not declared here has no
peak ("peak unknown"): nothing is guessed from a similar name. A CPU's peak is measured by ``suite doctor`` (and
by ``suite run`` before any training, when it is not cached) in ``suite.device.cpu_peak``. Torch-free at import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zoo.registry import KeyedRegistry

GPU_PRECISIONS = ("fp32", "tf32", "bf16", "fp16")


@dataclass(frozen=True)
class Peak:
    """What a job's achieved FLOP/s is set against: ``gflops`` None when unknown, ``source`` says why."""

    gflops: float | None
    precision: str  # the precision the figure is for (fp32 training on a recent GPU: tf32, see training_peak)
    source: str  # where the figure comes from, or why there is none
    measured_now: bool = False  # a CPU's, measured by this call (not read from the host's cache)
    stored: bool = False  # a CPU's, kept in the host's cache (a busy machine's measurement is not)

    def to_dict(self) -> dict:
        return {"gflops": self.gflops, "precision": self.precision, "source": self.source}


@dataclass(frozen=True)
class GpuPeak:
    """One card: dense peak TFLOP/s per precision (None: no such path on the card) and the figures' source."""

    name: str
    names: tuple[str, ...]  # device-name forms that mean this card (see name_form)
    fp32: float
    tf32: float | None
    bf16: float | None
    fp16: float | None
    source: str

    def tflops(self, precision: str) -> float | None:
        return getattr(self, precision) if precision in GPU_PRECISIONS else None


def name_form(device_name: str) -> str:
    """A device name's identifying words: lower case, without the vendor, product line and memory size, so that
    "NVIDIA A100-SXM4-80GB" and "Tesla A100-SXM4-40GB" are both "a100 sxm4" (and "NVIDIA A10" stays "a10")."""
    words = re.findall(r"[a-z0-9]+", device_name.lower())
    return " ".join(w for w in words if w not in ("nvidia", "tesla", "geforce") and not re.fullmatch(r"\d+gb", w))


def _card(name: str, names: tuple[str, ...], fp32: float, tf32: float | None, bf16: float | None,
          fp16: float | None, source: str) -> GpuPeak:
    return GpuPeak(name, names, fp32, tf32, bf16, fp16, source)


_HALVED = "its tensor-core figures are quoted with sparsity and halved here"
GPU_PEAKS: KeyedRegistry[GpuPeak] = KeyedRegistry("GPU", key=lambda c: c.name, entries=[
    _card("A100 SXM", ("a100 sxm4",), 19.5, 156.0, 312.0, 312.0,
          "NVIDIA A100 Tensor Core GPU datasheet (SXM), dense figures"),
    _card("A100 PCIe", ("a100 pcie",), 19.5, 156.0, 312.0, 312.0,
          "NVIDIA A100 Tensor Core GPU datasheet (PCIe), dense figures"),
    _card("H100 SXM", ("h100 hbm3", "h100 sxm5", "h100 sxm"), 67.0, 494.5, 989.5, 989.5,
          f"NVIDIA H100 Tensor Core GPU datasheet (SXM); {_HALVED}"),
    _card("H100 PCIe", ("h100 pcie",), 51.0, 378.0, 756.5, 756.5,
          f"NVIDIA H100 Tensor Core GPU datasheet (PCIe); {_HALVED}"),
    _card("H200", ("h200",), 67.0, 494.5, 989.5, 989.5,
          f"NVIDIA H200 Tensor Core GPU datasheet (SXM); {_HALVED}"),
    _card("V100 SXM2", ("v100 sxm2",), 15.7, None, None, 125.0,
          "NVIDIA Tesla V100 datasheet (SXM2): single precision and tensor (fp16) performance; no TF32 or BF16"),
    _card("V100 PCIe", ("v100 pcie",), 14.0, None, None, 112.0,
          "NVIDIA Tesla V100 datasheet (PCIe): single precision and tensor (fp16) performance; no TF32 or BF16"),
    _card("T4", ("t4",), 8.1, None, None, 65.0,
          "NVIDIA T4 datasheet: single precision and mixed precision (fp16/fp32); no TF32 or BF16"),
    _card("L4", ("l4",), 30.3, 60.0, 121.0, 121.0, f"NVIDIA L4 datasheet; {_HALVED}"),
    _card("A10", ("a10",), 31.2, 62.5, 125.0, 125.0, "NVIDIA A10 datasheet, dense figures"),
    _card("L40S", ("l40s",), 91.6, 183.0, 366.5, 366.5, f"NVIDIA L40S datasheet; {_HALVED}"),
    _card("RTX 3090", ("rtx 3090",), 35.6, 35.6, 71.0, 71.0,
          "NVIDIA Ampere GA102 GPU architecture whitepaper (GeForce RTX 3090): dense, fp32 accumulate"),
    _card("RTX 4090", ("rtx 4090",), 82.6, 82.6, 165.2, 165.2,
          "NVIDIA Ada GPU architecture whitepaper (GeForce RTX 4090): dense, fp32 accumulate"),
], aliases=lambda c: c.names)


def gpu_peak(device_name: str) -> GpuPeak | None:
    """The declared card ``device_name`` (as torch.cuda.get_device_name() gives it) is; None: not declared."""
    name = GPU_PEAKS.resolve(name_form(device_name))
    return GPU_PEAKS[name] if name is not None else None


def gpu_training_peak(device_name: str, precision: str, *, tf32: bool) -> Peak:
    """The declared dense peak a job training at ``precision`` can reach on this card. fp32 training reaches
    the TF32 peak where ``tf32`` (torch lets cuDNN run fp32 convolutions as TF32 unless told not to)."""
    card = gpu_peak(device_name)
    at = "tf32" if precision == "fp32" and tf32 else precision
    if card is None:
        return Peak(None, at, f"peak unknown: {device_name!r} is not declared in suite/device/peaks.py")
    tflops = card.tflops(at)
    if tflops is None and at == "tf32":
        at, tflops = "fp32", card.fp32  # a card without TF32 runs fp32 as fp32
    if tflops is None:
        return Peak(None, at, f"peak unknown: the {card.name} has no declared {at} peak")
    why = " (cuDNN may run fp32 convolutions as TF32)" if at == "tf32" and precision == "fp32" else ""
    return Peak(tflops * 1000.0, at, f"declared: {card.name}, dense {at} {tflops:g} TFLOP/s{why}; {card.source}")


def training_peak(device: str, precision: str, threads: int, *, measure_by: str | None = None) -> Peak:
    """The peak a job training on ``device`` at ``precision`` with ``threads`` intra-op threads is set against.

    A GPU: its declared figure. A CPU: the stored measurement; with ``measure_by`` (the driver, before any job
    trains) a missing one is measured now and stored. A job passes none: it never measures beside its training.
    """
    import torch

    dev = torch.device(device)
    if dev.type == "cuda":
        tf32 = bool(torch.backends.cudnn.allow_tf32 or torch.backends.cuda.matmul.allow_tf32)
        return gpu_training_peak(torch.cuda.get_device_name(dev), precision, tf32=tf32)
    if dev.type != "cpu":
        return Peak(None, precision, f"peak unknown: no peak is declared or measured for {dev.type} devices")
    from . import cpu_peak

    peak = cpu_peak.cached(precision, threads)
    if peak is None and measure_by is not None and precision in cpu_peak.PRECISIONS:
        peak = cpu_peak.measure_and_store(precision, threads, by=measure_by)
    return peak or cpu_peak.unknown(precision, threads)

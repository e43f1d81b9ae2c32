"""Which device this is, and the hardware profile name it is allowed to carry.

Standard library only (torch is imported inside ``torch_build`` and ``device_info``), Python >= 3.9: ``suite
bundle`` ships this file verbatim as ``device_identify.py``, so the runner on a Pi and the suite label devices
by the same rule. Every path is an argument so that tests can inject a device-tree model string.

Labels: ``rpi4`` only when the device-tree model says "Raspberry Pi 4" (a Pi 400 or a Compute Module 4 is
another board: other clock, other cooling), ``rpi5`` and ``rpi3b`` (the Raspberry Pi 3 Model B, DP-Net's
Table 7 device) likewise; any other machine is ``remote-<hostname>``.
"""

from __future__ import annotations

import os
import platform
import re
import socket

DEVICE_TREE_MODEL = "/proc/device-tree/model"
MODEL_FILE_ENV = "SUITE_DEVICE_MODEL_FILE"  # a file holding the model string (tests; never set on a real Pi)
CPUINFO = "/proc/cpuinfo"
CPUFREQ = "/sys/devices/system/cpu/cpu0/cpufreq"
THERMAL = "/sys/class/thermal/thermal_zone0/temp"

# (regex on the device-tree model, label); the first match wins. A copy of the profiles' device_models
# (suite.timing.profiles), in their order: this file runs on the device without the suite; a test keeps them equal.
PI_LABELS = (
    (r"^Raspberry Pi 4 Model B\b", "rpi4"),
    (r"^Raspberry Pi 4\b(?! *0)", "rpi4"),
    (r"^Raspberry Pi 3 Model B(?! Plus)\b", "rpi3b"),
    (r"^Raspberry Pi 5\b", "rpi5"),
)
ARM_PARTS = {"0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55", "0xd07": "Cortex-A57",
             "0xd08": "Cortex-A72", "0xd09": "Cortex-A73", "0xd0a": "Cortex-A75", "0xd0b": "Cortex-A76"}


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return fh.read().replace(b"\x00", b"").decode(errors="replace").strip()
    except OSError:
        return None


def device_model_path(path: str | None = None) -> str:
    """The file the model string is read from: the argument, else $SUITE_DEVICE_MODEL_FILE, else the device tree."""
    return path or os.environ.get(MODEL_FILE_ENV) or DEVICE_TREE_MODEL


def read_device_model(path: str | None = None) -> str | None:
    """The device-tree model string ("Raspberry Pi 4 Model B Rev 1.4"), None where there is none (x86)."""
    return _read(device_model_path(path)) or None


def pi_label(device_model: str | None) -> str | None:
    """rpi4 / rpi5 / rpi3b for those boards, else None."""
    for pattern, label in PI_LABELS:
        if device_model and re.search(pattern, device_model.strip()):
            return label
    return None


def host_label(hostname: str | None) -> str:
    """remote-<hostname>, lower case, characters outside [a-z0-9.-] replaced by '-'."""
    host = re.sub(r"[^a-z0-9.-]+", "-", (hostname or "").strip().lower()).strip("-.") or "unknown"
    return "remote-" + host


def label_for(device_model: str | None, hostname: str | None) -> str:
    return pi_label(device_model) or host_label(hostname)


def describe(info: dict) -> str:
    """One phrase for error messages: "Raspberry Pi 5 Model B Rev 1.0 (Cortex-A76 x4, host pi5)"."""
    what = info.get("device_model") or info.get("cpu") or "an unknown machine"
    cores = info.get("cores")
    detail = ", ".join(x for x in (f"{info.get('cpu')} x{cores}" if info.get("device_model") and cores else "",
                                   f"host {info.get('hostname')}" if info.get("hostname") else "") if x)
    return f"{what} ({detail})" if detail else what


def affinity_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def physical_cores(cpuinfo: str = CPUINFO, allowed: set[int] | None = None) -> int:
    """Physical cores available to this process: distinct (physical id, core id) among the allowed CPUs.

    Hyper-threads share a core's execution units, so one thread per physical core is the stable setting.
    Falls back to the affinity mask size where /proc/cpuinfo has no topology (ARM boards, containers).
    """
    if allowed is None:
        try:
            allowed = os.sched_getaffinity(0)
        except (AttributeError, OSError):
            allowed = set(range(os.cpu_count() or 1))
    cores = set()
    text = _read(str(cpuinfo))
    try:
        proc, phys, core = None, "0", None
        for line in [*(text or "").splitlines(), ""]:
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
    except ValueError:
        cores = set()
    return max(1, min(len(cores), len(allowed)) if cores else len(allowed))


def cpu_name(cpuinfo: str = CPUINFO) -> str:
    """x86 "model name"; on ARM the core type from "CPU part" (64-bit Pi OS prints no model name)."""
    fields: dict[str, str] = {}
    for line in (_read(str(cpuinfo)) or "").splitlines():
        key, _, value = (s.strip() for s in line.partition(":"))
        fields.setdefault(key.lower(), value)
    if fields.get("model name") and not fields["model name"].lower().startswith("armv"):
        return fields["model name"]
    part = fields.get("cpu part", "").lower()
    if part:
        return "ARM " + ARM_PARTS.get(part, f"part {part}")
    return fields.get("model name") or fields.get("hardware") or platform.processor() or platform.machine()


def _mhz(path: str) -> float | None:
    text = _read(path)
    try:
        return int(text) / 1000.0 if text else None  # the cpufreq files are in kHz
    except ValueError:
        return None


def clocks(cpufreq: str = CPUFREQ) -> dict[str, object]:
    return {"clock_mhz": _mhz(os.path.join(cpufreq, "scaling_cur_freq")),
            "max_clock_mhz": _mhz(os.path.join(cpufreq, "cpuinfo_max_freq")),
            "governor": _read(os.path.join(cpufreq, "scaling_governor"))}


def temperature_c(path: str = THERMAL) -> float | None:
    text = _read(path)
    try:
        return int(text) / 1000.0 if text else None
    except ValueError:
        return None


def _memory_mb() -> int | None:
    for line in (_read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            try:
                return int(line.split()[1]) // 1024
            except (IndexError, ValueError):
                return None
    return None


def _os_name() -> str | None:
    for line in (_read("/etc/os-release") or "").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return None


def torch_build() -> dict[str, object]:
    """torch's version and what it was compiled with (oneDNN/mkldnn, NNPACK, the parallel backend)."""
    import torch

    config = ""
    try:
        config = torch.__config__.show()
    except Exception:  # noqa: BLE001 - a build without the introspection still gets timed
        pass

    def flag(name: str) -> bool | None:
        m = re.search(name + r"=(\w+)", config)
        return None if m is None else m.group(1).upper() in ("ON", "1", "TRUE")

    onednn: bool | None
    try:
        onednn = bool(torch.backends.mkldnn.is_available())
    except Exception:  # noqa: BLE001
        onednn = flag("USE_MKLDNN")
    nnpack = None
    try:
        nnpack = bool(torch.backends.nnpack.is_available())
    except Exception:  # noqa: BLE001 - older torch: only the private probe or the build flags
        try:
            nnpack = bool(torch._nnpack_available())
        except Exception:  # noqa: BLE001
            nnpack = flag("USE_NNPACK")
    parallel = None
    try:
        info = torch.__config__.parallel_info()
        m = re.search(r"ATen parallel backend: *(.+)", info)  # older torch states it; newer lists OpenMP/TBB
        parallel = m.group(1).strip() if m else next(
            (ln.strip() for ln in info.splitlines() if ln.startswith(("OpenMP", "TBB", "std::thread"))), None)
    except Exception:  # noqa: BLE001
        pass
    try:
        import torchvision

        tv = torchvision.__version__
    except Exception:  # noqa: BLE001 - torchvision is optional on the device
        tv = None
    return {"torch": torch.__version__, "torchvision": tv, "onednn": onednn, "nnpack": nnpack,
            "parallel_backend": parallel, "interop_threads": torch.get_num_interop_threads()}


def device_info(*, device_model_file: str | None = None, cpuinfo: str = CPUINFO,
                cpufreq: str = CPUFREQ) -> dict[str, object]:
    """Everything the runner records about the device it times on (torch is imported)."""
    model_path = device_model_path(device_model_file)
    model = read_device_model(model_path)
    hostname = socket.gethostname()
    info: dict[str, object] = {
        "device_model": model,
        "device_model_file": model_path if model_path != DEVICE_TREE_MODEL else None,  # non-default: say so
        "cpu": cpu_name(cpuinfo),
        "cores": affinity_count(),
        "physical_cores": physical_cores(cpuinfo),
        "machine": platform.machine(),
        **clocks(cpufreq),
        "temperature_c": temperature_c(),
        "memory_mb": _memory_mb(),
        "hostname": hostname,
        "os": _os_name(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }
    info.update(torch_build())
    info["label"] = label_for(model, hostname)
    return info

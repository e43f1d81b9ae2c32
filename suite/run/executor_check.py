"""Which executor a run asks for, checked before anything is read or written (no executor is started here)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from urllib.parse import urlparse

from suite.core.errors import SuiteError, unknown
from zoo.registry import Registry

# Where a run's jobs execute (suite.run.executors builds each): name -> what it does
EXECUTORS: Registry[str] = Registry("executor", (
    ("local", "in the driver process, one job at a time; --jobs N: N CPU worker processes"),
    ("gpus", "a worker process per GPU slot of this machine"),
    ("ray", "a Ray task per job, on a local instance or a cluster"),
))
RAY_PIN = "ray==2.60.0"
RAY_INSTALL = f'pip install -e ".[ray]" (or pip install "{RAY_PIN}")'


def executor_name(text: str | None) -> str:
    """The executor named by ``text`` (None: local), or a one-line error naming the closest."""
    name = str(text or "local").strip().lower()
    if name not in EXECUTORS:
        raise unknown("executor", name, EXECUTORS)
    return name


def visible_gpus() -> list[str]:
    """GPU ids this machine offers, without initialising CUDA: $CUDA_VISIBLE_DEVICES, else nvidia-smi."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g.strip() for g in env.split(",") if g.strip() and g.strip() != "-1"]
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run([smi, "--query-gpu=index", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip().isdigit()] if out.returncode == 0 else []


def ray_address(config) -> str | None:
    return config.ray_address or os.environ.get("RAY_ADDRESS") or None


def _check_reachable(address: str) -> None:
    """A quick TCP probe, so that a wrong address fails in a second with one line, not after Ray's retries."""
    if address in ("auto", "local"):
        return
    parsed = urlparse(address if "://" in address else f"ray://{address}")
    default_port = 10001 if address.startswith("ray://") else 6379
    try:
        host, port = parsed.hostname, parsed.port or default_port
    except ValueError:
        raise SuiteError(f"bad --ray-address {address!r}; expected HOST:PORT, e.g. 10.0.0.1:6379") from None
    if not host:
        raise SuiteError(f"bad --ray-address {address!r}; expected HOST:PORT, e.g. 10.0.0.1:6379")
    try:
        with socket.create_connection((host, port), timeout=3):
            pass
    except OSError as exc:
        raise SuiteError(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}); start it with "
                         "`ray start --head` there, or check --ray-address / RAY_ADDRESS") from None


def check_executor(config) -> None:
    """Bad executor input is one line (exit 2) before the dataset is read or anything is written."""
    if config.executor == "gpus":
        visible = visible_gpus()
        if config.gpus:
            missing = [g for g in config.gpus if g not in visible]
            if missing:
                have = ", ".join(visible) if visible else "none"
                raise SuiteError(f"--gpus {','.join(config.gpus)}: no GPU {', '.join(missing)} on this machine "
                                 f"(visible: {have})")
        elif not visible:
            raise SuiteError("--executor gpus: this machine shows no GPU (nvidia-smi lists none); use "
                             "--executor local, or ray on a cluster with GPUs")
    elif config.executor == "ray":
        try:
            import ray  # noqa: F401 - imported again where it is used; here only: is it there
        except ImportError:
            raise SuiteError(f"--executor ray needs Ray, which is not installed: {RAY_INSTALL}") from None
        address = ray_address(config)
        if address:
            _check_reachable(address)
    if config.executor != "gpus" and config.gpus:
        raise SuiteError(f"--gpus is for --executor gpus (this run uses --executor {config.executor})")

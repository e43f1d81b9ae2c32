"""Time models on a remote device over SSH: build a bundle, copy it, run it, fetch and check the JSON.

``measure_remote`` is what ``suite latency --hardware ssh://...`` and ``suite run`` call. Whole-device failures
(unreachable, authentication, no torch, the wrong kind of device, a timeout) raise one-line SuiteErrors; a model
failing there comes back as ``{"model": m, "status": "failed", "error": "..."}`` beside the others' records.
"""

from __future__ import annotations

from suite.core.errors import SuiteError
from suite.device.bundle import temporary_bundle
from suite.device.ssh import SshSettings, run_bundle
from suite.device.times import check_document, device_times
from suite.timing.hardware import HardwareProfile, RemoteTarget, parse_remote
from suite.timing.ondevice.device_identify import describe
from suite.timing.ondevice.timing_protocol import Protocol
from suite.timing.profiles import board

DEFAULT_TIMEOUT_S = 3600  # a full table at the paper protocol takes about a minute per model on a Pi 4
PROBE = ("threshnet79", 10)  # any model: --identify times nothing, the bundle only has to be complete


def as_target(target: HardwareProfile | RemoteTarget | str) -> RemoteTarget:
    if isinstance(target, RemoteTarget):
        return target
    if isinstance(target, HardwareProfile):
        if target.remote is None:
            raise SuiteError(f"hardware {target.name!r} is not a remote device")
        return target.remote
    parsed = parse_remote(target)
    if parsed is None:
        raise SuiteError(f"{target!r} is not a remote device; write rpi4@[user@]host[:port] or "
                         "ssh://[user@]host[:port]")
    return parsed


def _wrong_device(target: RemoteTarget, doc: dict) -> SuiteError:
    info = doc.get("device") or {}
    return SuiteError(f"{target.display} is not a {board(target.expect)}: it is {describe(info)} (label "
                      f"{doc.get('label_detected')!r}); time it as ssh://{target.display}, or pass --label "
                      f"{target.expect} to record it as {target.expect} anyway (the provenance says so)")


def _runner_args(target: RemoteTarget, *, label: str | None, threads: int | None, timeout_s: int) -> list[str]:
    args = ["--time-limit-s", str(max(1, int(timeout_s * 0.8)))]  # the runner stops itself before the client
    if target.expect:
        args += ["--expect", target.expect]
    if label:
        args += ["--label", label]
    if threads:
        args += ["--threads", str(threads)]
    return args


def run_remote(target, models: list[tuple[str, int]], *, input_size=(3, 32, 32), threads: int | None = None,
               protocol: Protocol | dict | None = None, per_image_batch: int | None = 100, batch: int = 1,
               timeout_s: int = DEFAULT_TIMEOUT_S, label: str | None = None, remote_python: str | None = None,
               ssh_config: str | None = None, connect_timeout_s: int = 10, identify_only: bool = False,
               echo=None) -> dict:
    """The checked runner document from the remote device (``label``: an explicit override, recorded)."""
    tgt = as_target(target)
    if label is not None and not label.strip():
        raise SuiteError("--label must not be empty")
    settings = SshSettings.from_env(ssh_config=ssh_config, remote_python=remote_python,
                                    connect_timeout_s=connect_timeout_s)
    if isinstance(protocol, dict):
        protocol = Protocol.from_dict(protocol)
    handle, bundle = temporary_bundle(list(models) or [PROBE], input_size=input_size, threads=threads,
                                      protocol=protocol, per_image_batch=per_image_batch, batch=batch)
    with handle:
        args = _runner_args(tgt, label=label, threads=threads, timeout_s=timeout_s)
        if identify_only:
            args.append("--identify")
        rc, doc = run_bundle(tgt, bundle, settings=settings, runner_args=args, timeout_s=timeout_s, echo=echo)
    if rc == 6 or doc.get("status") == "wrong-device":
        raise _wrong_device(tgt, doc)
    doc = check_document(doc, f"the JSON from {tgt.display}")
    if rc not in (0, 1):
        raise SuiteError(f"{tgt.display}: the runner exited with status {rc}")
    return doc


def identify_remote(target, **kw) -> dict:
    """What the remote device is (its ``device`` info and ``label``), timing nothing: the profile name to use."""
    return run_remote(target, [], identify_only=True, **kw)


def measure_remote(target, models: list[tuple[str, int]], *, input_size=(3, 32, 32), threads: int | None = None,
                   protocol: Protocol | dict | None = None, per_image_batch: int | None = 100,
                   timeout_s: int = DEFAULT_TIMEOUT_S, batch: int = 1, label: str | None = None,
                   remote_python: str | None = None, ssh_config: str | None = None, connect_timeout_s: int = 10,
                   echo=None, runtimes_out: dict[str, dict[str, dict]] | None = None) -> dict[str, dict]:
    """Time ``models`` ([(name, head)]) on ``target`` (a remote HardwareProfile, RemoteTarget or its spec).

    Returns {model: latency record}: ``LatencyResult.to_dict()`` as measured there, ``predicted: false``,
    ``hardware`` = the device's label (rpi4 only for a Raspberry Pi 4, remote-<hostname> for another CPU),
    provenance with ``source: "ssh"``; a model that failed there maps to
    ``{"model": m, "status": "failed", "error": "..."}``. Everything else raises a one-line SuiteError.
    ``runtimes_out`` receives {model: {runtime: cell}} for the runtimes timed there beside eager (ONNX Runtime).
    """
    if not models:
        raise SuiteError("measure_remote needs at least one (model, head)")
    doc = run_remote(target, models, input_size=input_size, threads=threads, protocol=protocol,
                     per_image_batch=per_image_batch, batch=batch, timeout_s=timeout_s, label=label,
                     remote_python=remote_python, ssh_config=ssh_config, connect_timeout_s=connect_timeout_s,
                     echo=echo)
    times = device_times(doc, source="ssh", where=as_target(target).display)
    out: dict[str, dict] = dict(times.records)
    if runtimes_out is not None:
        runtimes_out.update(times.runtimes)
    for name, error in times.failures.items():
        out[name] = {"model": name, "hardware": times.label, "status": "failed", "error": error}
    return out

#!/usr/bin/env python3
"""Time the bundled models on this device and write one JSON document (the runner of a `suite bundle`).

    python3 run.py --out times.json            # then, where the suite is: suite import-times times.json --results RUN

Needs Python >= 3.9 and torch >= 1.11 (torchvision only for torchvision-built models). It imports nothing from
the suite: the models come from the bundle's ``zoo/``, the protocol from ``timing_protocol.py`` and the device
identification from ``device_identify.py``, all beside this file. Where ``onnxruntime`` imports, each model is
also timed under ONNX Runtime from the ONNX file the host exported into ``onnx/`` (its SHA-256 checked against
the manifest, its outputs against eager's), interleaved with eager; elsewhere eager alone. torch and onnxruntime
are first imported in child processes, so a wheel that dies on this CPU (SIGILL) is named instead of killing
the run. This file is ``suite/timing/ondevice/runner.py``,
copied verbatim; it only works inside a bundle.

Exit status: 0 every model timed, 1 some model failed (the others are in the JSON), 2 bad arguments or bundle,
4 torch missing or too old, 6 the device is not the one ``--expect`` names (the JSON says what it is).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path[:1] != [HERE]:
    sys.path.insert(0, HERE)  # `python -I run.py` leaves the script's folder off sys.path

FORMAT = "suite-device-times"
FORMAT_VERSION = 1
EXIT_OK, EXIT_MODEL_FAILED, EXIT_USAGE, EXIT_NO_TORCH, EXIT_WRONG_DEVICE = 0, 1, 2, 4, 6
MIN_PYTHON, MIN_TORCH = (3, 9), (1, 11)
ORT = "onnxruntime"
# the output check of suite.timing.runtimes.measure (this file cannot import it; a test keeps the two equal)
REL_TOL, ABS_TOL = 1e-3, 1e-5
ONNX_INPUT = "input"  # the input name suite.timing.runtimes.onnx_export gives every exported model
SIGILL_HINT = (
    "SIGILL (illegal instruction): this build of {package} uses CPU instructions this processor lacks. That is a "
    "known failure mode of some aarch64 wheels on a Raspberry Pi 4, whose Cortex-A72 implements ARMv8.0-A only "
    "(no dot-product, fp16 arithmetic or other ARMv8.2 extensions); an older release of that package, built for "
    "ARMv8.0-A, runs there ({interpreter})")


def say(message: str) -> None:
    """Progress for whoever watches (an SSH client echoes these lines); errors go through fail()."""
    print(f"[suite-runner] {message}", file=sys.stderr, flush=True)


def fail(message: str, code: int) -> int:
    print(f"suite-runner: error: {message}", file=sys.stderr, flush=True)
    return code


def _version_tuple(text: str) -> tuple:
    parts = []
    for piece in text.split("+")[0].split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _sha256(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


def _write(doc: dict, out: str) -> None:
    text = json.dumps(doc, indent=2, default=str) + "\n"
    if out == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    tmp = f"{out}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:  # runs on the device without the suite: its own atomic write (temp + replace)
        fh.write(text)
    os.replace(tmp, out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="run.py", description="Time the bundled models on this device.")
    p.add_argument("--out", default="times.json", help="JSON output file, '-' for stdout (default times.json)")
    p.add_argument("--models", help="comma-separated subset of the bundle's models")
    p.add_argument("--threads", type=int, help="intra-op threads (default: the bundle's, else physical cores)")
    p.add_argument("--label", help="record the device under this profile name instead of the detected one "
                                   "(the JSON says it was overridden and what the device is)")
    p.add_argument("--expect", help="stop before timing unless the device's label is this one (exit 6)")
    p.add_argument("--device-model-file", help="read the device-tree model string from this file "
                                               "(default $SUITE_DEVICE_MODEL_FILE, else /proc/device-tree/model)")
    p.add_argument("--time-limit-s", type=float, help="start no new model after this many seconds")
    p.add_argument("--identify", action="store_true", help="only identify the device; time nothing")
    p.add_argument("--eager-only", action="store_true", help="time PyTorch eager only, even where onnxruntime "
                                                              "imports")
    return p.parse_args(argv)


def load_user_models(entries: list) -> None:
    """The user's own model files shipped in ``user/``: loaded by the bundled zoo under private module names,
    from their bytes, with nothing added to sys.path (torch only, Python 3.9)."""
    if not entries:
        return
    from zoo import user

    for entry in entries:
        path = os.path.join(HERE, entry["file"])
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8")
        user.load_text(text, path, function=entry.get("function"))


def probe_import(package: str) -> tuple[str, str]:
    """Import ``package`` in a child of this interpreter: ("ok", version), ("missing", why) or ("sigill", why).

    A wheel built for a newer CPU kills the process that imports it with SIGILL; in a child that costs the child.
    """
    flags = ["-I"] if sys.flags.isolated else []
    code = f"import {package} as m; print(getattr(m, '__version__', '?'))"
    try:
        proc = subprocess.run([sys.executable, *flags, "-c", code], capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as exc:
        return "missing", f"{sys.executable} could not import {package} in a child process ({exc})"
    if proc.returncode == -signal.SIGILL:
        return "sigill", (f"importing {package} in {sys.executable} (Python {sys.version.split()[0]}) died of "
                          + SIGILL_HINT.format(package=package, interpreter=sys.executable))
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1][:300]
        return "missing", f"{package} does not import in {sys.executable}: {last}"
    return "ok", proc.stdout.strip()


def onnx_session(path: str, threads: int):
    """An ONNX Runtime CPU session with the settings of suite.timing.runtimes.onnx_runtime."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # spinning pool threads would keep the cores busy after a call and slow eager's next round
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"]), {
        "threads": threads, "inter_op_threads": 1, "provider": "CPUExecutionProvider",
        "optimisation": "ORT_ENABLE_ALL", "allow_spinning": 0, "execution_mode": "sequential"}


def session_module(session):
    """The session behind an nn.Module face, so the timing protocol's eval/thread handling applies unchanged."""
    from torch import nn

    class SessionModule(nn.Module):
        def __init__(self):
            super().__init__()
            self.session = session

        def forward(self, x):
            return self.session.run(None, {ONNX_INPUT: x.numpy()})[0]

    return SessionModule()


def output_check(reference, got) -> dict:
    """How far ONNX Runtime's logits are from eager's, and whether that is within the suite's tolerance."""
    import numpy as np

    ref = np.asarray(reference, dtype=np.float64)
    out = np.asarray(got, dtype=np.float64)
    if out.shape != ref.shape:
        return {"passed": False, "why": f"output shape {out.shape} != eager's {ref.shape}"}
    diff = float(np.max(np.abs(out - ref))) if ref.size else 0.0
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    allowed = REL_TOL * scale + ABS_TOL
    return {"passed": bool(diff <= allowed), "max_abs_diff": diff, "logit_scale": scale, "allowed": allowed,
            "rule": f"max |y - y_eager| <= {REL_TOL:g} x max |y_eager| + {ABS_TOL:g}",
            "input": "randn(seed 1); eager logits computed on the host with the exported weights"}


def prepare_ort(entry: dict, per_image_batch, threads: int, ort_version: str):
    """(module to time or None, the cell's fields): the shipped ONNX file, its SHA-256 and its outputs checked.

    The check: the host's input and eager logits shipped beside the file (the same weights; this device's eager
    model has fresh ones), compared with the suite's rule."""
    import numpy as np
    import torch

    onnx = entry.get("onnx") or {}
    cell: dict = {"runtime": ORT, "status": "failed", "reason": None, "output_check": None,
                  "runtime_provenance": {"runtime": ORT, "label": "ONNX Runtime", "converter": onnx.get("exporter"),
                                         "version": ort_version, "decides": False, "opset": onnx.get("opset"),
                                         "onnx_sha256": onnx.get("sha256"), "settings": {}}}
    if not onnx.get("file"):
        cell["reason"] = f"{ORT}: the bundle holds no ONNX file ({entry.get('onnx_error') or 'not exported'})"
        return None, cell
    path, check_path = os.path.join(HERE, onnx["file"]), os.path.join(HERE, onnx["check"])
    for rel, file, digest in ((onnx["file"], path, onnx.get("sha256")),
                              (onnx["check"], check_path, onnx.get("check_sha256"))):
        if _sha256(file) != digest:
            cell["reason"] = (f"{ORT}: {rel} is missing or its sha256 differs from the manifest's; rebuild the "
                              "bundle with `suite bundle`")
            return None, cell
    try:
        session, settings = onnx_session(path, threads)
        module = session_module(session)
        cell["runtime_provenance"]["settings"] = settings
        with np.load(check_path, allow_pickle=False) as saved:
            example, reference = saved["input"], saved["logits"]
        with torch.inference_mode():
            got = module(torch.from_numpy(example))
            cell["output_check"] = output_check(reference, got)
            if per_image_batch and per_image_batch != example.shape[0]:
                module(torch.zeros(per_image_batch, *example.shape[1:]))
    except Exception as exc:  # noqa: BLE001 - a model ONNX Runtime cannot run is its cell's reason
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        cell["reason"] = f"{ORT}: run failed: {type(exc).__name__}: {first}".rstrip(": ")
        return None, cell
    check = cell["output_check"]
    if not check["passed"]:
        why = check.get("why") or f"max abs diff {check['max_abs_diff']:.3g} > {check['allowed']:.3g}"
        cell["reason"] = f"{ORT}: outputs differ from the host's eager ({why})"
        return None, cell
    return module, cell


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t_start = time.time()
    if sys.version_info[:2] < MIN_PYTHON:
        return fail(f"Python {sys.version.split()[0]} is too old; the bundle needs Python >= 3.9", EXIT_NO_TORCH)
    state, why = probe_import("torch")
    if state == "sigill":
        return fail(f"{why}; no time can be taken with this torch", EXIT_NO_TORCH)
    try:
        import torch
    except Exception as exc:  # noqa: BLE001 - an ImportError, or a broken install raising something else
        return fail(f"{sys.executable} (Python {sys.version.split()[0]}) cannot import torch "
                    f"({type(exc).__name__}: {exc}); install torch >= 1.11 there", EXIT_NO_TORCH)
    if _version_tuple(torch.__version__) < MIN_TORCH:
        return fail(f"torch {torch.__version__} is too old; the bundle needs torch >= 1.11", EXIT_NO_TORCH)
    try:
        with open(os.path.join(HERE, "manifest.json")) as fh:
            manifest = json.load(fh)
        import device_identify as ident
        import timing_protocol as tp
    except (OSError, ValueError, ImportError) as exc:
        return fail(f"{HERE} is not a complete bundle ({type(exc).__name__}: {exc}); rebuild it with "
                    "`suite bundle`", EXIT_USAGE)
    if args.threads is not None and args.threads < 1:
        return fail(f"--threads must be a positive integer, got {args.threads}", EXIT_USAGE)

    entries = {m["name"]: m for m in manifest["models"]}
    names = list(entries)
    if args.models:
        names = [n.strip() for n in args.models.split(",") if n.strip()]
        unknown = [n for n in names if n not in entries]
        if unknown:
            return fail(f"not in this bundle: {', '.join(unknown)}; it holds {', '.join(entries)}", EXIT_USAGE)

    info = ident.device_info(device_model_file=args.device_model_file)
    detected = info["label"]
    label = args.label.strip() if args.label else detected
    threads = args.threads or manifest.get("threads") or ident.physical_cores()
    shipped = manifest.get("files", {})
    modified = sorted(f for f, digest in shipped.items() if _sha256(os.path.join(HERE, f)) != digest)
    protocol = tp.Protocol.from_dict(manifest.get("protocol"))
    input_size = [int(s) for s in manifest["input_size"]]
    batch = int(manifest.get("batch", 1))
    per_image_batch = manifest.get("per_image_batch", 100) or None
    doc: dict = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "status": "ok",
        "label": label, "label_detected": detected, "label_override": label != detected,
        "device": info,
        "bundle": {k: manifest.get(k) for k in ("suite_version", "git_commit", "created", "table", "bundle_id")},
        "files_modified": modified,  # shipped files whose bytes differ from the manifest's digests
        "protocol": protocol.to_dict(), "input_size": input_size, "batch": batch,
        "per_image_batch": per_image_batch, "threads": threads,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t_start)), "models": {},
    }
    if args.expect and label != args.expect:
        doc["status"] = "wrong-device"
        doc["expected"] = args.expect
        _write(doc, args.out)
        return fail(f"this device is {ident.describe(info)}, labelled {detected!r}, not {args.expect!r}",
                    EXIT_WRONG_DEVICE)
    if args.identify:
        doc["status"] = "identified"
        _write(doc, args.out)
        return EXIT_OK
    if args.eager_only or not manifest.get("onnx"):
        ort_state, ort_detail = "missing", ("--eager-only" if args.eager_only else
                                            "the bundle ships no ONNX files (suite bundle --no-onnx)")
    else:
        ort_state, ort_detail = probe_import(ORT)
    if ort_state == "sigill":
        say(f"{ort_detail}; timing eager only")
    doc["runtimes"] = {"eager": {"status": "ok"},
                       ORT: {"status": "ok", "version": ort_detail} if ort_state == "ok"
                       else {"status": ort_state, "reason": ort_detail}}
    say(f"{ident.describe(info)}: label {label}{' (override)' if label != detected else ''}, torch "
        f"{info['torch']}, {threads} thread(s), {len(names)} model(s), runtimes eager"
        + (f" and {ORT} {ort_detail}" if ort_state == "ok" else ""))
    try:
        import zoo

        doc["bundle"]["zoo"] = os.path.abspath(zoo.__file__)
        zoo_error = None
        load_user_models(manifest.get("user_models") or [])
    except Exception as exc:  # noqa: BLE001 - every model then fails with the same reason
        zoo_error = f"cannot import the bundled zoo or the user's models: {type(exc).__name__}: {exc}"
    doc["bundle"]["timing_protocol"] = os.path.abspath(tp.__file__)
    failed = 0
    for name in names:
        entry = entries[name]
        head = int(entry["num_classes"])
        t0 = time.time()
        if args.time_limit_s is not None and t0 - t_start > args.time_limit_s:
            doc["models"][name] = {"model": name, "num_classes": head, "status": "failed",
                                   "error": f"not timed: the time limit of {args.time_limit_s:.0f} s was reached"}
            failed += 1
            continue
        try:
            if zoo_error:
                raise RuntimeError(zoo_error)
            net = zoo.create_model(name, num_classes=head)
            cells: dict = {}
            modules = {"eager": net}
            if ort_state == "ok":
                module, cells[ORT] = prepare_ort(entry, per_image_batch, threads, ort_detail)
                if module is not None:
                    modules[ORT] = module
            timed = time_interleaved(tp, modules, cells, input_size=input_size, batch=batch, threads=threads,
                                     per_image_batch=per_image_batch, protocol=protocol)
            m = timed["eager"]
            prov = {"source": "bundle", "label": label, "label_override": label != detected,
                    "device_model": info["device_model"], "cpu": info["cpu"], "host": info["hostname"],
                    "torch": info["torch"], "python": info["python"], "threads": m.threads,
                    "num_classes": head, "protocol": protocol.to_dict(), "suite_version": manifest.get("suite_version"),
                    "git_commit": manifest.get("git_commit"), "clock_mhz": info["clock_mhz"],
                    "governor": info["governor"]}
            if label != detected:
                prov["label_detected"] = detected
            result = tp.LatencyResult(model=name, hardware=label, device="cpu", input_size=tuple(input_size),
                                      batch=batch, threads=m.threads, provenance=prov, **m.result_fields())
            doc["models"][name] = {**result.to_dict(), "num_classes": head, "status": "ok",
                                   "elapsed_s": round(time.time() - t0, 3)}
            per = result.per_image_ms
            say(f"{name}: {result.median_ms:.2f} ms at batch {batch}"
                + (f", {per:.3f} ms/image at batch {per_image_batch}" if per is not None else ""))
            for rt, cell in cells.items():
                if rt in timed:
                    cell_prov = {**prov, "threads": timed[rt].threads}
                    timed_result = tp.LatencyResult(model=name, hardware=label, device="cpu",
                                                    input_size=tuple(input_size), batch=batch,
                                                    threads=timed[rt].threads, provenance=cell_prov,
                                                    **timed[rt].result_fields())
                    cell.update(timed_result.to_dict(), status="measured")
                    say(f"{name}: {rt} {timed_result.median_ms:.2f} ms at batch {batch}")
                else:
                    say(f"{name}: {cell['reason']}")
            if cells:
                doc["models"][name]["runtimes"] = cells
            del net
        except Exception as exc:  # noqa: BLE001 - one model failing never stops the others
            failed += 1
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            doc["models"][name] = {"model": name, "num_classes": head, "status": "failed",
                                   "error": f"{type(exc).__name__}: {first}".rstrip(": "),
                                   "traceback": traceback.format_exc()[-4000:]}
            say(f"{name}: failed: {doc['models'][name]['error']}")
    doc["status"] = "failed" if failed else "ok"
    doc["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    doc["elapsed_s"] = round(time.time() - t_start, 3)
    doc["device"]["temperature_end_c"] = ident.temperature_c()
    _write(doc, args.out)
    return EXIT_MODEL_FAILED if failed else EXIT_OK


def time_interleaved(tp, modules: dict, cells: dict, **timing) -> dict:
    """Eager and the converted models timed interleaved; a runtime failing mid-timing is its cell's reason and
    eager is then timed alone."""
    if len(modules) > 1:
        try:
            return tp.time_models(modules, **timing)
        except Exception as exc:  # noqa: BLE001 - eager's time must not depend on another runtime working
            for rt in modules:
                if rt != "eager":
                    first = (str(exc).strip().splitlines() or [""])[0][:300]
                    cells[rt].update(status="failed", reason=f"{rt}: timing failed: {type(exc).__name__}: {first}")
    return {"eager": tp.time_model(modules["eager"], **timing)}


if __name__ == "__main__":
    sys.exit(main())

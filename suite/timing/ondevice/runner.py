#!/usr/bin/env python3
"""Time the bundled models on this device and write one JSON document (the runner of a `suite bundle`).

    python3 run.py --out times.json            # then, where the suite is: suite import-times times.json --results RUN

Needs Python >= 3.9 and torch >= 1.11 (torchvision only for torchvision-built models). It imports nothing from
the suite: the models come from the bundle's ``zoo/``, the protocol from ``timing_protocol.py`` and the device
identification from ``device_identify.py``, all beside this file. This file is ``suite/timing/ondevice/runner.py``,
copied verbatim; it only works inside a bundle.

Exit status: 0 every model timed, 1 some model failed (the others are in the JSON), 2 bad arguments or bundle,
4 torch missing or too old, 6 the device is not the one ``--expect`` names (the JSON says what it is).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t_start = time.time()
    if sys.version_info[:2] < MIN_PYTHON:
        return fail(f"Python {sys.version.split()[0]} is too old; the bundle needs Python >= 3.9", EXIT_NO_TORCH)
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
    say(f"{ident.describe(info)}: label {label}{' (override)' if label != detected else ''}, torch "
        f"{info['torch']}, {threads} thread(s), {len(names)} model(s)")
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
            m = tp.time_model(net, input_size=input_size, batch=batch, threads=threads,
                              per_image_batch=per_image_batch, protocol=protocol)
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


if __name__ == "__main__":
    sys.exit(main())

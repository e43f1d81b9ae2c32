"""`suite latency MODEL [--hardware cpu,gpu,rpi4,rpi4@host,ssh://host] [--runtimes eager,onnxruntime,...]
[--input 3x32x32] [--batch 1] [--json]`."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

import zoo
from suite import usermodels
from suite.core.errors import SuiteError, parse_size
from suite.timing.profiles import REMOTE_FORMS, local_names
from suite.timing.runtimes import EAGER, RUNTIMES, check_profiles, parse_runtimes


def register(sub) -> None:
    p = sub.add_parser("latency", help="time a model (or predict its Raspberry Pi 4 time)")
    usermodels.add_argument(p)
    p.add_argument("model", help="zoo model name")
    p.add_argument("--hardware", default="cpu",
                   help=f"one or more of {', '.join(local_names())}, {', '.join(REMOTE_FORMS)} (timed there "
                        "over SSH), comma-separated (default cpu)")
    p.add_argument("--runtimes", default=EAGER,
                   help=f"comma-separated, from {', '.join(RUNTIMES)} (default eager, the papers' protocol and the "
                        "only one that decides a verdict); the others are timed beside it, interleaved, after "
                        "their outputs are checked against eager's")
    p.add_argument("--rounds", type=int, default=4, help="interleaved rounds when several runtimes are timed (4)")
    p.add_argument("--input", default="3x32x32", help="input size CxHxW (default 3x32x32, as trained)")
    p.add_argument("--batch", type=int, default=1, help="batch size of the latency measurement (default 1)")
    p.add_argument("--per-image-batch", type=int, default=100,
                   help="batch for the per-image time (batch time / batch; 0 skips it; default 100)")
    p.add_argument("--threads", type=int, help="intra-op threads (default: physical cores; 4 on a Pi)")
    p.add_argument("--num-classes", type=int, help="classifier width (default: the head its paper measured)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    remote = p.add_argument_group("remote devices (rpi4@host, ssh://host)")
    remote.add_argument("--remote-python",
                        help="interpreter on the device (default $SUITE_REMOTE_PYTHON, else python3)")
    remote.add_argument("--ssh-config", help="ssh config file to use instead of ~/.ssh/config (ssh -F); extra "
                                             "ssh options: $SUITE_SSH_OPTIONS")
    remote.add_argument("--label", help="record the device under this profile name whatever it is (e.g. rpi4 for "
                                        "a board the suite does not recognise); the provenance says so")
    remote.add_argument("--remote-timeout", type=int, default=3600, help="overall seconds for the device (3600)")
    p.set_defaults(func=run)


def run(args) -> int:
    # torch: loaded when the command runs, so that building the CLI stays light
    from suite.timing.hardware import parse_profiles
    from suite.timing.latency import measure_latency

    if args.batch < 1 or args.per_image_batch < 0:
        raise SuiteError("--batch must be >= 1 and --per-image-batch >= 0")
    if args.remote_timeout <= 0:
        raise SuiteError(f"--remote-timeout must be a positive number of seconds, got {args.remote_timeout}")
    if args.rounds < 1:
        raise SuiteError(f"--rounds must be a positive integer, got {args.rounds}")
    size = parse_size(args.input)
    runtimes = parse_runtimes(args.runtimes)
    profiles = parse_profiles(args.hardware, threads=args.threads)  # validate all before any timing
    check_profiles(runtimes, profiles)
    if args.num_classes is not None and args.num_classes < 1:
        raise SuiteError(f"--num-classes must be a positive integer, got {args.num_classes}")
    usermodels.load(args.models_from)
    built = zoo.build_model(args.model, num_classes=args.num_classes)
    model = built.module
    heads = built.num_classes
    if [r.name for r in runtimes] != [EAGER]:
        return _runtimes(args, model, heads, profiles, runtimes, size)
    results = [_remote(args, p, size, heads) if p.is_remote else
               measure_latency(model, p, input_size=size, batch=args.batch, threads=args.threads,
                               per_image_batch=args.per_image_batch or None, model_name=args.model).to_dict()
               for p in profiles]
    for line in busy_warnings(results):
        print(line, file=sys.stderr)
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, default=str))
        return 0
    _print_table(results)
    return 0


def busy_warnings(results: list[dict]) -> list[str]:
    """One line per time measured on a busy machine (the timing protocol's rule): shown, never evidence."""
    from dataclasses import fields

    from suite.timing.ondevice.timing_protocol import LoadWindow

    out = []
    for r in results:
        if not r.get("busy"):
            continue
        load = r.get("load") or {}
        try:
            values: dict[str, Any] = {f.name: load.get(f.name) for f in fields(LoadWindow)}
            what = LoadWindow(**values).describe()
        except TypeError:
            what = "load readings missing"
        out.append(f"warning: busy machine while timing on {r.get('hardware')} ({what}): these times are not "
                   "evidence; time again on an idle machine")
    return out


def _runtimes(args, model, heads: int, profiles, runtimes, size) -> int:
    """Each profile under each runtime: JSON keyed by runtime (by hardware, then runtime, for several)."""
    from suite.timing.runtimes.measure import SKIPPED, Cell, measure_runtimes

    out: dict[str, dict[str, dict]] = {}
    for p in profiles:
        if p.is_remote:
            # the device's bundle times eager, and ONNX Runtime where onnxruntime imports there
            device: dict[str, dict[str, dict]] = {}
            eager = {**_remote(args, p, size, heads, device), "runtime": EAGER, "status": "measured"}
            there = device.get(args.model) or {}
            cells = {r.name: there.get(r.name) or Cell(
                r.name, SKIPPED, f"{r.name}: not timed on the device (the bundle times eager, and onnxruntime "
                                 "where it imports there)", declaration=r.provenance()).to_dict()
                     for r in runtimes if r.name != EAGER}
            out[p.name] = {EAGER: eager, **cells} if any(r.name == EAGER for r in runtimes) else cells
            continue
        measured = measure_runtimes(model, p, runtimes, name=args.model, input_size=size, batch=args.batch,
                                    per_image_batch=args.per_image_batch or None, threads=args.threads,
                                    rounds=args.rounds)
        out[p.name] = {k: c.to_dict() for k, c in measured.items()}
    for line in busy_warnings([{"hardware": hw, **c} for hw, cells in out.items() for c in cells.values()]):
        print(line, file=sys.stderr)
    if args.json:
        print(json.dumps(next(iter(out.values())) if len(out) == 1 else out, default=str))
        return 0
    _print_runtimes(args.model, out)
    return 0


def _print_runtimes(model: str, out: dict[str, dict[str, dict]]) -> None:
    console = Console()
    table = Table(title=f"{model}: ms under each runtime (eager decides; the others are context)")
    for col in ("hardware", "runtime", "median", "IQR", "per img", "output check", "busy / reason"):
        table.add_column(col, justify="left" if col in ("hardware", "runtime", "busy / reason") else "right")
    for hw, cells in out.items():
        for rt, c in cells.items():
            check = c.get("output_check") or {}
            diff = "reference" if check.get("reference") else (
                f"{check['max_abs_diff']:.1e}" if "max_abs_diff" in check else "-")
            note = c.get("reason") or ("[yellow]busy[/]" if c.get("busy") else "")
            table.add_row(hw, rt, _ms(c.get("median_ms")), _ms(c.get("iqr_ms")), _ms(c.get("per_image_ms")),
                          diff, note)
    console.print(table)


def _remote(args, profile, size, head: int, runtimes_out: dict[str, dict[str, dict]] | None = None) -> dict:
    """Time the model on a remote device over SSH; its failure there is this command's one-line error."""
    # loaded when this command runs: building the CLI (every command's parser) stays light
    from suite.device.remote import measure_remote

    out = measure_remote(profile, [(args.model, head)], input_size=size, threads=args.threads,
                         per_image_batch=args.per_image_batch or None, batch=args.batch,
                         timeout_s=args.remote_timeout, label=args.label, remote_python=args.remote_python,
                         ssh_config=args.ssh_config, runtimes_out=runtimes_out)
    record = out[args.model]
    if record.get("status") == "failed":
        raise SuiteError(f"{args.model} failed on {profile.remote.display}: {record['error']}")
    return record


def _ms(v) -> str:
    return "-" if v is None else f"{v:.2f}" if v < 100 else f"{v:.0f}"


def _print_table(results: list[dict]) -> None:
    console = Console()
    r0 = results[0]
    pib = next((r["per_image_batch"] for r in results if r["per_image_batch"]), None)
    table = Table(title=f"{r0['model']}, input {'x'.join(map(str, r0['input_size']))}, fp32, ms; "
                        f"latency at batch {r0['batch']}" + (f", per image at batch {pib}" if pib else ""))
    for col in ("hardware", "thr", "median", "p90", "IQR", "runs", "per img", "kind"):
        table.add_column(col, justify="left" if col in ("hardware", "kind") else "right", no_wrap=True)
    for r in results:
        kind = f"[yellow]pred. ±{r['expected_error_pct']:.0f}%[/]" if r["predicted"] else "measured"
        table.add_row(r["hardware"], str(r["threads"]), _ms(r["median_ms"]), _ms(r["p90_ms"]),
                      _ms(r["iqr_ms"]), str(r["runs"]), _ms(r["per_image_ms"]), kind)
    console.print(table)
    for r in results:
        console.print(f"{r['hardware']}: {r['provenance'].get('hardware_device', r['device'])}")
        if r["predicted"]:
            cal = r["calibration"]
            loo = ", ".join(f"{m} {e:.1f} %" for m, e in cal["loo_error_pct"].items())
            worst = (f"; worst {cal['worst_model']} {cal['worst_model_error_pct']:.1f} %"
                     if "worst_model" in cal else "")
            console.print(f"[yellow]rpi4 is a prediction, not a measurement[/]: {cal['method']}; "
                          f"calibrated on {len(cal['points'])} published points ({cal['data_file']}); "
                          f"leave-one-model-out error {cal['expected_error_pct']:.1f} % mean over models{worst} "
                          f"(per model: {loo}); details: python -m suite calibration rpi4")
            for note in cal.get("notes", []):
                console.print(f"  note: {note}")

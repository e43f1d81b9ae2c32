"""`suite bundle (--table ID | --models M1,M2,...) --out DIR`: a folder that times models on a device.

The folder needs only Python >= 3.9 and torch >= 1.11 there (see suite.device.bundle); run it with
`python3 run.py --out times.json` and bring the file back with `suite import-times`.
"""

from __future__ import annotations

from suite import usermodels
from suite.core.errors import SuiteError, parse_size, unknown
from suite.run.plan import RunConfig
from suite.run.presets import PRESETS


def register(sub) -> None:
    p = sub.add_parser("bundle", help="write a self-contained folder that times models on a device (a Pi)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--table", help="every row of this paper table (e.g. 3)")
    which.add_argument("--models", help="comma-separated zoo model names")
    usermodels.add_argument(p)
    p.add_argument("--out", required=True, help="folder to write (created; an older bundle there is replaced)")
    p.add_argument("--input", help="input size CxHxW (default: the table's, 3x32x32 for CIFAR-10)")
    p.add_argument("--threads", type=int, help="intra-op threads on the device (default: its physical cores)")
    p.add_argument("--num-classes", type=int,
                   help="classifier width (default: the table's dataset classes, 10 without a table)")
    p.add_argument("--per-image-batch", type=int,
                   help="batch of the per-image time (default: the preset's, 100 = the authors' test loop; 0 skips)")
    p.add_argument("--preset", default=RunConfig.preset,
                   help="timing protocol of this `suite run` preset (paper = the full protocol; smoke = seconds; "
                        f"default {RunConfig.preset})")
    p.add_argument("--no-onnx", action="store_true",
                   help="ship no ONNX files: the device times eager only (default: each model exported here)")
    p.set_defaults(func=run)


def preset_protocol(name: str):
    """The timing protocol of a `suite run` preset (its per-image batch too), as a Protocol."""
    from suite.timing.ondevice.timing_protocol import Protocol  # torch: loaded when the command runs

    if name not in PRESETS:
        raise unknown("preset", name, PRESETS)
    preset = PRESETS[name]
    return Protocol.from_dict(preset.latency_protocol), preset.per_image_batch


def run(args) -> int:
    # loaded when this command runs: building the CLI (every command's parser) stays light
    from suite.device.bundle import build_bundle, resolve_models

    sources = usermodels.load(args.models_from)
    models = [m for m in args.models.split(",")] if args.models is not None else None
    entries, facts = resolve_models(table=args.table, models=models, num_classes=args.num_classes)
    size = parse_size(args.input) if args.input else facts["input_size"]
    protocol, preset_batch = preset_protocol(args.preset)
    per_image_batch = preset_batch if args.per_image_batch is None else args.per_image_batch
    if per_image_batch < 0:
        raise SuiteError("--per-image-batch must be >= 0")
    out = build_bundle(args.out, entries, input_size=size, threads=args.threads, protocol=protocol,
                       per_image_batch=per_image_batch or None, table=facts["table"],
                       onnx=not args.no_onnx)
    heads = sorted({m.num_classes for m in entries})
    print(f"bundle written to {out}: {len(entries)} model(s), head {'/'.join(map(str, heads))}, input "
          f"{'x'.join(map(str, size))}, per-image batch {per_image_batch or 'none'}, preset {args.preset}")
    if args.table is not None and sources:  # the table's rows and, below them, the user's models
        from suite.device.bundle import BundleModel

        head = args.num_classes or entries[0].num_classes
        entries += [BundleModel(name, head) for name in usermodels.user_models(sources)
                    if name not in {m.name for m in entries}]
    names = {m.name for m in entries}
    for src in sources:
        if not set(src.models) & names:
            continue
        print(f"shipped {src.display} (sha256 {src.short}) for {', '.join(sorted(set(src.models) & names))}")
        needs = usermodels.third_party_imports(src)
        if needs:
            print(f"the device also needs {', '.join(needs)} (imported by {src.display}): install them there")
    tv = [m.name for m in entries if m.needs_torchvision]
    if tv:
        print(f"torchvision needed on the device for: {', '.join(tv)}")
    print(f"on the device: python3 {out}/run.py --out times.json   (Python >= 3.9, torch >= 1.11; "
          "ONNX Runtime is timed too where onnxruntime imports)")
    print("then here:     python -m suite import-times times.json --results RUN_DIR")
    return 0

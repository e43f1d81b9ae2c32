"""`suite import-times FILE --results RUN_DIR`: a device's measured times into a run (superseding lines)."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("import-times", help="add the times a bundle measured on a device to a run")
    p.add_argument("file", help="the JSON a bundle's run.py wrote")
    p.add_argument("--results", required=True, help="the run directory (results/<run name>)")
    p.add_argument("--dry-run", action="store_true", help="check and say what would change; write nothing")
    p.set_defaults(func=run)


def run(args) -> int:
    # loaded when this command runs: building the CLI (every command's parser) stays light
    from suite.watch.importer import import_times

    s = import_times(args.file, args.results, dry_run=args.dry_run)
    verb = "would add" if args.dry_run else "added"
    replaced = f"; replaced the predicted {s.profile} time of {', '.join(s.replaced_predictions)}" \
        if s.replaced_predictions else ""
    print(f"{s.run_dir}: {verb} measured {s.profile} times of {len(s.models)} model(s) "
          f"({', '.join(s.models) or 'none'}) in {s.lines} line(s){replaced}")
    for model, error in s.failures.items():
        print(f"error: {model} failed on the device, not imported: {error}", file=sys.stderr)
    return 2 if s.failures else 0

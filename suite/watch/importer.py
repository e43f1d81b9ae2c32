"""`suite import-times`: put a device's measured times into a run, as superseding results lines.

Lines are never edited: for every line of a timed model the latest line is copied, its ``latency[label]``
set to the measured record (replacing a prediction of the same profile, e.g. rpi4), and appended through the
run store, whose last line per key wins. Everything is checked before the first line is written, so a bad
file or run leaves the run untouched.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from suite.core.errors import SuiteError
from suite.device.times import DeviceTimes, device_times, load_document
from suite.run.store import RESULTS, RunStore


@dataclass
class ImportSummary:
    run_dir: Path
    profile: str
    models: list[str] = field(default_factory=list)  # imported
    lines: int = 0  # superseding lines appended
    replaced_predictions: list[str] = field(default_factory=list)  # models whose same-profile value was predicted
    failures: dict[str, str] = field(default_factory=dict)  # models that failed on the device (not imported)


def resolve_run_dir(path: str | Path) -> Path:
    """The run directory: ``path`` itself, or the one run under it; a one-line error otherwise."""
    path = Path(path)
    if not path.is_dir():
        raise SuiteError(f"--results {path} is not a directory; give a run directory (results/<run name>)")
    if (path / RESULTS).is_file():
        return path
    runs = sorted(p.parent for p in path.glob(f"*/{RESULTS}"))
    if len(runs) == 1:
        return runs[0]
    if runs:
        raise SuiteError(f"--results {path} holds {len(runs)} runs; name one: "
                         + ", ".join(str(r) for r in runs[:6]) + (" ..." if len(runs) > 6 else ""))
    raise SuiteError(f"--results {path} holds no results ({RESULTS} not found); run `suite run` first, or give "
                     "the run directory")


def _timed_shape(line: dict) -> tuple[int | None, list[int] | None]:
    """The head and input size the run's own timing of this line used (its trained model)."""
    trained = (line.get("complexity") or {}).get("trained") or {}
    head, size = trained.get("num_classes"), trained.get("input_size")
    for rec in (line.get("latency") or {}).values():
        size = size or rec.get("input_size")
    return head, (list(size) if size else None)


def check_against_run(times: DeviceTimes, lines: list[dict], where: str) -> None:
    """Models not in the run, or timed with another head or input size than the run's: one line, no write."""
    in_run = sorted({r["model"] for r in lines if r.get("model")})
    missing = [m for m in times.models if m not in in_run]
    if missing:
        raise SuiteError(f"{where}: model(s) not in the run: {', '.join(missing)}; the run holds "
                         f"{', '.join(in_run) or 'no model'}")
    size = times.doc.get("input_size")
    for model in times.records:
        head, run_size = _timed_shape(next(r for r in lines if r.get("model") == model))
        if head is not None and times.heads.get(model) not in (None, head):
            raise SuiteError(f"{where}: {model} was timed with a {times.heads[model]}-class head, the run trained "
                             f"{head} classes; rebuild the bundle with --num-classes {head}")
        if run_size and size and list(size) != run_size:
            raise SuiteError(f"{where}: timed at input {'x'.join(map(str, size))}, the run uses "
                             f"{'x'.join(map(str, run_size))}; rebuild the bundle with --input "
                             f"{'x'.join(map(str, run_size))}")


def import_document(doc: dict, run_dir: str | Path, *, source: str = "bundle", where: str = "the runner JSON",
                    dry_run: bool = False) -> ImportSummary:
    """Append superseding lines carrying the document's measured times (``source``: bundle or ssh)."""
    run_dir = resolve_run_dir(run_dir)
    times = device_times(doc, source=source, where=where)
    store = RunStore(run_dir)
    with nullcontext() if dry_run else store.driver_lock():  # the lines read here stay the latest until ours are added
        return _supersede(store, times, run_dir, where, source, dry_run)


def _supersede(store: RunStore, times: DeviceTimes, run_dir: Path, where: str, source: str,
               dry_run: bool) -> ImportSummary:
    lines = store.lines()
    if not lines:
        raise SuiteError(f"--results {run_dir} holds no results lines; run `suite run` first")
    check_against_run(times, lines, where)
    summary = ImportSummary(run_dir, times.label, failures=dict(times.failures))
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for line in lines:
        record = times.records.get(line.get("model", ""))
        if record is None:
            continue
        previous = (line.get("latency") or {}).get(times.label)
        if previous and previous.get("predicted") and line["model"] not in summary.replaced_predictions:
            summary.replaced_predictions.append(line["model"])
        updated = dict(line)
        updated["latency"] = {**(line.get("latency") or {}), times.label: record}
        cells = times.runtimes.get(line["model"])
        if cells:  # ONNX Runtime timed beside eager there: the same runtime columns as a local run's
            runtimes = dict(line.get("runtimes") or {})
            runtimes[times.label] = {**(runtimes.get(times.label) or {}), **cells}
            updated["runtimes"] = runtimes
        updated["imported"] = {"at": now, "profile": times.label, "source": source}
        if not dry_run:
            store.append(updated)
        summary.lines += 1
        if line["model"] not in summary.models:
            summary.models.append(line["model"])
    return summary


def import_times(path: str | Path, run_dir: str | Path, *, dry_run: bool = False) -> ImportSummary:
    """`suite import-times FILE --results RUN_DIR`."""
    return import_document(load_document(path), run_dir, source="bundle", where=str(path), dry_run=dry_run)

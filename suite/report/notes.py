"""The words around a report table: banner, provenance, footnotes and the table's known misprints."""

from __future__ import annotations

from suite.core.provenance import provenance
from suite.report.tables import TableData
from suite.run.records import ResultRecord
from suite.run.throughput import Throughput
from suite.tables import METRICS
from suite.tables.metrics import ERROR, TIME, TRAIN_TIME
from suite.timing.profiles import PROFILES, label


def banner(td: TableData) -> str:
    if td.run is None or td.errors_meaningful:
        return ""
    m = td.run.manifest
    what = ("a trend, not a reproduction: its errors show how the models rank after a short training, not the "
            "paper's errors" if td.kind == "quick" else
            "it checks the pipeline; its errors say nothing about the paper's. This is not a reproduction")
    return (f"{td.kind.upper()} RUN - {m.get('epochs') or 'reduced'} epoch(s) on {m.get('train_count', '?')} "
            f"training images, errors measured on {m.get('test_count', '?')} test images: {what}.")


def _latency_of(td: TableData, hw: str) -> dict:
    return next((line["latency"][hw] for line in td.run.lines if hw in (line.get("latency") or {})), {}) \
        if td.run is not None else {}


def _prediction_notes(td: TableData, hw: str) -> list[str]:
    stats = [r.times[hw] for r in td.rows if hw in r.times and r.times[hw].predicted]
    if not stats:
        return []
    name = label(hw)
    rec = _latency_of(td, hw)
    cal = rec.get("calibration") or {}
    err = max((s.expected_error_pct or 0.0) for s in stats)
    worst = cal.get("worst_model")
    worst_pct = cal.get("worst_model_error_pct", cal.get("max_loo_error_pct"))
    points = len(cal.get("points") or [])
    worst_text = f", worst model {worst} ±{worst_pct:.0f} %" if worst and worst_pct is not None else ""
    notes = [f"* {name} times marked * are predicted, not measured (no Raspberry Pi here): "
             f"suite.timing.rpi4 predicts them "
             f"from what the Pi's torch executes for each model, calibrated on {points or 'the'} published Pi 4 times, "
             f"with an expected error of about ±{err:.0f} % (leave-one-model-out{worst_text}). A prediction never "
             "decides a claim: claim parts that rest on it are 'inconclusive (predicted)'. Measure on a real Pi with "
             "`suite bundle` or `--hardware rpi4@host` to fill them."]
    held = [r.row for r in td.rows if hw in r.held_out]
    if held:
        notes.append(f"{', '.join(held)}: calibration models of the {name} predictor, each predicted by the fit "
                     "without its own published times (leave-one-model-out), so their Δ is an out-of-sample error, "
                     "not a fitted residual.")
    outside = [r.row for r in td.rows if hw in r.extrapolated]
    if outside:
        notes.append(f"{', '.join(outside)}: {name} predictions extrapolated beyond the calibration models' "
                     f"features; expect a larger error than ±{err:.0f} %.")
    return notes


def _measured_notes(td: TableData, hw: str) -> list[str]:
    if not any(hw in r.times and not r.times[hw].predicted for r in td.rows):
        return []
    rec = _latency_of(td, hw)
    prov = rec.get("provenance") or {}
    device = next((r.devices[hw] for r in td.rows if hw in r.devices), None) or prov.get("hardware_device") or "?"
    source = prov.get("source") or "native"
    how = (f"median time of a batch of {rec.get('per_image_batch') or '?'} images divided by the batch"
           if td.spec.latency.per_image else f"median time at batch {td.spec.latency.batch}")
    where = {"bundle": "measured on the device through a `suite bundle` and imported",
             "ssh": "measured on the device over SSH"}.get(source, "measured natively")
    published = td.spec.published_devices.get(hw)
    text = (f"{label(hw)}: {how}, {where} on {device} with {rec.get('threads') or '?'} thread(s) (see "
            "provenance)")
    text += f"; the paper's: {published}." if published else "; not a column of the paper."
    return [text]


def footnotes(td: TableData) -> list[str]:
    spec, notes = td.spec, []
    groups = {METRICS[c].group for c in spec.columns}
    for hw in td.hardware:
        notes += _prediction_notes(td, hw) + _measured_notes(td, hw)
    for c in spec.columns:
        m = METRICS[c]
        if m.group == TIME and m.hardware not in td.hardware and td.run is not None:
            paper = spec.published_devices.get(m.hardware or "", "the paper's device")
            profile = PROFILES.get(m.hardware or "")
            how = profile.how() if profile else f"add `--hardware {m.hardware}`"
            notes.append(f"{label(m.hardware or '')}: not measured - {how} (the paper: {paper}).")
    sources = sorted({src for r in td.rows for src in r.supplemented.values()})
    for src in sources:
        rows = [r.row for r in td.rows if src in r.supplemented.values()]
        notes.append(f"† published cells this table left empty ({', '.join(rows)}), taken from {src}: another "
                     "published measurement, shown for comparison.")
    if ERROR in groups and td.run is not None:
        notes.append("Error: best = the lowest test error over all epochs, i.e. model selection on the test set, as "
                     "the papers reported it; final = the last epoch, the unbiased figure. Accuracies are taken at "
                     "the best epoch. Mean ± sample std over seeds.")
        if not td.errors_meaningful:
            notes.append(f"This is a {td.kind} run: its errors come from a shortened training and are not "
                         "comparable with the paper's; Δ pp is shown greyed for completeness only.")
    if TRAIN_TIME in groups and td.run is not None:
        device = (td.run.manifest.get("provenance") or {}).get("device_name") or td.run.manifest.get("device")
        notes.append(f"Training time measured by the training engine on {device} ({td.run.manifest.get('device')}).")
    if spec.latency.note and any(METRICS[c].group == TIME for c in spec.columns):
        notes.append(_timing_note(td))
    notes += busy_notes(td) + merge_notes(td) + origin_notes(td)
    notes += [n if n.endswith(".") else n + "." for n in spec.notes]
    return notes


def _timing_note(td: TableData) -> str:
    """The table's stated timing choice, with the batch this run actually timed where the two differ."""
    note = td.spec.latency.note
    batches = sorted({int(rec["per_image_batch"]) for line in (td.run.lines if td.run is not None else [])
                      for rec in (line.get("latency") or {}).values()
                      if isinstance(rec, dict) and rec.get("per_image_batch") and not rec.get("predicted")})
    if not td.spec.latency.per_image or not batches or all(f"batch of {b}" in note for b in batches):
        return f"Timing: {note}."
    used = ", ".join(str(b) for b in batches)
    return (f"Timing: {note} for the full presets; this run's preset timed batches of {used} images and divided by "
            f"{used}, as the hardware notes above say.")


def busy_notes(td: TableData) -> list[str]:
    """Which time cells were measured while other processes used the CPU (marked ‡; they never decide)."""
    busy = {hw: [r.row for r in td.rows if hw in r.times and r.times[hw].busy] for hw in td.hardware}
    out = []
    for hw, rows in busy.items():
        if not rows:
            continue
        loads = [rec.get("load") or {} for line in (td.run.lines if td.run is not None else [])
                 for h, rec in (line.get("latency") or {}).items() if h == hw and isinstance(rec, dict)
                 and rec.get("busy")]
        others = [ld["other_cpu"] for ld in loads if ld.get("other_cpu") is not None]
        seen = f" (other processes used up to {max(others):.0%} of the cores)" if others else ""
        out.append(f"‡ {label(hw)} times of {', '.join(rows)} were measured while the machine was busy"
                   f"{seen}: shown, never deciding a claim (their claim parts are 'inconclusive (busy machine)'). Time "
                   "them again on a quiet machine.")
    return out


def merge_notes(td: TableData) -> list[str]:
    """Which rows came from which of the merged runs, and whether their times were taken alike."""
    if td.run is None or len(td.run.merged) < 2:
        return []
    models: dict[str, list[str]] = {}
    threads: dict[str, set] = {}
    for line in td.run.lines:
        run = str(line.get("run"))
        models.setdefault(run, []).append(f"{line.get('model')} seed {line.get('seed')}")
        for hw, rec in (line.get("latency") or {}).items():
            if isinstance(rec, dict) and not rec.get("predicted") and rec.get("threads"):
                threads.setdefault(hw, set()).add((run, rec["threads"]))
    parts = "; ".join(f"{run}: {', '.join(lines)}" for run, lines in models.items())
    out = [f"This table merges {len(models)} compatible runs (same data set, preset, recipe, budget): {parts}."]
    for hw, seen in sorted(threads.items()):
        if len({t for _, t in seen}) > 1:
            counts = ", ".join(f"{run} {t}" for run, t in sorted(seen))
            out.append(f"{label(hw)} times of the merged runs were taken with different thread counts ({counts}): "
                       "not comparable across runs.")
    return out


def origin_notes(td: TableData) -> list[str]:
    """Say so when a table's lines came from different hosts (e.g. seeds appended on another machine)."""
    if td.run is None:
        return []
    hosts: dict[str, list[str]] = {}
    for line in td.run.lines:
        worker = line.get("worker") or {}
        host = (worker.get("time") or worker.get("train") or {}).get("host")
        if host:
            hosts.setdefault(str(host), []).append(f"{line.get('model')} seed {line.get('seed')}")
    if len(hosts) < 2:
        return []
    parts = "; ".join(f"{h}: {', '.join(lines)}" for h, lines in sorted(hosts.items()))
    return [f"This table's lines come from {len(hosts)} different hosts ({parts}): times measured on different "
            "machines are not comparable with each other."]


def misprints(td: TableData) -> list[dict]:
    out = [{"row": m.row, "issue": m.issue, "source": "table declaration"} for m in td.spec.misprints]
    covered = {m.row for m in td.spec.misprints}
    for r in td.spec.rows:
        if r.note and r.row not in covered and not r.note.startswith("reconstructed"):
            out.append({"row": r.row, "issue": r.note, "source": "row note"})
    return out


def provenance_items(td: TableData) -> list[tuple[str, str]]:
    if td.run is None:
        prov = provenance("cpu")
        return [("kind", "complexity only: computed by `suite report`, no run needed"),
                ("counter", "torchstat 0.0.7's conventions, re-implemented in suite/complexity/ and checked against "
                            "the real torchstat"),
                ("commit", str(prov.get("git_commit"))),
                ("torch", f"{prov.get('torch')} (torchvision {prov.get('torchvision')}, python {prov.get('python')})")]
    m, run = td.run.manifest, td.run
    prov = m.get("provenance") or {}
    recipe = m.get("recipe") or {}
    ds = m.get("dataset_meta") or {}
    statuses: dict[str, int] = {}
    for line in run.lines:
        statuses[line.get("status", "?")] = statuses.get(line.get("status", "?"), 0) + 1
    epochs = m.get("epochs") or recipe.get("epochs") or dict(recipe.get("epochs_by_dataset") or []).get(
        m.get("dataset"), recipe.get("default_epochs"))
    items = [
        ("run", f"{run.name} ({run.path})"),
        ("kind", td.kind + ("" if td.errors_meaningful else " - not a reproduction")),
        ("preset", run.preset),
        ("commit", str(prov.get("git_commit", "unknown"))),
        ("torch", f"{prov.get('torch', '?')} (torchvision {prov.get('torchvision', '?')}, python "
                  f"{prov.get('python', '?')})"),
        ("device", f"{m.get('device', prov.get('device', '?'))}: {prov.get('device_name', '?')}"),
        ("threads", f"{m.get('threads') or prov.get('threads', '?')} (cpu count {prov.get('cpu_count', '?')})"),
        ("executor", str(m.get("executor") or "local")),
        ("recipe", f"{m.get('recipe_name', recipe.get('name', '?'))}: {recipe.get('optimizer', '?')} lr "
                   f"{recipe.get('lr', '?')}, batch {recipe.get('batch_size') or recipe.get('default_batch_size')}"
                   f", schedule {recipe.get('schedule', '?')} {list(recipe.get('milestones') or [])}"
                   + (f"; overrides {m['recipe_overrides']}" if m.get("recipe_overrides") else "")),
        ("epochs", str(epochs)),
        ("images", f"{m.get('train_count', '?')} train / {m.get('test_count', '?')} test" + _subset(m, ds)),
        ("dataset fingerprint", f"{ds.get('fingerprint', '?')} (official checksums: "
                                f"{'yes' if ds.get('checksum_verified') else 'no'})"),
        ("seeds", ", ".join(str(s) for s in m.get("seeds", [])) or "?"),
        ("hardware", ", ".join(m.get("hardware", td.hardware)) or "none"),
        ("precision", f"{m.get('precision', 'fp32')}{', channels-last' if m.get('channels_last') else ''}"),
        ("training mode", training_modes(m, run.lines)),
        ("lines", ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
                  + (f"; {run.unreadable} unreadable (interrupted write)" if run.unreadable else "")),
        ("updated", str(m.get("updated", "?"))),
    ]
    rates = throughput_text(run.lines)
    if rates:
        items.append(("training throughput", rates))
    if recipe.get("notes"):
        items.append(("recipe notes", str(recipe["notes"])))
    if len(run.merged) > 1:
        items.append(("runs merged", "; ".join(run.merged)))
    if run.ignored:
        items.append(("runs left out", "; ".join(run.ignored)))
    return items


def throughput_text(lines: list[dict]) -> str:
    """Per model, the mean over its seeds of training images/s, achieved GFLOP/s and share of the device's peak,
    then the rule and each peak's source (suite.run.throughput); "" when no line has a throughput."""
    per_model: dict[str, list[Throughput]] = {}
    for line in lines:
        rate = ResultRecord.from_dict(line).throughput
        if rate is not None and rate.images_per_s is not None:
            per_model.setdefault(str(line.get("model")), []).append(rate)
    if not per_model:
        return ""

    def mean(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return sum(known) / len(known) if len(known) == len(values) else None

    parts = []
    for model, rates in per_model.items():
        ips, gflops = mean([r.images_per_s for r in rates]), mean([r.achieved_gflops for r in rates])
        share = mean([r.share_of_peak for r in rates])
        text = f"{model}: {ips:,.0f} img/s" if ips is not None else f"{model}: img/s unknown"
        text += f", {gflops:,.1f} GFLOP/s" if gflops is not None else ", GFLOP/s unknown"
        text += f" ({100 * share:.1f} % of peak)" if share is not None else " (share of peak unknown)"
        parts.append(text + (f", mean of {len(rates)} seeds" if len(rates) > 1 else ""))
    rated = [r for rates in per_model.values() for r in rates]
    peaks = sorted({f"{r.peak_precision}: {r.peak_source}" for r in rated})
    return "; ".join(parts) + f". Rule: {rated[0].rule}. Peak: " + "; ".join(peaks)


def training_modes(manifest: dict, lines: list[dict]) -> str:
    """The --mode of the run and the mode each model trained in, with why (suite.core.modes)."""
    option = manifest.get("mode") or ("channels_last+compile" if manifest.get("channels_last") and
                                      manifest.get("compile") else "channels_last" if manifest.get("channels_last")
                                      else "compile" if manifest.get("compile") else "eager")
    per_model: dict[str, str] = {}
    for line in lines:
        mode = line.get("mode")
        if isinstance(mode, dict) and mode.get("mode"):
            per_model[str(line.get("model"))] = f"{mode['mode']} ({mode.get('source') or '?'})"
    if not per_model or len(set(per_model.values())) == 1 and option != "auto":
        return f"--mode {option}" + (f": {next(iter(per_model.values()))}" if per_model else "")
    return f"--mode {option}: " + "; ".join(f"{model} {text}" for model, text in sorted(per_model.items()))


def _subset(m: dict, ds: dict) -> str:
    if not (m.get("train_subset") or m.get("test_subset")):
        return ""
    full = ds.get("full_counts") or {}
    return (f" (class-balanced subsets of {full.get('train', '?')} / {full.get('test', '?')})" if full
            else " (subsets)")

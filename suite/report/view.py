"""What the templates show: a report's sections as rows of formatted cells, plus provenance and footnotes."""

from __future__ import annotations

from dataclasses import dataclass, field

from suite.report.stats import Stat, fmt_num, fmt_stat, time_digits
from suite.report.tables import COMPLEXITY, LABELS, PAPER_HARDWARE, PUBLISHED_TIME, RowData, TableData

COMPLEXITY_WARN_PCT = 1.0  # a measured complexity further than this from the printed figure is highlighted


@dataclass
class Cell:
    text: str
    cls: str = ""  # css class: num, pred, warn, na, pub

    def __str__(self) -> str:
        return self.text


@dataclass
class Section:
    title: str
    caption: str
    header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


def _rel(measured: float | None, published: float | None, warn: float | None = None,
         printed_digits: int | None = None) -> Cell:
    if measured is None or published in (None, 0):
        return Cell("—", "na")
    if printed_digits is not None and round(measured, printed_digits) == round(published, printed_digits):
        return Cell("=", "num")  # the same number to the printed digit
    rel = 100.0 * (measured / published - 1)
    return Cell(f"{rel:+.1f} %", "num warn" if warn is not None and abs(rel) > warn else "num")


def _stat(s: Stat | None, digits: int | None = None) -> Cell:
    if s is None:
        return Cell("—", "na")
    return Cell(fmt_stat(s, digits), "num pred" if s.predicted else "num")


def _pub(v, digits: int | None = None) -> Cell:
    if v is None:
        return Cell("—", "na")
    return Cell(fmt_num(v, digits if digits is not None else time_digits(v) if v < 100 else 1), "num pub")


def _status(r: RowData) -> Cell:
    if not r.measured:
        return Cell("not run", "na")
    bad = [s for s in r.statuses if s != "ok"]
    if not bad:
        return Cell("ok")
    return Cell(", ".join(sorted(set(bad))) + (f" ({'; '.join(r.reasons)})" if r.reasons else ""), "warn")


def time_error_section(td: TableData) -> Section:
    header = ["Row", "Model"]
    for hw in ("gpu", "rpi4"):
        header += [f"{LABELS[hw]} ms/img (paper)", f"{LABELS[hw]} ms/img (ours)", "Δ"]
    extra = [hw for hw in td.hardware if hw not in PUBLISHED_TIME]
    header += [f"{LABELS.get(hw, hw)} ms/img (ours)" for hw in extra]
    header += ["Error % best (paper)", "Error % best (ours)", "Δ pp", "Error % final (ours)", "Seeds",
               "Status"]
    sec = Section("Inference time and test error", "time per image; error on the test set "
                  "(best = lowest over all epochs, final = last epoch)", header)
    for r in td.rows:
        cells = [Cell(r.row), Cell(r.model)]
        for hw, col in PUBLISHED_TIME.items():
            cells.append(_pub(r.published.get(col)))
            if hw in r.times:
                cells += [_stat(r.times[hw]), _rel(r.times[hw].mean, r.published.get(col))]
            elif hw not in td.hardware:
                cells += [Cell("not measured", "na"), Cell("—", "na")]
            else:
                cells += [Cell("—", "na"), Cell("—", "na")]
        cells += [_stat(r.times.get(hw)) for hw in extra]
        pub_err = r.published.get("error_pct")
        cells.append(_pub(pub_err, 2))
        cells.append(_stat(r.error_best, 2))
        if r.error_best is not None and pub_err is not None:
            cls = "num" if td.errors_meaningful else "num na"
            cells.append(Cell(f"{r.error_best.mean - pub_err:+.2f}", cls))
        else:
            cells.append(Cell("—", "na"))
        cells += [_stat(r.error_final, 2), Cell(",".join(str(s) for s in r.seeds) or "—"), _status(r)]
        sec.rows.append(cells)
    return sec


def complexity_published_section(td: TableData) -> Section:
    header = ["Row", "Profiled model", "Head"]
    for m in COMPLEXITY:
        header += [f"{LABELS[m]} (paper)", f"{LABELS[m]} (ours)", "Δ"]
    sec = Section("Complexity as published: 3x224x224, the published head, torchstat convention",
                  "what the paper's columns measure (not the 32x32 models it trained); Δ = ours / paper - 1, "
                  f"highlighted beyond {COMPLEXITY_WARN_PCT:.0f} %; = means equal to the printed digit",
                  header)
    for r in td.rows:
        cells = [Cell(r.row), Cell(r.profiled_model), Cell(str(r.published_head or "—"))]
        for m in COMPLEXITY:
            ours = r.complexity_published.get(m)
            cells += [_pub(r.published.get(m), 2), Cell(fmt_num(ours), "num" if ours is not None else "na"),
                      _rel(ours, r.published.get(m), COMPLEXITY_WARN_PCT, printed_digits=2)]
        sec.rows.append(cells)
    return sec


def complexity_trained_section(td: TableData) -> Section:
    header = ["Row", "Model", "Head", "Input"] + [LABELS[m] for m in COMPLEXITY] + ["MACs (G, complete "
                                                                                    "count)"]
    sec = Section("Complexity as trained: the trained input and head",
                  "torchstat convention; the last column counts every op (functional ops and reused modules "
                  "included), for comparison", header)
    for r in td.rows:
        cells = [Cell(r.row), Cell(r.model), Cell(str(r.trained_head or "—")),
                 Cell("x".join(str(s) for s in r.trained_input) if r.trained_input else "—")]
        cells += [Cell(fmt_num(r.complexity_trained.get(m), 3), "num") for m in COMPLEXITY]
        macs = r.complete_trained.get("flops_g")
        cells.append(Cell(fmt_num(macs / 2 if macs is not None else None, 3), "num"))
        sec.rows.append(cells)
    return sec


def footnotes(td: TableData) -> list[str]:
    notes = []
    for hw in td.hardware:
        stats = [r.times[hw] for r in td.rows if hw in r.times and r.times[hw].predicted]
        if stats:
            err = max((s.expected_error_pct or 0.0) for s in stats)
            notes.append(f"* {LABELS.get(hw, hw)} times marked * are predicted, not measured (no Raspberry "
                         "Pi 4 "
                         "here): suite.rpi4 predicts them from each model's features, with an expected "
                         "error "
                         f"of about ±{err:.0f} % (leave-one-model-out on the published Pi times); the "
                         "published "
                         "Pi times themselves differ by up to 29 % between Tables III and IV.")
            held = [r.row for r in td.rows if hw in r.held_out]
            if held:
                notes.append(f"{', '.join(held)}: calibration models of the {LABELS.get(hw, hw)} predictor, "
                             "each predicted by the fit without its own published times (leave-one-model-out), "
                             "so their Δ is an out-of-sample error, not a fitted residual.")
            outside = [r.row for r in td.rows if hw in r.extrapolated]
            if outside:
                notes.append(f"{', '.join(outside)}: {LABELS.get(hw, hw)} predictions extrapolated beyond the "
                             "calibration models' features (input size, MACs, bytes moved or op count); expect "
                             f"a larger error than ±{err:.0f} %.")
    if "gpu" not in td.hardware:
        notes.append(f"GPU: not measured - no CUDA device was used for this run (the paper timed an "
                     f"{PAPER_HARDWARE['gpu']}); run `suite run --hardware gpu,rpi4` on a CUDA machine to "
                     "fill it.")
    if "cpu" in td.hardware:
        cpu = next((r["latency"]["cpu"] for r in td.run.lines if "cpu" in (r.get("latency") or {})), {})
        notes.append(f"CPU: median time of a batch of {cpu.get('per_image_batch') or '?'} images divided by "
                     f"the batch, on this machine's CPU with {cpu.get('threads') or '?'} thread(s) (see "
                     "provenance); not a column of the paper.")
    notes.append("Error: best = the lowest test error over all epochs, i.e. model selection on the test "
                 "set, as the "
                 "paper reported it; final = the last epoch, the unbiased figure. Mean ± sample std over "
                 "seeds.")
    if not td.errors_meaningful:
        notes.append(f"This is a {td.kind} run: its errors come from a shortened training and are not "
                     "comparable "
                     "with the paper's; Δ pp is shown greyed for completeness only.")
    return notes


def provenance_items(td: TableData) -> list[tuple[str, str]]:
    m, run = td.run.manifest, td.run
    prov = m.get("provenance") or {}
    recipe = m.get("recipe") or {}
    ds = m.get("dataset_meta") or {}
    statuses: dict[str, int] = {}
    for line in run.lines:
        statuses[line.get("status", "?")] = statuses.get(line.get("status", "?"), 0) + 1
    epochs = m.get("epochs") or recipe.get("epochs") or dict(recipe.get("epochs_by_dataset") or []).get(
        td.dataset, recipe.get("default_epochs"))
    items = [
        ("run", f"{run.name} ({run.path})"),
        ("kind", td.kind + ("" if td.errors_meaningful else " - not a reproduction")),
        ("preset", run.preset),
        ("commit", str(prov.get("git_commit", "unknown"))),
        ("torch", f"{prov.get('torch', '?')} (torchvision {prov.get('torchvision', '?')}, python "
                  f"{prov.get('python', '?')})"),
        ("device", f"{m.get('device', prov.get('device', '?'))}: {prov.get('device_name', '?')}"),
        ("threads", f"{m.get('threads') or prov.get('threads', '?')} (cpu count "
                    f"{prov.get('cpu_count', '?')})"),
        ("recipe", f"{m.get('recipe_name', recipe.get('name', '?'))}: {recipe.get('optimizer', '?')} lr "
                   f"{recipe.get('lr', '?')}, batch "
                   f"{recipe.get('batch_size') or recipe.get('default_batch_size')}"
                   f", schedule {recipe.get('schedule', '?')} {list(recipe.get('milestones') or [])}"
                   + (f"; overrides {m['recipe_overrides']}" if m.get("recipe_overrides") else "")),
        ("epochs", str(epochs)),
        ("images", f"{m.get('train_count', '?')} train / {m.get('test_count', '?')} test" + _subset(m, ds)),
        ("dataset fingerprint", f"{ds.get('fingerprint', '?')} (official checksums: "
                                f"{'yes' if ds.get('checksum_verified') else 'no'})"),
        ("seeds", ", ".join(str(s) for s in m.get("seeds", [])) or "?"),
        ("hardware", ", ".join(m.get("hardware", td.hardware)) or "none"),
        ("precision", f"{m.get('precision', 'fp32')}{', channels-last' if m.get('channels_last') else ''}"),
        ("lines", ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
                  + (f"; {run.unreadable} unreadable (interrupted write)" if run.unreadable else "")),
        ("updated", str(m.get("updated", "?"))),
    ]
    if run.ignored:
        items.append(("other runs (not merged)", "; ".join(run.ignored)))
    return items


def _subset(m: dict, ds: dict) -> str:
    if not (m.get("train_subset") or m.get("test_subset")):
        return ""
    full = ds.get("full_counts") or {}
    return (f" (class-balanced subsets of {full.get('train', '?')} / {full.get('test', '?')})" if full
            else " (subsets)")


def banner(td: TableData) -> str:
    if td.errors_meaningful:
        return ""
    m = td.run.manifest
    return (f"{td.kind.upper()} RUN - {m.get('epochs') or 'reduced'} epoch(s) on {m.get('train_count', '?')} "
            f"training / {m.get('test_count', '?')} test images. It checks the pipeline; its errors say "
            "nothing "
            "about the paper's. This is not a reproduction.")

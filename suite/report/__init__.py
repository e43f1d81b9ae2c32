"""`suite report`: every registered table with our measurements beside the published figures, claims, an index.

``build(results)`` reads the runs under ``results`` (per table the latest run, merged with the runs compatible
with it: ``suite.report.runs``), profiles the complexity-only tables itself, checks every table's claims (a claim
may read several tables) and returns the reports plus an index; ``write`` renders ``<table id>.md``, ``.html``
(standalone, inline CSS and SVG) and ``.json`` for each, and ``index.md`` / ``index.html``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup, escape

from suite.claims import ClaimResult, check
from suite.core.errors import SuiteError
from suite.core.fileio import remove_stale_temps, write_text_atomic
from suite.report import curves, plots, robustness, usermodels
from suite.report.index import IndexEntry, index_entries
from suite.report.measure import measurements
from suite.report.notes import banner, footnotes, misprints, provenance_items
from suite.report.runs import HOW_TO, choose_runs
from suite.report.tables import TableData, build_table, complexity_table
from suite.report.view import sections
from suite.run.store import find_runs, write_json_atomic
from suite.tables import COMPLEXITY, PAPERS, TABLES, get_table


@dataclass
class Report:
    table: TableData
    claims: list[ClaimResult]
    plots: dict[str, str]  # name -> inline SVG
    curves: list[dict] = field(default_factory=list)  # learning curves (suite.report.curves.curve_data)
    curves_svg: str | None = None

    @property
    def stem(self) -> str:
        return self.table.id


@dataclass
class Reports:
    reports: list[Report]
    index: list[IndexEntry]
    notes: list[str] = field(default_factory=list)  # e.g. "no results yet: how to produce them"

    def __iter__(self):
        return iter(self.reports)

    def __len__(self) -> int:
        return len(self.reports)

    def __getitem__(self, i):
        return self.reports[i]


def _runs(results: Path) -> list:
    results = Path(results).expanduser()
    if not results.exists():
        return []
    try:
        return find_runs(results)
    except SuiteError:
        return []  # a results folder without finished lines: like no results at all


def _plots(td: TableData) -> dict[str, str]:
    if td.run is None or not any(r.error_best for r in td.rows):
        return {}
    svgs = {"error_vs_time": plots.error_vs_time(td), "error_vs_params": plots.error_vs_params(td)}
    return {k: v for k, v in svgs.items() if v}


def build(results: Path, *, run_name: str | None = None) -> Reports:
    runs = _runs(Path(results))
    chosen = choose_runs(runs, run_name) if runs or run_name else {}
    tables: dict[str, TableData] = {tid: build_table(get_table(tid), run) for tid, run in chosen.items()}
    if run_name is None:
        for spec in TABLES.values():
            if spec.kind == COMPLEXITY:
                tables[spec.id] = complexity_table(spec)
    # Claims read every table they use, each with the zoo's own profile beside it: counts (T2, T6, ...) never
    # depend on which run, or which of its rows, is rendered; tables without a run are profiled only.
    needed = {t for spec in TABLES.values() for c in spec.claims for t in (c.uses or (spec.id,))}
    profiled = {tid: tables[tid] if tables.get(tid) is not None and tables[tid].run is None
                else complexity_table(get_table(tid)) for tid in needed}
    ms = {tid: measurements(tables.get(tid) or profiled[tid], profiled[tid]) for tid in needed}
    claims = {spec.id: check(spec, ms) for spec in TABLES.values() if spec.claims}
    reports = []
    for tid, td in tables.items():
        data = curves.curve_data(td)
        reports.append(Report(td, claims.get(tid, []), _plots(td), data, curves.learning_curves(td, data)))
    reports.sort(key=lambda r: list(TABLES).index(r.table.id))
    notes = [] if runs else [f"no results under {results}: {HOW_TO}"]
    return Reports(reports, index_entries(tables, claims), notes)


def _claims_elsewhere(td: TableData) -> str:
    spec = td.spec
    shown = {c.id for c in spec.claims}
    elsewhere = [f"{c.id} ({t.id})" for t in TABLES.values() for c in t.claims
                 if spec.id in c.uses and c.id not in shown]
    if elsewhere:
        return f"Claims that read this table are checked in: {', '.join(elsewhere)}."
    return "" if spec.claims else "No claim of the paper refers to this table."


def context(rep: Report) -> dict:
    td = rep.table
    return {
        "title": td.title, "id": td.id, "paper": PAPERS[td.spec.paper].citation, "banner": banner(td),
        "kind": td.kind, "provenance": provenance_items(td),
        "sections": sections(td) + usermodels.sections(td), "footnotes": footnotes(td),
        "claims": [c.to_dict() for c in rep.claims], "claims_elsewhere": _claims_elsewhere(td),
        "inconsistencies": misprints(td), "plots": rep.plots, "stem": rep.stem,
        "has_errors": any(m in td.spec.columns for m in ("error_pct", "top1_acc_pct", "top5_acc_pct")),
        "curves": rep.curves_svg is not None, "curve_rows": [c["row"] for c in rep.curves],
        "robustness": robustness.markdown(robustness.of_run(td.spec, td.run)),
    }


def to_json(rep: Report) -> dict:
    td = rep.table
    return {
        "table": td.id, "title": td.title, "paper": td.spec.paper, "dataset": td.dataset,
        "published_table": td.published_table, "columns": list(td.spec.columns), "kind": td.kind,
        "errors_comparable": td.errors_meaningful, "banner": banner(td),
        "run": None if td.run is None else {"name": td.run.name, "path": str(td.run.path),
                                            "manifest": td.run.manifest, "merged_runs": td.run.merged,
                                            "ignored_runs": td.run.ignored},
        "hardware": td.hardware, "rows": [r.to_dict() for r in td.rows],
        "claims": [c.to_dict() for c in rep.claims], "inconsistencies": misprints(td),
        "footnotes": footnotes(td), "plots": sorted(rep.plots), "learning_curves": rep.curves,
        "user_models": [c.to_dict() for c in usermodels.comparisons(td)],
        "robustness": panel.to_dict() if (panel := robustness.of_run(td.spec, td.run)) is not None else None,
    }


def _md_text(value):
    if isinstance(value, str):
        return value.replace("<", "&lt;").replace(">", "&gt;")
    return value


def _env(html: bool):
    from jinja2 import Environment, PackageLoader, StrictUndefined

    # Markdown viewers render raw HTML, so text from results (model names, reasons, hosts) is escaped there too;
    # only the tag brackets: the Markdown itself stays readable.
    finalize = None if html else _md_text
    env = Environment(loader=PackageLoader("suite", "templates"), autoescape=html, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, finalize=finalize)
    env.filters["mdcell"] = lambda v: str(v).replace("|", "\\|").replace("\n", " ")
    env.filters["vclass"] = lambda v: "v-" + str(v).split(" (")[0].replace(" ", "-")
    env.filters["inline"] = inline_code
    return env


def inline_code(text) -> Markup:
    """Escaped text with Markdown's `code` spans rendered as <code> (the notes are written for both formats)."""
    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: nothing to render, shown as written
        return Markup(escape(str(text)))
    return Markup("".join(f"<code>{escape(p)}</code>" if i % 2 else str(escape(p)) for i, p in enumerate(parts)))


def write(reports: Reports | list[Report], out: Path) -> list[Path]:
    out = Path(out).expanduser()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SuiteError(f"cannot create --out {out}: {exc.strerror or exc}") from None
    remove_stale_temps(out, _ours)  # a report killed while writing left its temporary files: ours to remove
    md_env, html_env = _env(False), _env(True)
    md_t, html_t = md_env.get_template("report.md.j2"), html_env.get_template("report.html.j2")
    written = []
    for rep in reports:
        ctx = context(rep)
        for name, svg in rep.plots.items():
            path = out / f"{rep.stem}_{name}.svg"
            _write_text(path, svg)
            written.append(path)
        if rep.curves_svg is not None:
            path = out / f"{rep.stem}_learning_curves.svg"
            _write_text(path, rep.curves_svg)
            written.append(path)
        _write_text(out / f"{rep.stem}.md", md_t.render(ctx))
        html_ctx = ctx | {"plots": {k: Markup(v) for k, v in rep.plots.items()},  # our own SVG, trusted
                          "curves": Markup(rep.curves_svg) if rep.curves_svg is not None else None,
                          "robustness": Markup(robustness.html(robustness.of_run(rep.table.spec, rep.table.run)))}
        _write_text(out / f"{rep.stem}.html", html_t.render(html_ctx))
        write_json_atomic(out / f"{rep.stem}.json", to_json(rep))
        written += [out / f"{rep.stem}.{ext}" for ext in ("md", "html", "json")]
    if isinstance(reports, Reports):
        ctx = {"entries": [e.to_dict() for e in reports.index], "notes": reports.notes}
        for ext, env in (("md", md_env), ("html", html_env)):
            _write_text(out / f"index.{ext}", env.get_template(f"index.{ext}.j2").render(ctx))
            written.append(out / f"index.{ext}")
    return written


def _ours(name: str) -> bool:
    """A file name ``write`` gives: index.md/.html, <table>.md/.html/.json, <table>_<plot>.svg."""
    tables = "|".join(re.escape(t) for t in TABLES)
    return re.fullmatch(rf"index\.(?:md|html)|(?:{tables})(?:\.md|\.html|\.json|_[a-z_]+\.svg)", name) is not None


def _write_text(path: Path, text: str) -> None:
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise SuiteError(f"cannot write {path}: {exc.strerror or exc}") from None


def build_reports(results: Path, out: Path, *, run_name: str | None = None) -> list[Path]:
    return write(build(Path(results), run_name=run_name), out)


__all__ = ["Report", "Reports", "build", "build_reports", "to_json", "write"]

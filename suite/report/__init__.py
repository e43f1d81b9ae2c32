"""`suite report`: the paper's tables with our measurements beside the published figures, claims and plots.

``build_reports(results, out)`` reads every run under ``results`` (one per dataset is chosen: the fullest
preset) and writes ``table<id>.md``, ``.html`` (standalone, inline CSS and SVG) and ``.json`` for each.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from suite.errors import SuiteError
from suite.report import plots
from suite.report.claims import ClaimResult, check_claims, measurements_from_table
from suite.report.known import inconsistencies
from suite.report.loader import choose_runs, find_runs
from suite.report.tables import TableData, build_table, table_for_dataset
from suite.report.view import (
    banner,
    complexity_published_section,
    complexity_trained_section,
    footnotes,
    provenance_items,
    time_error_section,
)
from suite.run import write_json_atomic

CLAIM_TABLE = "3"  # the claims T1-T6 cite Table III (CIFAR-10)


@dataclass
class Report:
    table: TableData
    claims: list[ClaimResult] | None
    plots: dict[str, str]  # name -> inline SVG

    @property
    def stem(self) -> str:
        td = self.table
        return f"table{td.id}" if table_for_dataset(td.dataset) else f"results_{td.dataset}"


def build(results: Path, *, run_name: str | None = None) -> list[Report]:
    reports = []
    for _, run in sorted(choose_runs(find_runs(results), run_name).items()):
        td = build_table(run)
        claims = check_claims(measurements_from_table(td), CLAIM_TABLE) if td.id == CLAIM_TABLE else None
        svgs = {"error_vs_time": plots.error_vs_time(td), "error_vs_params": plots.error_vs_params(td)}
        reports.append(Report(td, claims, {k: v for k, v in svgs.items() if v}))
    return reports


def context(rep: Report) -> dict:
    td = rep.table
    spec = table_for_dataset(td.dataset)
    return {
        "title": td.title, "dataset": td.dataset, "banner": banner(td), "kind": td.kind,
        "provenance": provenance_items(td),
        "sections": [time_error_section(td), complexity_published_section(td),
                     complexity_trained_section(td)],
        "footnotes": footnotes(td),
        "claims": [c.to_dict() for c in rep.claims] if rep.claims is not None else None,
        "claims_elsewhere": rep.claims is None and spec is not None,
        "inconsistencies": inconsistencies(spec),
        "plots": rep.plots, "stem": rep.stem,
    }


def to_json(rep: Report) -> dict:
    td = rep.table
    return {
        "table": td.id, "title": td.title, "dataset": td.dataset, "published_table": td.published_table,
        "kind": td.kind, "errors_comparable": td.errors_meaningful, "banner": banner(td),
        "run": {"name": td.run.name, "path": str(td.run.path), "manifest": td.run.manifest,
                "ignored_runs": td.run.ignored},
        "hardware": td.hardware, "rows": [r.to_dict() for r in td.rows],
        "claims": [c.to_dict() for c in rep.claims] if rep.claims is not None else None,
        "inconsistencies": inconsistencies(table_for_dataset(td.dataset)),
        "footnotes": footnotes(td), "plots": sorted(rep.plots),
    }


def _env(html: bool):
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("suite", "templates"), autoescape=html, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["mdcell"] = lambda v: str(v).replace("|", "\\|").replace("\n", " ")
    return env


def write(reports: list[Report], out: Path) -> list[Path]:
    out = Path(out).expanduser()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SuiteError(f"cannot create --out {out}: {exc.strerror or exc}") from None
    md_t, html_t = _env(False).get_template("report.md.j2"), _env(True).get_template("report.html.j2")
    written = []
    for rep in reports:
        ctx = context(rep)
        for name, svg in rep.plots.items():
            path = out / f"{rep.stem}_{name}.svg"
            _write_text(path, svg)
            written.append(path)
        _write_text(out / f"{rep.stem}.md", md_t.render(ctx))
        html_ctx = ctx | {"plots": {k: Markup(v) for k, v in rep.plots.items()}}  # our own SVG, trusted
        _write_text(out / f"{rep.stem}.html", html_t.render(html_ctx))
        write_json_atomic(out / f"{rep.stem}.json", to_json(rep))
        written += [out / f"{rep.stem}.{ext}" for ext in ("md", "html", "json")]
    return written


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SuiteError(f"cannot write {path}: {exc.strerror or exc}") from None


def build_reports(results: Path, out: Path, *, run_name: str | None = None) -> list[Path]:
    return write(build(Path(results), run_name=run_name), out)


__all__ = ["Report", "build", "build_reports", "to_json", "write"]

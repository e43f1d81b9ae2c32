"""`suite calibration rpi4 [--json]`: the Pi 4 predictor's calibration, its fit and its held-out errors."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from suite.core.errors import unknown

CALIBRATIONS = ("rpi4",)


def register(sub) -> None:
    p = sub.add_parser("calibration", help="show a latency predictor's calibration and leave-one-model-out error")
    p.add_argument("device", help=f"the predicted device: {', '.join(CALIBRATIONS)}")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args) -> int:
    # loaded when this command runs: building the CLI (every command's parser) stays light
    from suite.timing import rpi4

    if args.device not in CALIBRATIONS:
        raise unknown("calibration", args.device, CALIBRATIONS)
    cal = rpi4.calibration().to_dict()
    if args.json:
        print(json.dumps(cal, default=str))
        return 0
    _print(cal)
    return 0


def _print(cal: dict) -> None:
    console = Console()
    models = list(cal["loo_error_pct"])
    console.print(f"[bold]Raspberry Pi 4 predictor[/]: {len(cal['points'])} published points, {len(models)} "
                  f"models ({cal['data_file']})")
    console.print(f"method: {cal['method']}")
    if cal.get("skipped_models"):
        console.print(f"[yellow]left out (not in the zoo)[/]: {', '.join(cal['skipped_models'])}")

    points = Table(title="calibration points (ms per image, Pi 4, 32x32, fp32); prediction = held out")
    for col in ("model", "row", "source", "table", "head", "published", "predicted", "error %"):
        points.add_column(col, justify="left" if col in ("model", "row", "source", "table") else "right")
    for p in cal["points"]:
        pred = cal["loo_prediction_ms"][p["model"]]
        points.add_row(p["model"], p["paper_row"], p["published_in"], p["table"], str(p["head"]),
                       f"{p['time_ms']:.1f}", f"{pred:.1f}", f"{100 * (pred - p['time_ms']) / p['time_ms']:+.1f}")
    console.print(points)

    coef = Table(title="coefficients (fit on every point; non-negative)")
    for col in ("feature", "value", "unit", "meaning"):
        coef.add_column(col, justify="right" if col == "value" else "left")
    for name, c in cal["coefficients"].items():
        coef.add_row(name, f"{c['value']:.4g}", c["unit"], c["meaning"])
    console.print(coef)

    loo = Table(title="leave-one-model-out (form selected and fitted without the model)")
    for col in ("model", "points", "published mean", "predicted", "error %", "form without it"):
        loo.add_column(col, justify="left" if col in ("model", "form without it") else "right")
    for m in models:
        times = [p["time_ms"] for p in cal["points"] if p["model"] == m]
        loo.add_row(m, str(len(times)), f"{sum(times) / len(times):.1f}", f"{cal['loo_prediction_ms'][m]:.1f}",
                    f"{cal['loo_error_pct'][m]:.1f}", " + ".join(cal["loo_features"][m]))
    console.print(loo)
    console.print(f"expected error (nested leave-one-model-out): [bold]{cal['expected_error_pct']:.1f} %[/] mean "
                  f"over models ({cal['expected_error_points_pct']:.1f} % over points); worst "
                  f"{cal['worst_model']} {cal['worst_model_error_pct']:.1f} %")
    console.print(f"selected form's plain LOO {cal['selected_form_loo_pct']:.1f} % and in-sample "
                  f"{cal['in_sample_error_pct']:.1f} % (both optimistic: the form was chosen on these points)")

    ref = Table(title="reference fits (plain leave-one-model-out; never used to choose)")
    for col in ("fit", "features", "LOO %", "worst %", "worst model"):
        ref.add_column(col, justify="left" if col in ("fit", "features", "worst model") else "right")
    for label, r in cal["reference_fits_loo_pct"].items():
        ref.add_row(label, " + ".join(r["features"]), f"{r['loo_pct']:.1f}", f"{r['max_loo_pct']:.1f}",
                    r["worst_model"])
    console.print(ref)
    agree = cal.get("agreement") or {}
    if agree:
        fit = Table(title=f"in the field's terms ({agree['how']})")
        for col in ("fit", "Spearman rho", "within ±10 %", "within ±25 %", "mean error %"):
            fit.add_column(col, justify="left" if col == "fit" else "right")
        for label, key in (("this predictor", "predictor"), ("FLOPs only, fitted the same way", "flops_baseline")):
            a = agree[key]
            fit.add_row(label, f"{a['spearman_rho']:.2f}", f"{a['within_10_pct_share']:.0%}",
                        f"{a['within_25_pct_share']:.0%}", f"{a['mean_error_pct']:.1f}")
        console.print(fit)
    spread = ", ".join(f"{m} {s:.1f} %" for m, s in cal["table_disagreement_pct"].items() if s > 0)
    console.print(f"the same model's published times disagree by: {spread}")

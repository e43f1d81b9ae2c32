"""The robustness panel of speed claims, built from a small synthetic results frame (no timing, no training)."""

from __future__ import annotations

import pandas as pd
import pytest

from suite.report import robustness
from suite.tables import get_table
from suite.timing.runtimes import column

SPEC = get_table("threshnet-3")
# ms per image at batch 1 and per image at batch 100: ThreshNet79 fastest in eager; under onnxruntime at batch 1
# GhostNet overtakes it (the only reversal)
EAGER = {"threshnet79": (8.0, 1.0), "hardnet68": (9.0, 1.2), "ghostnet": (8.5, 1.3), "mobilenetv2_cifar": (9.5, 1.4),
         "shufflenet_cifar": (10.0, 1.9), "efficientnet_b0_cifar": (11.0, 1.1)}
ORT = {"threshnet79": (2.0, 0.7), "hardnet68": (3.0, 1.7), "ghostnet": (1.4, 0.9), "mobilenetv2_cifar": (2.3, 0.8),
       "shufflenet_cifar": (2.4, 0.9), "efficientnet_b0_cifar": (2.5, 0.8)}
FLOPS = {"threshnet79": 0.4, "hardnet68": 0.5, "ghostnet": 0.2, "mobilenetv2_cifar": 0.3, "shufflenet_cifar": 0.25,
         "efficientnet_b0_cifar": 0.35}


def frame(ort: dict | None = None, *, busy: bool = False) -> pd.DataFrame:
    rows = []
    for model, (b1, per) in EAGER.items():
        for seed in range(3):
            jitter = 1 + 0.004 * (seed - 1)
            row = {"model": model, "seed": seed, "trained_torchstat_flops_g": FLOPS[model],
                   "trained_torchstat_madd_g": FLOPS[model] / 2, "trained_torchstat_memrw_mb": 10 * FLOPS[model],
                   "trained_torchstat_params_m": 1.0 + FLOPS[model]}
            for rt, (rb1, rper) in (("eager", (b1, per)), ("onnxruntime", (ort or ORT)[model])):
                row.update({column("cpu", "median_ms", rt): rb1 * jitter, column("cpu", "iqr_ms", rt): 0.01 * rb1,
                            column("cpu", "per_image_ms", rt): rper * jitter,
                            column("cpu", "per_image_iqr_ms", rt): 0.01 * rper,
                            column("cpu", "per_image_batch", rt): 100, column("cpu", "busy", rt): busy})
            rows.append(row)
    return pd.DataFrame(rows)


def test_a_reversal_under_one_runtime_makes_the_claim_protocol_dependent_and_names_where():
    panel = robustness.build(SPEC, frame())
    assert panel is not None and panel.runtimes == ["eager", "onnxruntime"]
    t1 = next(c for c in panel.claims if c.id == "T1")
    assert t1.label == "protocol-dependent (reverses under onnxruntime at batch 1 on this CPU)"
    ghost = {(c.runtime, c.batch): c for c in t1.cells if c.part == "ThreshNet79 faster than GhostNet"}
    assert ghost[("eager", "batch 1")].outcome == "holds" and ghost[("eager", "batch 1")].ci[0] > 1
    assert ghost[("onnxruntime", "batch 1")].outcome == "reversed" and ghost[("onnxruntime", "batch 1")].ci[1] < 1
    assert ghost[("onnxruntime", "batch 1")].ratio == pytest.approx(1.4 / 2.0, rel=1e-3)
    assert len(t1.cells) == 5 * 2 * 2  # parts x runtimes x batches on the one device


def test_every_cell_holding_is_robust_and_busy_timings_never_decide():
    steady = {m: (b1 / 4, per / 2) for m, (b1, per) in EAGER.items()}
    t1 = next(c for c in robustness.build(SPEC, frame(steady)).claims if c.id == "T1")
    assert t1.label == robustness.ROBUST
    busy = next(c for c in robustness.build(SPEC, frame(busy=True)).claims if c.id == "T1")
    assert all(c.outcome == "inconclusive (busy machine)" for c in busy.cells)
    assert busy.label.startswith("undecided")


def test_kendall_tau_and_complexity_correlations_per_runtime():
    panel = robustness.build(SPEC, frame())
    by = {(a.runtime, a.batch): a for a in panel.agreement}
    eager_b1, ort_b1 = by[("eager", "batch 1")], by[("onnxruntime", "batch 1")]
    assert eager_b1.kendall_tau is None and eager_b1.models == 6
    from scipy import stats

    models = list(EAGER)
    expected = stats.kendalltau([EAGER[m][0] for m in models], [ORT[m][0] for m in models]).statistic
    assert ort_b1.kendall_tau == pytest.approx(expected)
    rho = stats.spearmanr([FLOPS[m] for m in models], [ORT[m][0] for m in models]).statistic
    assert ort_b1.rho["FLOPs"] == pytest.approx(rho) and set(ort_b1.rho) == {"FLOPs", "MAdd", "MemR+W", "#Params"}
    assert ort_b1.best in ort_b1.rho


def test_no_panel_without_a_runtime_beside_eager():
    eager_only = frame().filter(regex=r"^(?!cpu_onnxruntime_)")
    assert robustness.build(SPEC, eager_only) is None
    assert robustness.markdown(None) == "" and robustness.html(None) == ""


def test_panel_renders_in_markdown_and_escaped_html():
    panel = robustness.build(SPEC, frame())
    md = robustness.markdown(panel)
    assert "### T1: protocol-dependent (reverses under onnxruntime at batch 1 on this CPU)" in md
    assert "Kendall tau vs eager" in md and "| this CPU | batch 1 | onnxruntime | 6 |" in md
    panel.claims[0].cells[0].part = "<script>alert(1)</script> | x"
    md, page = robustness.markdown(panel), robustness.html(panel)
    assert "\\| x" in md
    assert "<script>" not in page and "&lt;script&gt;" in page and '<section id="robustness">' in page
    assert panel.to_dict()["agreement"][0]["best_predictor"] is not None


def test_runtime_columns_are_not_read_as_hardware_so_verdicts_stay_eager():
    from suite.report.tables import _hardware

    df = frame()
    assert "cpu_onnxruntime_median_ms" in df and _hardware(df) == ["cpu"]

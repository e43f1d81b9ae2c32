"""Runtimes beside eager: declarations, output checks, interleaved timing with the one protocol, CLI errors.

Real onnxruntime and openvino; tiny protocol (no timing value is asserted, only that each runtime was timed).
"""

from __future__ import annotations

import functools
import json
import textwrap

import numpy as np
import pytest
import torch
from torch import nn

from suite.cli import main
from suite.core.errors import SuiteError
from suite.timing.hardware import HardwareProfile, get_profile
from suite.timing.latency import Protocol, measure_latencies
from suite.timing.runtimes import (
    EAGER,
    RUNTIMES,
    Conversion,
    Runtime,
    check_profiles,
    column,
    get_runtime,
    not_here,
    parse_runtimes,
)
from suite.timing.runtimes import measure as rt_measure

TINY = Protocol(warmup=2, min_runs=4, max_runs=6, target_s=0.0, batch_warmup=1, batch_min_runs=2,
                batch_max_runs=2, batch_target_s=0.0)

UNEXPORTABLE = """\
import torch
from torch import nn
import zoo


class Svd(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, num_classes)

    def forward(self, x):
        return self.fc(torch.linalg.svdvals(self.conv(x)).mean(-1))  # no ONNX symbolic at opset 17


@zoo.register_model(zoo.ModelCard(name="svdnet", family="svd", paper="(unpublished)", num_classes=10,
                                  origin="user", source="svd.py", input_size=(3, 32, 32)))
def svdnet(*, num_classes=10):
    return Svd(num_classes)
"""


@pytest.fixture
def tiny_protocol(monkeypatch):
    monkeypatch.setattr(rt_measure, "measure_latencies", functools.partial(measure_latencies, protocol=TINY))


def _cli(argv, capsys) -> tuple[int, str, str]:
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.slow  # threshnet79 exported twice and timed three ways: tens of seconds on a loaded 2-core machine
def test_latency_json_times_eager_onnxruntime_and_openvino_with_provenance_and_checked_outputs(tiny_protocol,
                                                                                             capsys):
    rc, out, _ = _cli(["latency", "threshnet79", "--runtimes", "eager,onnxruntime,openvino", "--json",
                       "--per-image-batch", "2", "--rounds", "2", "--threads", "1"], capsys)
    assert rc == 0
    d = json.loads(out)
    assert list(d) == ["eager", "onnxruntime", "openvino"]
    for name, cell in d.items():
        assert cell["status"] == "measured", cell["reason"]
        assert cell["median_ms"] > 0 and cell["per_image_ms"] > 0 and cell["threads"] == 1
        assert cell["output_check"]["passed"] is True
        assert cell["provenance"]["runtime"] == name and cell["model"] == "threshnet79"
        assert sorted(cell["provenance"]["interleaved_with"]) == sorted(set(d) - {name})
        assert cell["runtime_provenance"]["version"]
    assert d["eager"]["runtime_provenance"]["decides"] is True
    assert d["onnxruntime"]["runtime_provenance"]["decides"] is False
    ort = d["onnxruntime"]["runtime_provenance"]
    assert ort["settings"]["allow_spinning"] == 0 and ort["settings"]["threads"] == 1 and ort["opset"] == 17
    assert d["openvino"]["runtime_provenance"]["settings"]["threads"] == 1
    assert d["onnxruntime"]["output_check"]["max_abs_diff"] <= d["onnxruntime"]["output_check"]["allowed"]


def test_a_model_that_does_not_export_gets_a_reason_and_eager_is_still_timed(tiny_protocol, tmp_path, capsys):
    path = tmp_path / "svd.py"
    path.write_text(textwrap.dedent(UNEXPORTABLE))
    rc, out, _ = _cli(["latency", "svdnet", "--models-from", str(path), "--runtimes", "eager,onnxruntime,openvino",
                       "--json", "--per-image-batch", "0", "--rounds", "1", "--threads", "1"], capsys)
    assert rc == 0
    d = json.loads(out)
    assert d["eager"]["status"] == "measured" and d["eager"]["median_ms"] > 0
    for name in ("onnxruntime", "openvino"):
        assert d[name]["status"] == "failed" and "median_ms" not in d[name]
        assert d[name]["reason"].startswith(f"{name}: conversion failed:") and "svdvals" in d[name]["reason"]


class Doubling(nn.Module):
    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return 2 * self.inner(x)


def _wrong(model, example, threads, device) -> Conversion:
    return Conversion(Doubling(model), {"threads": threads})


def test_outputs_that_differ_from_eager_are_a_reason_not_a_timing(tiny_protocol):
    wrong = Runtime("wrong", "wrong", "none", ("cpu",), _wrong, lambda: "0")
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    cells = rt_measure.measure_runtimes(model, get_profile("cpu", threads=1), [RUNTIMES[EAGER], wrong], name="m",
                                        per_image_batch=None, rounds=1)
    assert cells["eager"].status == "measured"
    assert cells["wrong"].status == "failed" and cells["wrong"].reason.startswith("wrong: outputs differ from eager")
    assert cells["wrong"].check is not None and cells["wrong"].check["passed"] is False


def test_output_check_scales_with_the_logits():
    ref = np.array([[10.0, -20.0]])
    assert rt_measure.output_check(ref, ref + 0.015)["passed"] is True  # 1e-3 x 20 + 1e-5
    assert rt_measure.output_check(ref, ref + 0.03)["passed"] is False
    assert rt_measure.output_check(ref, np.zeros((1, 3)))["passed"] is False


@pytest.mark.parametrize("arg, message", [
    ("eager,,onnxruntime", "empty item"),
    ("onnxruntim", "did you mean onnxruntime"),
    (",", "empty item"),
])
def test_bad_runtimes_are_one_line_errors_before_any_model_is_built(arg, message, capsys, monkeypatch):
    import zoo

    monkeypatch.setattr(zoo, "create_model", lambda *a, **k: pytest.fail("built a model"))
    rc, out, err = _cli(["latency", "threshnet79", "--runtimes", arg], capsys)
    assert rc == 2 and err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


def test_a_runtime_that_is_not_installed_names_its_install_command(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openvino" else real(name, *a))
    rc, _, err = _cli(["latency", "threshnet79", "--runtimes", "eager,openvino"], capsys)
    assert rc == 2 and "openvino is not installed" in err and "pip install onnx openvino" in err


def test_openvino_on_a_gpu_profile_is_refused_and_onnxruntime_is_not():
    gpu = HardwareProfile("gpu", "cuda:0", 2, True, "a GPU")
    with pytest.raises(SuiteError, match="openvino on --hardware gpu: openvino runs on cpu, not on cuda"):
        check_profiles([get_runtime("openvino")], [gpu])
    check_profiles([get_runtime("onnxruntime"), get_runtime("eager")], [gpu])


def test_predicted_and_remote_profiles_are_eager_only_and_say_why():
    ort = get_runtime("onnxruntime")
    assert "eager-only" in (not_here(ort, "cpu", native=False) or "")
    assert "remote device" in (not_here(ort, "cpu", native=False, remote=True) or "")
    assert not_here(get_runtime("eager"), "cpu", native=False) is None and not_here(ort, "cpu") is None
    rpi4 = HardwareProfile("rpi4", "cpu", 4, False, "Raspberry Pi 4 Model B (predicted)")
    with pytest.raises(SuiteError, match="rpi4 is timed with eager only"):
        check_profiles([ort], [rpi4])
    check_profiles([ort, get_runtime("eager")], [rpi4])


def test_columns_keep_eager_names_and_prefix_the_others():
    assert column("cpu", "per_image_ms") == "cpu_per_image_ms"
    assert column("cpu", "per_image_ms", "onnxruntime") == "cpu_onnxruntime_per_image_ms"


def test_parse_runtimes_keeps_order_and_drops_duplicates():
    assert [r.name for r in parse_runtimes("OpenVINO, eager,openvino")] == ["openvino", "eager"]
    assert [r.name for r in parse_runtimes(None)] == ["eager"]
    assert all(not r.decides for r in RUNTIMES.values() if r.name != EAGER) and RUNTIMES[EAGER].decides


def test_session_module_runs_spinning_free_sessions():
    from suite.timing.runtimes.onnx_runtime import prepare

    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)).eval()
    x = torch.randn(2, 3, 8, 8)
    conv = prepare(model, x, 1, "cpu")
    with torch.inference_mode():
        assert np.allclose(conv.module(x), model(x).numpy(), atol=1e-5)
    assert conv.settings["provider"] == "CPUExecutionProvider"


TINY_MODEL = """\
from torch import nn
import zoo


@zoo.register_model(zoo.ModelCard(name="tinyrt", family="tinyrt", paper="(unpublished)", num_classes=1000,
                                  origin="user", source="tinyrt.py", input_size=(3, 224, 224)))
def tinyrt(*, num_classes=1000):
    return nn.Sequential(nn.Conv2d(3, 4, 3, stride=8), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, num_classes))
"""


def test_runtimes_added_to_a_finished_run_are_timed_without_running_it_again(tmp_path, capsys):
    from suite.analysis.results import load

    path = tmp_path / "tinyrt.py"
    path.write_text(TINY_MODEL)
    base = ["run", "--table", "dpnet-7", "--preset", "smoke", "--models-from", str(path), "--models", "tinyrt",
            "--hardware", "cpu", "--threads", "1", "--out", str(tmp_path / "out")]
    assert main(base) == 0
    first = load(tmp_path / "out")
    assert "cpu_onnxruntime_median_ms" not in first
    assert main([*base, "--runtimes", "eager,onnxruntime"]) == 0
    capsys.readouterr()
    df = load(tmp_path / "out")
    assert len(df) == 1 and df["run"].iloc[0] == first["run"].iloc[0]  # the same run, one line per key
    assert df[column("cpu", "median_ms", "onnxruntime")].iloc[0] > 0 and df["cpu_median_ms"].iloc[0] > 0
    assert main([*base, "--runtimes", "eager,onnxruntime"]) == 0  # nothing left to time: every line kept
    assert "skipped" in capsys.readouterr().out


def test_run_refuses_a_bad_runtime_before_anything_is_read(tmp_path, capsys):
    rc, _, err = _cli(["run", "--table", "3", "--preset", "smoke", "--hardware", "cpu", "--runtimes", "onnx",
                       "--out", str(tmp_path / "out")], capsys)
    assert rc == 2 and "unknown runtime 'onnx'" in err and not (tmp_path / "out").exists()

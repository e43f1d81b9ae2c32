"""The device bundle's runtimes: ONNX files exported on the host, ONNX Runtime timed beside eager by a runner
that imports torch and onnxruntime only (``python -I`` behind the bundle tests' shim), the times imported under
the same runtime columns as a local run's, and a package that dies with SIGILL named before eager is timed alone.
No test asserts a timing."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from test_device_bundle import FAST, PI4, run_isolated

from suite.analysis.results import flatten
from suite.device.bundle import build_bundle
from suite.timing.ondevice import device_identify as identify
from suite.timing.ondevice import runner
from suite.timing.runtimes import column

pytest.importorskip("onnxruntime")
MODELS = ("threshnet79", "ghostnet")
ORT = "onnxruntime"


@pytest.fixture(scope="module")
def bundle(outside) -> Path:
    return build_bundle(outside / "bundle", [(m, 10) for m in MODELS], protocol=FAST, per_image_batch=4, threads=1)


@pytest.fixture(scope="module")
def pi_doc(bundle, outside) -> tuple[Path, object, dict]:
    model_file = outside / "device-tree-model"
    model_file.write_bytes(PI4.encode() + b"\x00")
    out = outside / "pi.json"
    proc, modules = run_isolated(bundle, out, cwd=outside, env={identify.MODEL_FILE_ENV: str(model_file)})
    return out, proc, modules


def fake_python(folder: Path, dies_on: str) -> Path:
    """An interpreter that is this one, except that importing ``dies_on`` in a child kills it with SIGILL."""
    path = folder / f"python-sigill-{dies_on}"
    path.write_text("#!/bin/bash\n"
                    f'case "$*" in *"import {dies_on} as m"*) kill -ILL $$;; esac\n'
                    f'exec -a "$0" {sys.executable} "$@"\n')
    path.chmod(0o755)
    return path


def test_bundle_ships_each_models_onnx_file_with_its_sha256(bundle):
    manifest = json.loads((bundle / "manifest.json").read_text())
    for entry in manifest["models"]:
        onnx = entry["onnx"]
        assert onnx["opset"] == 17 and "TorchScript" in onnx["exporter"] and entry["onnx_error"] is None
        assert (bundle / onnx["file"]).read_bytes()[:2] and manifest["files"][onnx["file"]] == onnx["sha256"]
        assert manifest["files"][onnx["check"]] == onnx["check_sha256"]


def test_runner_times_onnxruntime_beside_eager_without_the_suite(pi_doc, bundle):
    out, proc, modules = pi_doc
    assert proc.returncode == 0, proc.stderr
    assert not [n for n in modules if n.split(".")[0] == "suite"]
    doc = json.loads(out.read_text())
    assert doc["label"] == "rpi4" and doc["runtimes"][ORT]["status"] == "ok"
    for name, entry in doc["models"].items():
        cell = entry["runtimes"][ORT]
        assert entry["status"] == "ok" and entry["median_ms"] > 0  # eager, the record that decides
        assert cell["status"] == "measured" and cell["median_ms"] > 0 and cell["per_image_ms"] > 0
        assert cell["output_check"]["passed"] is True and cell["hardware"] == "rpi4"
        prov = cell["runtime_provenance"]
        assert prov["runtime"] == ORT and prov["decides"] is False and prov["opset"] == 17 and prov["version"]
        manifest_entry = next(m for m in json.loads((bundle / "manifest.json").read_text())["models"]
                              if m["name"] == name)
        assert prov["onnx_sha256"] == manifest_entry["onnx"]["sha256"]


def test_runner_refuses_an_onnx_file_that_differs_from_the_manifest(bundle, outside):
    copy = outside / "tampered"
    shutil.copytree(bundle, copy)
    onnx = copy / "onnx" / "ghostnet.onnx"
    onnx.write_bytes(onnx.read_bytes() + b"\x00")
    out = outside / "tampered.json"
    proc, _ = run_isolated(copy, out, "--models", "ghostnet", cwd=outside)
    assert proc.returncode == 0, proc.stderr
    entry = json.loads(out.read_text())["models"]["ghostnet"]
    assert entry["status"] == "ok" and entry["median_ms"] > 0
    cell = entry["runtimes"][ORT]
    assert cell["status"] == "failed" and "sha256 differs from the manifest" in cell["reason"]


def test_sigill_in_onnxruntime_is_named_and_eager_is_timed(bundle, outside):
    python = fake_python(outside, ORT)
    out = outside / "sigill.json"
    proc, _ = run_isolated(bundle, out, "--models", "ghostnet", cwd=outside, python=str(python))
    assert proc.returncode == 0, proc.stderr
    assert f"importing onnxruntime in {python}" in proc.stderr and "SIGILL" in proc.stderr
    assert "Cortex-A72" in proc.stderr and "timing eager only" in proc.stderr
    doc = json.loads(out.read_text())
    assert doc["runtimes"][ORT]["status"] == "sigill" and str(python) in doc["runtimes"][ORT]["reason"]
    entry = doc["models"]["ghostnet"]
    assert entry["status"] == "ok" and entry["median_ms"] > 0 and "runtimes" not in entry


def test_sigill_in_torch_fails_in_one_line(bundle, outside):
    python = fake_python(outside, "torch")
    out = outside / "sigill-torch.json"
    proc, _ = run_isolated(bundle, out, "--models", "ghostnet", cwd=outside, python=str(python))
    assert proc.returncode == runner.EXIT_NO_TORCH
    errors = [line for line in proc.stderr.splitlines() if line.startswith("suite-runner: error:")]
    assert len(errors) == 1 and f"importing torch in {python}" in errors[0] and "SIGILL" in errors[0]
    assert "Traceback" not in proc.stderr and not out.exists()


def _tiny_run(run_dir: Path) -> Path:
    """A run directory whose lines carry the models' predicted rpi4 times (what import-times supersedes)."""
    run_dir.mkdir()
    lines = [{"key": f"{m}/cifar10/0", "model": m, "dataset": "cifar10", "seed": 0, "status": "ok", "attempt": 1,
              "complexity": {"trained": {"num_classes": 10, "input_size": [3, 32, 32]}},
              "latency": {"rpi4": {"median_ms": 50.0, "predicted": True, "hardware": "rpi4"}}} for m in MODELS]
    (run_dir / "results.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return run_dir


def test_import_times_keeps_the_runtime_of_each_time(pi_doc, tmp_path, capsys):
    from suite.cli import main

    run_dir = _tiny_run(tmp_path / "run")
    rc = main(["import-times", str(pi_doc[0]), "--results", str(run_dir)])
    assert rc == 0, capsys.readouterr().err
    lines = [json.loads(t) for t in (run_dir / "results.jsonl").read_text().splitlines()]
    latest = {line["model"]: line for line in lines}  # the superseding lines come last
    assert len(lines) == 2 * len(MODELS)
    assert set(latest) == set(MODELS)
    for line in latest.values():
        row = flatten(line)
        assert line["latency"]["rpi4"]["predicted"] is False
        cell = line["runtimes"]["rpi4"][ORT]
        assert cell["provenance"]["runtime"] == ORT and cell["provenance"]["source"] == "bundle"
        assert row[column("rpi4", "median_ms", ORT)] == cell["median_ms"] > 0
        assert row[column("rpi4", "median_ms")] == line["latency"]["rpi4"]["median_ms"]  # eager's own column
        assert row[column("rpi4", "median_ms")] != row[column("rpi4", "median_ms", ORT)]


def test_bundle_without_onnx_says_the_device_times_eager_alone(tmp_path, capsys):
    from suite.cli import main

    rc = main(["bundle", "--models", "ghostnet", "--no-onnx", "--out", str(tmp_path / "b")])
    assert rc == 0, capsys.readouterr().err
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    (entry,) = manifest["models"]
    assert manifest["onnx"] is False and entry["onnx"] is None and "--no-onnx" in entry["onnx_error"]
    assert not (tmp_path / "b" / "onnx").exists()


def test_runner_of_a_bundle_without_onnx_times_eager_alone(outside):
    bare = build_bundle(outside / "bare", [("ghostnet", 10)], protocol=FAST, per_image_batch=2, threads=1, onnx=False)
    out = outside / "bare.json"
    proc, _ = run_isolated(bare, out, cwd=outside)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["runtimes"][ORT]["status"] == "missing" and "--no-onnx" in doc["runtimes"][ORT]["reason"]
    assert doc["models"]["ghostnet"]["status"] == "ok" and "runtimes" not in doc["models"]["ghostnet"]


def test_suite_run_keeps_the_runtimes_a_remote_device_timed(monkeypatch):
    from types import SimpleNamespace

    import suite.device.remote as remote
    from suite.run import job
    from suite.timing.hardware import parse_profiles

    (profile,) = parse_profiles("rpi4@pi@raspberrypi")
    cell = {"runtime": ORT, "status": "measured", "median_ms": 3.0}

    def on_the_pi(target, models, **kw):  # what the device's runner sent back over SSH
        kw["runtimes_out"].update({"ghostnet": {ORT: cell}})
        return {"ghostnet": {"model": "ghostnet", "median_ms": 9.0, "hardware": "rpi4", "predicted": False}}

    monkeypatch.setattr(remote, "measure_remote", on_the_pi)
    preset = SimpleNamespace(per_image_batch=100, latency_protocol=None)
    context = SimpleNamespace(config=SimpleNamespace(runtimes="eager,onnxruntime", threads=None),
                              table_id="threshnet-3", preset=preset)
    ws = SimpleNamespace(context=context, dataset=SimpleNamespace(num_classes=10), input_shape=lambda: (3, 32, 32))
    out: dict = {}
    record = job.measure_runtimes(ws, SimpleNamespace(model="ghostnet"), profile, out)
    assert record["median_ms"] == 9.0 and out == {"rpi4": {ORT: cell}}
    line = {"model": "ghostnet", "latency": {"rpi4": record}, "runtimes": out}
    assert flatten(line)[column("rpi4", "median_ms", ORT)] == 3.0

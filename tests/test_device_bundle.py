"""The device bundle: built by the suite, run by an interpreter that cannot import the suite, imported into a run.

The runner is executed with ``python -I`` from a folder outside the repository, behind a start-up shim that
makes ``import suite`` and the repository's own ``zoo`` fail (the editable install would otherwise still find
them), and reports which ``zoo`` was imported. No test asserts a timing.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from suite.core.errors import SuiteError
from suite.device.bundle import SHIPPED, BundleModel, build_bundle, resolve_models
from suite.timing.ondevice import device_identify as identify
from suite.timing.ondevice.timing_protocol import Protocol

REPO = Path(__file__).resolve().parents[1]
MODELS = ("threshnet79", "ghostnet", "mobilenetv2_cifar")
FAST = Protocol(warmup=1, min_runs=2, max_runs=3, target_s=0.0, batch_warmup=1, batch_min_runs=1,
                batch_max_runs=1, batch_target_s=0.0)
PI4 = "Raspberry Pi 4 Model B Rev 1.4"
HOST_LABEL = identify.host_label(socket.gethostname())

SHIM = r"""
import atexit, importlib.abc, json, os, runpy, sys
REPO, REPORT = os.environ["SHIM_REPO"], os.environ["SHIM_REPORT"]

class Block(importlib.abc.MetaPathFinder):
    # `suite` never; `zoo` only from outside the repository (the bundle's copy)
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top == "suite":
            raise ModuleNotFoundError("blocked by the test shim: " + name)
        if top != "zoo":
            return None
        for finder in sys.meta_path:
            spec = None if finder is self else getattr(finder, "find_spec", lambda *a: None)(name, path, target)
            if spec is not None:
                if (spec.origin or "").startswith(REPO):
                    raise ModuleNotFoundError("blocked by the test shim: the repository's " + name)
                return spec
        return None

sys.meta_path.insert(0, Block())

def report():
    mods = {n: getattr(m, "__file__", None) for n, m in list(sys.modules.items())
            if n.split(".")[0] in ("zoo", "suite")}
    with open(REPORT, "w") as fh:
        json.dump(mods, fh)

atexit.register(report)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run_isolated(bundle: Path, out: Path, *args: str, cwd: Path, env: dict | None = None,
                 python: str = sys.executable) -> tuple[subprocess.CompletedProcess, dict]:
    """bundle/run.py under `python -I` and the shim, from ``cwd``; (process, {module: file} it imported)."""
    report = cwd / f"modules-{out.stem}.json"
    full_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", identify.MODEL_FILE_ENV)}
    full_env.update(SHIM_REPO=str(REPO), SHIM_REPORT=str(report), **(env or {}))
    proc = subprocess.run([python, "-I", "-c", SHIM, str(bundle / "run.py"), "--out", str(out), *args], cwd=cwd,
                          env=full_env, capture_output=True, text=True, timeout=600)
    return proc, json.loads(report.read_text()) if report.is_file() else {}


@pytest.fixture(scope="module")
def bundle3(outside) -> Path:
    return build_bundle(outside / "bundle", [(m, 10) for m in MODELS], protocol=FAST, per_image_batch=4, threads=1)


@pytest.fixture(scope="module")
def host_times(bundle3, outside) -> tuple[Path, subprocess.CompletedProcess, dict]:
    out = outside / "host.json"
    proc, modules = run_isolated(bundle3, out, cwd=outside)
    return out, proc, modules


@pytest.fixture(scope="module")
def pi_times(bundle3, outside) -> Path:
    model_file = outside / "device-tree-model"
    model_file.write_bytes(PI4.encode() + b"\x00")  # as the kernel writes it
    out = outside / "pi.json"
    proc, _ = run_isolated(bundle3, out, cwd=outside, env={identify.MODEL_FILE_ENV: str(model_file)})
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, cifar10_root) -> Path:
    """A real smoke run of the three models with predicted rpi4 times (what the issue's acceptance starts from)."""
    base = tmp_path_factory.mktemp("smoke")
    cmd = [sys.executable, "-m", "suite", "run", "--table", "3", "--preset", "smoke", "--models", ",".join(MODELS),
           "--hardware", "rpi4", "--data-dir", str(cifar10_root), "--out", str(base / "OUT")]
    proc = subprocess.run(cmd, cwd=base, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run_dir,) = {Path(p).parent for p in glob.glob(str(base / "OUT" / "**" / "results.jsonl"), recursive=True)}
    return run_dir


@pytest.fixture
def run_copy(smoke_run, tmp_path) -> Path:
    dst = tmp_path / smoke_run.name
    shutil.copytree(smoke_run, dst)
    return dst


def latest(run_dir: Path) -> dict[str, dict]:
    lines = [json.loads(t) for t in (run_dir / "results.jsonl").read_text().splitlines() if t.strip()]
    return {r["model"]: r for r in lines}  # the last line of each model (one seed, one dataset)


def cli(argv: list[str], capsys) -> tuple[int, str, str]:
    from suite.cli import main

    rc = main(argv)
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


# ---- building

def test_bundle_ships_the_suites_own_files_byte_for_byte(bundle3):
    for name, source in SHIPPED.items():
        assert (bundle3 / name).read_bytes() == source.read_bytes(), name
    assert SHIPPED["timing_protocol.py"] == REPO / "suite" / "timing" / "ondevice" / "timing_protocol.py"
    for src in (REPO / "zoo").rglob("*.py"):
        if "__pycache__" not in src.parts:
            assert (bundle3 / "zoo" / src.relative_to(REPO / "zoo")).read_bytes() == src.read_bytes()
    m = json.loads((bundle3 / "manifest.json").read_text())
    assert set(m["files"]) == set(SHIPPED) | {f"zoo/{p.relative_to(REPO / 'zoo')}" for p in (REPO / "zoo").rglob("*.py")
                                              if "__pycache__" not in p.parts} | {
        f"onnx/{name}{ext}" for name in MODELS for ext in (".onnx", ".check.npz")}
    assert not (bundle3 / "zoo" / "ruff.toml").exists() and (bundle3 / "zoo" / "data" / "published").is_dir()
    assert m["format"] == "suite-device-bundle" and [e["name"] for e in m["models"]] == list(MODELS)
    assert {e["num_classes"] for e in m["models"]} == {10} and m["input_size"] == [3, 32, 32]
    assert m["protocol"] == FAST.to_dict() and m["per_image_batch"] == 4 and m["threads"] == 1
    import suite
    from suite.core.provenance import git_commit

    assert m["suite_version"] == suite.__version__ and m["git_commit"] == git_commit()
    assert m["files"]["timing_protocol.py"] == __import__("hashlib").sha256(
        SHIPPED["timing_protocol.py"].read_bytes()).hexdigest()


def test_bundle_for_a_table_uses_the_datasets_head(tmp_path, capsys):
    entries, facts = resolve_models(table="3")
    assert len(entries) == 14 and {e.num_classes for e in entries} == {10} and facts["input_size"] == (3, 32, 32)
    assert next(e for e in entries if e.name == "ghostnet").row == "GhostNet"
    assert {e.name for e in entries if e.needs_torchvision} == {"resnext50_32x4d", "wide_resnet50_2"}
    entries, _ = resolve_models(table="3", num_classes=100)
    assert {e.num_classes for e in entries} == {100}
    rc, out, _ = cli(["bundle", "--models", "threshnet79,ghostnet", "--out", str(tmp_path / "b"), "--num-classes",
                      "7", "--input", "3x40x40", "--preset", "smoke"], capsys)
    m = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert rc == 0 and "2 model(s)" in out
    assert [(e["name"], e["num_classes"]) for e in m["models"]] == [("threshnet79", 7), ("ghostnet", 7)]
    assert m["input_size"] == [3, 40, 40] and m["per_image_batch"] == 4  # the smoke preset's protocol
    assert m["protocol"]["min_runs"] == 3


@pytest.mark.parametrize("argv, message", [
    (["--models", "threshnet79x"], "unknown model 'threshnet79x'; did you mean threshnet79"),
    (["--table", "99"], "unknown table '99'; "),
    (["--models", "ghostnet", "--input", "3x32"], "bad input size"),
    (["--models", "ghostnet", "--num-classes", "0"], "--num-classes must be a positive integer"),
    (["--models", "ghostnet", "--preset", "fast"], "unknown preset 'fast'"),
])
def test_bundle_errors_are_one_line(argv, message, tmp_path, capsys):
    rc, _, err = cli(["bundle", *argv, "--out", str(tmp_path / "b")], capsys)
    assert rc == 2 and message in err and err.count("\n") == 1


def test_bundle_refuses_a_folder_that_is_not_a_bundle(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SuiteError, match="non-empty folder that holds no bundle"):
        build_bundle(tmp_path, [("ghostnet", 10)])
    assert (tmp_path / "notes.txt").read_text() == "mine"
    first = build_bundle(tmp_path / "b", [("ghostnet", 10)])
    build_bundle(first, [BundleModel("threshnet79", 10)])  # an older bundle is replaced
    assert [e["name"] for e in json.loads((first / "manifest.json").read_text())["models"]] == ["threshnet79"]


# ---- running without the suite

def test_the_shim_blocks_what_python_I_alone_still_finds(outside):
    probe = "import suite, zoo; print(suite.__file__); print(zoo.__file__)"
    plain = subprocess.run([sys.executable, "-I", "-c", probe], cwd=outside, capture_output=True, text=True,
                           timeout=120)
    assert plain.returncode == 0 and str(REPO) in plain.stdout  # the editable install leaks into -I
    env = {**os.environ, "SHIM_REPO": str(REPO), "SHIM_REPORT": str(outside / "probe.json")}
    script = outside / "probe.py"
    script.write_text(probe + "\n")
    shimmed = subprocess.run([sys.executable, "-I", "-c", SHIM, str(script)], cwd=outside, env=env,
                             capture_output=True, text=True, timeout=120)
    assert shimmed.returncode != 0 and "blocked by the test shim: suite" in shimmed.stderr


@pytest.mark.slow
def test_runner_times_three_models_without_the_suite(host_times, bundle3):
    out, proc, modules = host_times
    assert proc.returncode == 0, proc.stderr
    assert not [n for n in modules if n.split(".")[0] == "suite"]
    zoo_files = {n: f for n, f in modules.items() if n.split(".")[0] == "zoo"}
    assert zoo_files and all(Path(f).resolve().is_relative_to(bundle3.resolve()) for f in zoo_files.values() if f)
    doc = json.loads(out.read_text())
    assert doc["format"] == "suite-device-times" and doc["status"] == "ok"
    assert doc["label"] == HOST_LABEL and doc["label_override"] is False
    assert Path(doc["bundle"]["zoo"]).resolve().is_relative_to(bundle3.resolve())
    assert doc["files_modified"] == []
    dev = doc["device"]
    assert dev["hostname"] == socket.gethostname() and dev["cores"] >= 1 and dev["torch"]
    assert dev["python"] == ".".join(map(str, sys.version_info[:3])) and isinstance(dev["onednn"], bool)
    assert set(doc["models"]) == set(MODELS)
    for name, r in doc["models"].items():
        assert r["status"] == "ok" and r["model"] == name and r["hardware"] == HOST_LABEL
        assert r["median_ms"] > 0 and r["p90_ms"] >= r["median_ms"] and r["iqr_ms"] >= 0
        assert r["per_image_ms"] > 0 and r["per_image_batch"] == 4 and r["threads"] == 1
        # interleaved with ONNX Runtime where it imports: each of the rounds times at least one call
        assert r["runs"] == FAST.min_runs if "runtimes" not in r else r["runs"] >= FAST.min_runs
        assert r["batch"] == 1 and r["predicted"] is False
    assert "threshnet79:" in proc.stderr  # progress lines


@pytest.mark.slow
def test_runner_records_a_failing_model_and_times_the_others(outside):
    bundle = build_bundle(outside / "bad", [("threshnet79", 10), BundleModel("ghostnet", 0)], protocol=FAST,
                          per_image_batch=0, threads=1)
    with (bundle / "zoo" / "layers.py").open("a") as fh:
        fh.write("# edited on the device\n")
    out = outside / "bad.json"
    proc, _ = run_isolated(bundle, out, cwd=outside)
    doc = json.loads(out.read_text())
    assert proc.returncode == 1 and doc["status"] == "failed"
    assert doc["models"]["threshnet79"]["status"] == "ok" and doc["models"]["threshnet79"]["per_image_ms"] is None
    bad = doc["models"]["ghostnet"]
    assert bad["status"] == "failed" and "num_classes" in bad["error"] and "\n" not in bad["error"]
    assert doc["files_modified"] == ["zoo/layers.py"]


@pytest.mark.slow
def test_runner_label_override_is_recorded(bundle3, outside):
    out = outside / "override.json"
    proc, _ = run_isolated(bundle3, out, "--identify", "--label", "rpi4", cwd=outside)
    doc = json.loads(out.read_text())
    assert proc.returncode == 0 and doc["status"] == "identified" and doc["models"] == {}
    assert doc["label"] == "rpi4" and doc["label_override"] is True and doc["label_detected"] == HOST_LABEL
    proc, _ = run_isolated(bundle3, outside / "expect.json", "--expect", "rpi4", cwd=outside)
    assert proc.returncode == 6 and "not 'rpi4'" in proc.stderr
    assert json.loads((outside / "expect.json").read_text())["status"] == "wrong-device"


@pytest.mark.slow
def test_injected_device_model_labels_the_runner_rpi4(pi_times):
    doc = json.loads(pi_times.read_text())
    assert doc["label"] == "rpi4" and doc["label_override"] is False
    assert doc["device"]["device_model"] == PI4 and doc["device"]["device_model_file"]
    assert {r["hardware"] for r in doc["models"].values()} == {"rpi4"}


def test_runner_on_old_python_and_torch(bundle3, outside):
    """Set SUITE_OLD_TORCH_PYTHON to an interpreter with Python 3.9 / torch 1.11 (the papers' Pi) to run this."""
    python = os.environ.get("SUITE_OLD_TORCH_PYTHON")
    if not python:
        pytest.skip("SUITE_OLD_TORCH_PYTHON is not set (an interpreter with Python 3.9 and torch 1.11)")
    out = outside / "old.json"
    proc, _ = run_isolated(bundle3, out, cwd=outside, python=python)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert all(r["status"] == "ok" for r in doc["models"].values())


# ---- importing

@pytest.mark.slow
def test_import_times_adds_measured_host_times(host_times, run_copy, capsys):
    before = (run_copy / "results.jsonl").read_bytes()
    rc, out, err = cli(["import-times", str(host_times[0]), "--results", str(run_copy)], capsys)
    assert rc == 0, err
    assert f"measured {HOST_LABEL} times of 3 model(s)" in out
    after = (run_copy / "results.jsonl").read_bytes()
    assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 3  # appended, never edited
    for line in latest(run_copy).values():
        rec = line["latency"][HOST_LABEL]
        assert rec["predicted"] is False and rec["hardware"] == HOST_LABEL and rec["median_ms"] > 0
        assert rec["provenance"]["source"] == "bundle" and rec["provenance"]["host"] == socket.gethostname()
        assert rec["provenance"]["device_model"] is None and rec["provenance"]["torch"]
        assert line["latency"]["rpi4"]["predicted"] is True  # the Pi column is still a prediction here
        assert line["status"] == "ok" and line["train"] is not None  # the rest of the line is kept


@pytest.mark.slow
def test_import_of_pi4_times_replaces_the_predictions(pi_times, run_copy, capsys):
    predicted = {m: line["latency"]["rpi4"] for m, line in latest(run_copy).items()}
    assert all(r["predicted"] for r in predicted.values())
    rc, out, err = cli(["import-times", str(pi_times), "--results", str(run_copy.parent)], capsys)  # the one run
    assert rc == 0, err
    assert "replaced the predicted rpi4 time of" in out and all(m in out for m in MODELS)
    for name, line in latest(run_copy).items():
        rec = line["latency"]["rpi4"]
        assert rec["predicted"] is False and rec["expected_error_pct"] is None and rec["calibration"] is None
        assert rec["per_image_ms"] != predicted[name]["per_image_ms"]
        assert rec["provenance"]["device_model"] == PI4 and rec["provenance"]["device_model_file"]
        assert list(line["latency"]) == ["rpi4"]


def _write(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.slow
def test_import_errors_are_one_line_and_write_nothing(host_times, run_copy, tmp_path, capsys):
    good = json.loads(host_times[0].read_text())
    extra = json.loads(json.dumps(good))
    extra["models"]["resnet18"] = dict(extra["models"]["ghostnet"], model="resnet18")
    head = json.loads(json.dumps(good))
    head["models"]["ghostnet"]["num_classes"] = 100
    size = json.loads(json.dumps(good))
    size["input_size"] = [3, 64, 64]
    wrong = dict(good, status="wrong-device", expected="rpi4", models={})
    (tmp_path / "empty").mkdir()
    (tmp_path / "not.json").write_text("threshnet79 1.0 ms\n")
    cases = [
        (tmp_path / "not.json", run_copy, "is not a device runner's JSON (not JSON"),
        (_write(tmp_path / "manifest.json", {"format": "suite-device-bundle"}), run_copy, "no \"format\""),
        (host_times[0], tmp_path / "empty", "holds no results"),
        (host_times[0], tmp_path / "missing", "is not a directory"),
        (_write(tmp_path / "extra.json", extra), run_copy, "model(s) not in the run: resnet18"),
        (_write(tmp_path / "head.json", head), run_copy, "ghostnet was timed with a 100-class head"),
        (_write(tmp_path / "size.json", size), run_copy, "timed at input 3x64x64, the run uses 3x32x32"),
        (_write(tmp_path / "wrong.json", wrong), run_copy, "holds no times"),
    ]
    before = (run_copy / "results.jsonl").read_bytes()
    for file, run_dir, message in cases:
        rc, _, err = cli(["import-times", str(file), "--results", str(run_dir)], capsys)
        assert rc == 2 and message in err and err.count("\n") == 1, (message, err)
    assert (run_copy / "results.jsonl").read_bytes() == before


@pytest.mark.slow
def test_import_of_a_partly_failed_device_run(host_times, run_copy, tmp_path, capsys):
    doc = json.loads(host_times[0].read_text())
    doc["models"]["ghostnet"] = {"model": "ghostnet", "num_classes": 10, "status": "failed",
                                 "error": "RuntimeError: out of memory"}
    rc, out, err = cli(["import-times", str(_write(tmp_path / "partial.json", doc)), "--results", str(run_copy)],
                       capsys)
    assert rc == 2 and "ghostnet failed on the device, not imported: RuntimeError: out of memory" in err
    lines = latest(run_copy)
    assert HOST_LABEL in lines["threshnet79"]["latency"] and HOST_LABEL not in lines["ghostnet"]["latency"]


@pytest.mark.slow
def test_import_waits_for_a_run_that_is_writing(host_times, run_copy, capsys):
    from suite.run import store
    before = (run_copy / "results.jsonl").read_bytes()
    with store.RunStore(run_copy).driver_lock():  # as a `suite run` driver holds it
        rc, _, err = cli(["import-times", str(host_times[0]), "--results", str(run_copy)], capsys)
    assert rc == 2 and "another `suite run` is writing" in err and err.count("\n") == 1
    assert (run_copy / "results.jsonl").read_bytes() == before
    rc, out, _ = cli(["import-times", str(host_times[0]), "--results", str(run_copy), "--dry-run"], capsys)
    assert rc == 0 and "would add" in out and (run_copy / "results.jsonl").read_bytes() == before

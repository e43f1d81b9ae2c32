"""`suite doctor` on this CPU machine: every applicable check passes, the GPU ones are skipped with the reason."""

from __future__ import annotations

import json

import pytest

from suite.cli import main
from suite.doctor import MODELS, Doctor


def _doctor(capsys, *args) -> tuple[int, dict]:
    capsys.readouterr()
    rc = main(["doctor", "--quick", "--json", *args])
    return rc, json.loads(capsys.readouterr().out)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_cpu_machine_passes_with_gpu_checks_skipped(cifar10_root, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this test describes a machine without CUDA")
    rc, out = _doctor(capsys, "--data-dir", str(cifar10_root))
    checks = out["checks"]
    assert rc == 0 and out["ok"] is True, [c for c in checks if c["status"] == "fail"]
    by = {(c["group"], c["name"]): c for c in checks}
    assert {c["status"] for c in checks} <= {"pass", "skip"}
    for key in (("device", "cpu"), ("timing", "cpu"), ("complexity", "three counters"), ("data", "cifar10")):
        assert by[key]["status"] == "pass", by[key]
    assert by[("versions", "versions")]["data"]["torch"] == torch.__version__
    for model in MODELS:  # two models, every mode the CPU takes, each with its ratio to the authors' loop
        assert by[("train", f"cpu {model} authors' loop")]["status"] == "pass"
        for mode in ("fp32", "bf16", "fast", "channels_last"):
            check = by[("train", f"cpu {model} {mode}")]
            assert check["status"] == "pass" and check["data"]["images_per_s"] > 0
            assert check["data"]["ratio_to_authors"] > 0 and "the authors' loop" in check["detail"]
        assert "needs CUDA" in by[("train", f"cpu {model} fp16")]["detail"]
        assert by[("train", f"cpu {model} compile")]["status"] == "skip"  # --quick, said so
    for key in (("device", "gpu"), ("train", "cuda (every mode)"), ("timing", "gpu")):
        assert by[key]["status"] == "skip" and "no CUDA device" in by[key]["detail"], by[key]
    assert by[("ray", "ray")]["status"] == "skip" and "--executor ray" in by[("ray", "ray")]["detail"]
    assert 82.1 not in _numbers(out)  # nothing published is copied in: every number here is measured


def _numbers(value) -> list[float]:
    """Every number inside a JSON document."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [value] if isinstance(value, int | float) and not isinstance(value, bool) else []


def test_unreachable_device_fails_and_is_named(capsys, monkeypatch):
    # training and timing are the previous test's; here only the device checks matter
    monkeypatch.setattr(Doctor, "training", lambda self, devices: None)
    monkeypatch.setattr(Doctor, "timing", lambda self, devices: None)
    monkeypatch.setattr(Doctor, "complexity", lambda self: None)
    rc, out = _doctor(capsys, "--hardware", "cpu,ssh://127.0.0.1:1", "--data-dir", "/nonexistent/data")
    assert rc == 1 and out["ok"] is False
    failed = [c for c in out["checks"] if c["status"] == "fail"]
    assert [(c["group"], c["name"]) for c in failed] == [("device", "ssh://127.0.0.1:1"), ("data", "cifar10")]
    assert "ssh://127.0.0.1:1 not reached" in failed[0]["detail"]
    assert next(c for c in out["checks"] if c["name"] == "cpu")["status"] == "pass"
    capsys.readouterr()
    assert main(["doctor", "--quick", "--hardware", "ssh://127.0.0.1:1"]) == 1
    assert "ssh://127.0.0.1:1" in capsys.readouterr().out


@pytest.mark.parametrize("args, words", [(["--hardware", "tpu"], "unknown hardware 'tpu'"),
                                         (["--executor", "slurm"], "unknown executor 'slurm'"),
                                         (["--ray-address", "x:1"], "--ray-address needs --executor ray")])
def test_bad_options_are_one_line_exit_2(args, words, capsys):
    assert main(["doctor", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err and err.count("\n") == 1

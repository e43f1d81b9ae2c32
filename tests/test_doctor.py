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
    assert {c["status"] for c in checks} <= {"pass", "skip", "busy"}
    assert checks[0]["group"] == "machine" and checks[0]["status"] in ("pass", "busy")
    for key in (("device", "cpu"), ("timing", "cpu"), ("complexity", "three counters"), ("data", "cifar10")):
        assert by[key]["status"] == "pass", by[key]
    assert by[("versions", "versions")]["data"]["torch"] == torch.__version__
    # a loaded machine may spend the training checks' budget: those left are skipped, saying so
    ran = {k: c for k, c in by.items() if k[0] == "train" and "were spent" not in c["detail"]}
    assert ("train", f"cpu {MODELS[0]} authors' loop") in ran
    for model in MODELS:  # two models, every mode the CPU takes, each with its ratio to the authors' loop
        if ("train", f"cpu {model} authors' loop") in ran:
            assert by[("train", f"cpu {model} authors' loop")]["status"] == "pass"
        for mode in ("fp32", "bf16", "fast", "channels_last"):
            check = by[("train", f"cpu {model} {mode}")]
            if ("train", f"cpu {model} {mode}") not in ran:
                continue
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
    monkeypatch.setattr(Doctor, "peaks", lambda self, devices: None)
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
                                         (["--ray-address", "x:1"], "--ray-address needs --executor ray"),
                                         (["--precision", "fp32,fp8"], "unknown precision 'fp8'")])
def test_bad_options_are_one_line_exit_2(args, words, capsys):
    assert main(["doctor", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err and err.count("\n") == 1


# --- the machine's load, progress lines and time bounds ------------------------------------------------------

def _sampler(load: float, other_cpu_s_per_s: float):
    """Fake /proc readings: a constant load average, other processes using ``other_cpu_s_per_s`` CPU-seconds/s."""
    from suite.timing.ondevice.timing_protocol import LoadSample

    clock = iter(range(0, 10_000))

    def sample() -> LoadSample:
        t = float(next(clock))
        return LoadSample(t, t * other_cpu_s_per_s, 0.0, load, None)

    return sample


def _fake_steps(monkeypatch, seconds: list[float] | None = None):
    """Training steps that take no time: the doctor's own logic is what these tests check."""
    from suite.doctor import training as tr

    def steps(*args, **kw):
        if seconds is not None:
            seconds.append(kw.get("max_s"))
        return tr.Throughput(100.0, 2.3, steps=kw.get("steps", 1))

    monkeypatch.setattr(tr, "suite_steps", steps)
    monkeypatch.setattr(tr, "authors_steps", steps)
    monkeypatch.setattr(tr, "compiled_steps", lambda *a, **kw: tr.Throughput(90.0, 2.3, True, kw["steps"]))
    monkeypatch.setattr(Doctor, "timing", lambda self, devices: None)
    monkeypatch.setattr(Doctor, "complexity", lambda self: None)
    monkeypatch.setattr(Doctor, "peaks", lambda self, devices: None)


def test_busy_machine_is_named_first_and_its_rates_are_not_evidence(monkeypatch):
    from suite.doctor import BUSY, Options

    _fake_steps(monkeypatch)
    doctor = Doctor(Options(hardware=("cpu",), data_dir="/nonexistent", load_window_s=0.0),
                    sampler=_sampler(4.9, 1.9))
    checks = doctor.run()
    assert (checks[0].group, checks[0].status) == ("machine", BUSY)
    assert "busy machine" in checks[0].detail and "load average 4.9" in checks[0].detail
    trained = [c for c in checks if c.group == "train" and c.status == "pass"]
    assert trained and all("not evidence" in c.detail and c.data["busy"] for c in trained)
    compile_cpu = next(c for c in checks if c.name.endswith("squeezenet_cifar compile"))
    assert compile_cpu.status == "skip" and compile_cpu.detail.startswith("busy machine")


def test_idle_machine_passes_the_load_check_and_compiles(monkeypatch):
    from suite.doctor import Options

    _fake_steps(monkeypatch)
    checks = Doctor(Options(hardware=("cpu",), data_dir="/nonexistent", load_window_s=0.0),
                    sampler=_sampler(0.3, 0.01)).run()
    assert (checks[0].group, checks[0].status) == ("machine", "pass") and "idle" in checks[0].detail
    compile_cpu = next(c for c in checks if c.name.endswith("squeezenet_cifar compile"))
    assert compile_cpu.status == "pass" and "not evidence" not in compile_cpu.detail
    auto = next(c for c in checks if c.name == "cpu squeezenet_cifar --mode auto")  # compile 90 < eager 100
    assert auto.data["mode"] == "eager" and "would train it in eager" in auto.detail


def test_training_checks_past_their_budget_are_skipped_with_the_reason(monkeypatch):
    from suite.doctor import Options

    limits: list = []
    _fake_steps(monkeypatch, limits)
    checks = Doctor(Options(hardware=("cpu",), data_dir="/nonexistent", load_window_s=0.0, train_budget_s=0.0,
                            step_limit_s=1.5), sampler=_sampler(0.3, 0.0)).run()
    train = [c for c in checks if c.group == "train" and c.name.startswith("cpu ")]
    assert train and all(c.status == "skip" for c in train)
    assert "training checks' 0 s were spent" in train[0].detail
    assert not limits  # nothing trained once the budget is gone


def test_every_timed_step_loop_gets_the_step_limit(monkeypatch):
    from suite.doctor import Options

    limits: list = []
    _fake_steps(monkeypatch, limits)
    Doctor(Options(hardware=("cpu",), data_dir="/nonexistent", load_window_s=0.0, step_limit_s=1.5),
           sampler=_sampler(0.3, 0.0)).run()
    assert limits and set(limits) == {1.5}


def test_steps_stop_at_their_time_limit_with_at_least_one_timed():
    import torch

    from suite.doctor import training as tr

    result = tr.suite_steps(MODELS[0], torch.device("cpu"), "fp32", batch=2, steps=1000, max_s=0.0)
    assert result.steps == 1 and result.images_per_s > 0


def test_a_compile_past_its_limit_is_stopped():
    import torch

    from suite.doctor import training as tr

    assert tr.compiled_steps(MODELS[0], torch.device("cpu"), batch=2, steps=1, max_s=1.0, limit_s=0.05) is None


def test_one_plain_progress_line_per_check_when_not_a_terminal(monkeypatch, capsys):
    _fake_steps(monkeypatch)
    monkeypatch.setattr("suite.doctor.sample_load", _sampler(0.3, 0.0))
    monkeypatch.setattr("suite.doctor.time.sleep", lambda s: None)
    capsys.readouterr()
    assert main(["doctor", "--hardware", "cpu", "--data-dir", "/nonexistent/data", "--json"]) == 1  # no such dir
    captured = capsys.readouterr()
    checks = json.loads(captured.out)["checks"]
    lines = captured.err.splitlines()
    assert len(lines) == len(checks) > 10
    assert lines[0].startswith("doctor 1: machine load: pass")
    assert lines[-1].startswith(f"doctor {len(checks)}: ray ray: skip")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_doctor_on_this_cpu_ends_within_90_s_with_a_line_per_check(capsys):
    import time

    capsys.readouterr()
    t0 = time.perf_counter()
    rc = main(["doctor", "--hardware", "cpu", "--json"])
    took = time.perf_counter() - t0
    captured = capsys.readouterr()
    checks = json.loads(captured.out)["checks"]
    lines = captured.err.splitlines()
    assert took < 90, f"{took:.0f} s"
    assert rc == 0 and checks[0]["group"] == "machine"
    assert len(lines) == len(checks)
    for k, (line, check) in enumerate(zip(lines, checks, strict=True), 1):
        assert line.startswith(f"doctor {k}: {check['group']} {check['name']}: {check['status']}")


@pytest.mark.parametrize("args, words", [(["--dataset", "nosuchds"], "unknown dataset 'nosuchds'"),
                                         (["--dataset", "cifar1"], "did you mean cifar10"),
                                         (["--hardware", "cpu,,cpu", "--quick"], "empty item in --hardware")])
def test_bad_dataset_and_empty_hardware_item_are_one_line_before_any_check(args, words, capsys, monkeypatch):
    monkeypatch.setattr(Doctor, "run", lambda self: pytest.fail("a check ran"))
    assert main(["doctor", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err and err.count("\n") == 1


# --- the training device's peak ------------------------------------------------------------------------------

@pytest.mark.parametrize("load, stored", [((0.3, 0.0), True), ((4.9, 1.9), False)])
def test_the_cpu_peak_is_a_check_line_stored_for_runs_unless_the_machine_is_busy(load, stored, monkeypatch,
                                                                                  tmp_path):
    import torch

    from suite.core import hostcache
    from suite.device import cpu_peak
    from suite.doctor import PASS, Options

    monkeypatch.setenv("SUITE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cpu_peak, "measure", lambda precision, threads, seconds: {
        "gflops": 42.0, "precision": precision, "threads": threads, "n": 1024, "measured": "now"})
    doctor = Doctor(Options(hardware=("cpu",), precisions=("fp32", "fp16"), load_window_s=0.0),
                    sampler=_sampler(*load))
    doctor.machine()
    doctor.peaks({"train": [torch.device("cpu")]})
    fp32, fp16 = [c for c in doctor.checks if c.group == "peak"]
    assert (fp32.name, fp32.status) == ("cpu fp32", PASS) and "42.0 GFLOP/s measured" in fp32.detail
    assert fp16.status == "skip" and "the CPU trains in fp32 or bf16" in fp16.detail
    threads = fp32.data["threads"]
    assert (hostcache.read(cpu_peak.KIND, cpu_peak.cache_key("fp32", threads)) is not None) is stored
    assert ("not evidence, not stored" in fp32.detail) is not stored

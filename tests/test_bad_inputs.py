"""Every sub-command's bad inputs: exit 2, one line on stderr, no traceback, nothing written (in-process, fast)."""

from __future__ import annotations

import pytest

from suite.cli import main

# (sub-command and arguments, words the one error line must hold); {out} is a folder that must never appear.
CASES = [
    # suite run: every value checked before anything is loaded or written
    (["run", "--lr", "-1"], ["lr=-1.0", "> 0"]),
    (["run", "--lr", "nan"], ["lr=nan", "expected float"]),
    (["run", "--weight-decay", "-1"], ["weight_decay=-1.0", ">= 0"]),
    (["run", "--batch-size", "0"], ["batch_size=0", ">= 1"]),
    (["run", "--set", "epochs=abc"], ["epochs='abc'", "expected int"]),
    (["run", "--set", "flip=maybe"], ["flip='maybe'", "expected bool"]),
    (["run", "--set", "optimizer=rmsprop"], ["optimizer='rmsprop'", "adam, sgd"]),
    (["run", "--set", "milestones=50,x"], ["milestones='50,x'"]),
    (["run", "--set", "nosuch=1"], ["unknown recipe field(s) nosuch"]),
    (["run", "--set", "gamma"], ["bad --set 'gamma'"]),
    (["run", "--seeds", "0-100000000"], ["more than 1000 seeds"]),
    (["run", "--seeds", "0,,1"], ["bad --seeds '0,,1'"]),
    (["run", "--seeds", "5-1"], ["the range 5-1 is empty"]),
    (["run", "--seeds", "x"], ["bad --seeds 'x'"]),
    (["run", "--epochs", "0"], ["--epochs must be a positive integer"]),
    (["run", "--threads", "0"], ["--threads must be a positive integer"]),
    (["run", "--max-attempts", "0"], ["--max-attempts must be a positive integer"]),
    (["run", "--train-subset", "0"], ["--train-subset must be a positive integer"]),
    (["run", "--workers", "-1"], ["--workers must be 0 or more"]),
    (["run", "--models", "threshnet97"], ["unknown model 'threshnet97'", "threshnet79"]),
    (["run", "--preset", "smok"], ["unknown preset 'smok'", "smoke"]),
    (["run", "--table", "99"], ["unknown table"]),
    (["run", "--dataset", "cifar-10"], ["unknown dataset", "cifar10"]),
    (["run", "--recipe", "threshnt"], ["unknown recipe", "threshnet"]),
    (["run", "--hardware", "tpu"], ["unknown hardware"]),
    (["run", "--hardware", "ssh://-oProxyCommand=id"], ["the host begins with '-'"]),
    (["run", "--hardware", "ssh://pi;touch x@host"], ["bad remote"]),
    (["run", "--executor", "slurm"], ["unknown executor 'slurm'"]),
    (["run", "--precision", "fp8"], ["unknown precision 'fp8'"]),
    (["run", "--device", "tpu:0"], ["bad --device 'tpu:0'"]),
    (["run", "--run-name", "a/b"], ["bad --run-name 'a/b'"]),
    # suite latency
    (["latency", "threshnet79", "--remote-timeout", "0"], ["--remote-timeout must be a positive"]),
    (["latency", "threshnet79", "--remote-timeout", "-5"], ["--remote-timeout must be a positive"]),
    (["latency", "threshnet79", "--batch", "0"], ["--batch must be >= 1"]),
    (["latency", "threshnet79", "--input", "3x0x32"], ["bad input size '3x0x32'"]),
    (["latency", "threshnet79", "--num-classes", "0"], ["--num-classes must be a positive integer"]),
    (["latency", "threshnet79", "--hardware", "rpi5"], ["unknown hardware 'rpi5'"]),
    (["latency", "threshnet79", "--hardware", "rpi4@-oProxyCommand=id"], ["the host begins with '-'"]),
    (["latency", "thresnet79"], ["unknown model", "threshnet79"]),
    # suite models
    (["models", "--family", "nosuch"], ["unknown family 'nosuch'"]),
    (["models", "--family", "threshnte"], ["unknown family 'threshnte'", "threshnet"]),
    (["models", "--card", "thresnet79"], ["unknown model", "threshnet79"]),
    # suite bundle
    (["bundle", "--models", "thresnet79", "--out", "{out}"], ["unknown model", "threshnet79"]),
    (["bundle", "--models", ",", "--out", "{out}"], ["--models names no model"]),
    (["bundle", "--models", "ghostnet", "--num-classes", "0", "--out", "{out}"], ["--num-classes must be"]),
    (["bundle", "--models", "ghostnet", "--threads", "0", "--out", "{out}"], ["--threads must be"]),
    (["bundle", "--models", "ghostnet", "--preset", "fast", "--out", "{out}"], ["unknown preset 'fast'"]),
    (["bundle", "--models", "ghostnet", "--input", "3x32", "--out", "{out}"], ["bad input size"]),
    (["bundle", "--models", "ghostnet", "--per-image-batch", "-1", "--out", "{out}"], ["--per-image-batch"]),
    (["bundle", "--table", "99", "--out", "{out}"], ["unknown table"]),
    # suite import-times
    (["import-times", "{out}/times.json", "--results", "{out}"], ["cannot read"]),
    (["import-times", "NOTJSON", "--results", "RUN"], ["not a device runner's JSON"]),
    (["import-times", "NOTJSON", "--results", "{out}"], ["not a device runner's JSON"]),
    # suite report
    (["report", "--results", "{out}/results", "--out", "{out}"], ["--results", "does not exist"]),
    (["report", "--results", "RUN", "--run", "nosuch", "--out", "{out}"], ["no run named 'nosuch'"]),
    # the read-only commands
    (["tables", "99"], ["unknown table"]),
    (["recipes", "dpnte"], ["unknown recipe", "dpnet"]),
    (["calibration", "rpi9"], ["rpi9"]),
    (["complexity", "thresnet79"], ["unknown model", "threshnet79"]),
    (["complexity", "threshnet79", "--input", "3x-1x32"], ["bad input size"]),
    (["compare", "{out}/a", "{out}/b"], ["{out}"]),
    (["export", "{out}/a"], ["{out}"]),
    (["export", "RUN", "--format", "xls"], ["xls"]),
]


def _fill(arg: str, out, run, notjson) -> str:
    return arg.replace("{out}", str(out)).replace("RUN", str(run)).replace("NOTJSON", str(notjson))


def _snapshot(root) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and p.name != ".driver.lock"}


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A folder with a finished run and a file that is not JSON; every command runs inside it."""
    from suite.run import append_jsonl

    monkeypatch.chdir(tmp_path)
    run = tmp_path / "results" / "run"
    run.mkdir(parents=True)
    append_jsonl(run / "results.jsonl", {"key": "threshnet79|cifar10|0", "model": "threshnet79",
                                         "dataset": "cifar10", "seed": 0, "status": "ok", "latency": {}})
    (tmp_path / "notjson.txt").write_text("<html>")
    return tmp_path, run


@pytest.mark.parametrize("argv, words", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(workspace, capsys, argv, words):
    root, run = workspace
    out = root / "out"
    before = _snapshot(root)
    argv = [_fill(a, out, run, root / "notjson.txt") for a in argv]
    if argv[0] == "run":
        argv += ["--preset", "smoke", "--out", str(out), "--data-dir", str(root / "nodata")] \
            if "--preset" not in argv else ["--out", str(out), "--data-dir", str(root / "nodata")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err and len(lines) == 1 and lines[0].startswith("error: "), err
    for w in words:
        assert _fill(w, out, run, "") in lines[0], lines[0]
    assert not out.exists()
    assert _snapshot(root) == before

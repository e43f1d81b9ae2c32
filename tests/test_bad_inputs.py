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
    (["run", "--jobs", "0"], ["--jobs must be a positive integer or auto, got 0"]),
    (["run", "--jobs", "-1"], ["--jobs must be a positive integer or auto, got -1"]),
    (["run", "--jobs", "many"], ["bad --jobs 'many'", "a positive integer or auto"]),
    (["run", "--jobs", "100000"], ["--jobs 100000 is more than the", "core(s) this process may use"]),
    (["run", "--jobs", "1", "--threads", "100000"], ["--jobs 1 x --threads 100000", "leave --threads out"]),
    (["run", "--jobs", "2", "--executor", "gpus"], ["--jobs is for --executor local", "--jobs-per-gpu"]),
    (["run", "--jobs", "auto", "--executor", "ray"], ["--jobs is for --executor local", "Ray places jobs"]),
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
    (["run", "--run-name", "a/b"], ["--run-name 'a/b' is not allowed", "letters, digits"]),
    (["run", "--run-name", "x" * 300], ["--run-name", "(300 characters) is not allowed", "1-64 characters"]),
    (["run", "--run-name", ".."], ["--run-name '..' is not allowed"]),
    (["run", "--run-name", "{out}/abs"], ["is not allowed"]),
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
    (["report", "--results", "NOTJSON", "--out", "{out}"], ["is a file, not a folder"]),
    # suite verdict
    (["verdict", "--a", "13.6,,13.9", "--b", "14.7,14.6,14.9"], ["--a has an empty item in '13.6,,13.9'"]),
    (["verdict", "--a", "13.6,13.9", "--b", "14.7,"], ["--b has an empty item"]),
    # suite status
    (["status", "{out}/missing"], ["no run at {out}/missing: it holds no manifest.json"]),
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


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err and len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


# --- a user's model file: names that become paths, files that exit, names the zoo has --------------------------

CARD = """\
import zoo
from torch import nn


@zoo.register_model(zoo.ModelCard(name={name!r}, family="mine", paper="-", num_classes=10, origin="user",
                                  source="mine.py", input_size=(3, 32, 32)))
def build(*, num_classes=10):
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, num_classes))
"""

MODEL_FILES = {
    "a name with a parent path leaves nothing outside the run": (CARD.format(name="../../escaped"),
                                                                 ["mine.py:5:", "'../../escaped' is not allowed"]),
    "an absolute name": (CARD.format(name="/tmp/escaped"), ["'/tmp/escaped' is not allowed"]),
    "an empty name": (CARD.format(name=""), ["model name '' is not allowed"]),
    "a dot-dot name": (CARD.format(name=".."), ["model name '..' is not allowed"]),
    "a name with a newline": (CARD.format(name="a\nb"), ["'a\\nb' is not allowed"]),
    "a name with a comma": (CARD.format(name="a,b"), ["'a,b' is not allowed"]),
    "a 300-character name": (CARD.format(name="m" * 300), ["(300 characters) is not allowed", "1-64 characters"]),
    "a bare builder whose name is too long": ("def " + "b" * 70 + "(*, num_classes=10):\n    return None\n",
                                              ["is not allowed", "1-64 characters"]),
    "a file calling sys.exit(0)": ("import sys\nsys.exit(0)\n", ["mine.py:2:", "exits while it is loaded",
                                                                 "SystemExit(0)"]),
    "a file raising SystemExit(3)": ("raise SystemExit(3)\n", ["mine.py:1:", "SystemExit(3)"]),
    "a file raising KeyboardInterrupt": ("raise KeyboardInterrupt\n", ["mine.py:1:", "interrupted while"]),
    "a model under a zoo name": (CARD.format(name="ghostnet"), ["model 'ghostnet' of {file} is already registered "
                                                                "by the zoo (zoo.ghostnet)"]),
    "a model under another zoo name": (CARD.format(name="threshnet79"), ["{file}", "the zoo (zoo.threshnet)"]),
}


@pytest.mark.parametrize("case", MODEL_FILES)
@pytest.mark.parametrize("command", ["run", "models"])
def test_a_bad_model_file_is_one_line_exit_2_and_writes_nothing(workspace, capsys, case, command):
    import zoo

    root, _ = workspace
    text, words = MODEL_FILES[case]
    path = root / "mine.py"
    path.write_text(text)
    spec = f"{path}:{'b' * 70}" if "bare builder" in case else str(path)
    out = root / "out"
    before = _snapshot(root)
    argv = ["run", "--models-from", spec, "--preset", "smoke", "--out", str(out), "--data-dir",
            str(root / "nodata"), "--estimate-only"] if command == "run" else ["models", "--models-from", spec]
    assert main(argv) == 2
    line = _one_error_line(capsys.readouterr().err)
    for w in words:
        assert w.format(file=path) in line, line
    assert not out.exists() and _snapshot(root) == before
    assert not (root.parent / "escaped").exists() and not (root / "escaped").exists()
    assert zoo.model_card("ghostnet").origin != "user" and zoo.model_card("threshnet79").origin != "user"


def test_a_zoo_name_in_a_fresh_process_names_the_zoo_model_and_the_file(tmp_path):
    """In a new process (the zoo not imported yet) the zoo's families load before the user's file, so the clash
    is the file's; torch and the zoo only, no suite: a few seconds."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "ghost.py"
    path.write_text(CARD.format(name="ghostnet"))
    code = ("import sys, zoo.user\ntry:\n    zoo.user.load([sys.argv[1]])\nexcept zoo.user.UserModelError as exc:\n"
            "    print(exc)\n    sys.exit(2)")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.run([sys.executable, "-c", code, str(path)], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert f"model 'ghostnet' of {path} is already registered by the zoo (zoo.ghostnet)" in proc.stdout, proc.stdout


def test_a_folder_given_to_models_from_is_said_to_be_a_folder(workspace, capsys):
    root, _ = workspace
    (root / "mymodels").mkdir()
    before = _snapshot(root)
    for spec in ("mymodels", "mymodels/", str(root / "mymodels")):
        assert main(["models", "--models-from", spec]) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert f"{root / 'mymodels'} is a directory" in line and "no such file" not in line, line
    assert _snapshot(root) == before


def test_a_builder_returning_a_string_is_not_a_torch_module(workspace, capsys):
    root, _ = workspace
    path = root / "strb.py"
    path.write_text("def strb(*, num_classes=10):\n    return 'a string'\n")
    out = root / "out"
    before = _snapshot(root)
    # dpnet-7 times models on random inputs: the check runs without a data set
    assert main(["run", "--table", "dpnet-7", "--models-from", f"{path}:strb", "--models", "strb", "--hardware",
                 "cpu", "--out", str(out), "--estimate-only"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "returned str, not a torch.nn.Module" in line and "AttributeError" not in line, line
    assert not out.exists() and _snapshot(root) == before


def test_an_entry_point_with_an_unsafe_name_is_refused_naming_the_rule(workspace, monkeypatch, capsys):
    from importlib.metadata import EntryPoint

    import zoo
    import zoo.user

    root, _ = workspace
    (root / "plug").mkdir()
    (root / "plug" / "lcnn_badplug.py").write_text("from torch import nn\n\n\ndef net(*, num_classes=10):\n"
                                                   "    return nn.Linear(4, num_classes)\n")
    monkeypatch.syspath_prepend(str(root / "plug"))
    ep = EntryPoint(name="../../evil", value="lcnn_badplug:net", group=zoo.user.ENTRY_POINT_GROUP)
    monkeypatch.setattr(zoo.user, "_entry_points", lambda: [ep])
    monkeypatch.setattr(zoo.user, "_ENTRY_POINTS_DONE", [])
    monkeypatch.setattr(zoo.user, "ENTRY_POINT_ERRORS", {})
    assert main(["models", "--json"]) == 0
    assert "model name '../../evil' is not allowed" in zoo.user.ENTRY_POINT_ERRORS["../../evil"]
    assert "../../evil" not in zoo.list_models()
    assert "Traceback" not in capsys.readouterr().err


# --- tracebacks that became one line -----------------------------------------------------------------------------

def test_verdict_help_prints_and_says_what_partially_reproduced_means(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["verdict", "--help"])
    assert exit_.value.code == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "in %, comma-separated" in captured.out
    assert "partially reproduced: A is better than B" in captured.out


def _run_with_progress(root, progress: dict):
    import json

    run = root / "results" / "watched"
    (run / "work" / "threshnet79" / "seed0").mkdir(parents=True)
    manifest = {"run_name": "watched", "table": "threshnet-3", "dataset": "cifar10", "seeds": [0],
                "models": [{"model": "threshnet79", "row": "ThreshNet79"}],
                "invocations": [{"models": ["threshnet79"], "seeds": [0], "finished": True}]}
    (run / "manifest.json").write_text(json.dumps(manifest))
    (run / "work" / "threshnet79" / "seed0" / "progress.json").write_text(json.dumps(progress))
    return run


@pytest.mark.parametrize("progress, why", [
    ({"attempt": "a1", "epochs": 3, "history": [{"epoch": 1, "seconds": 2.0, "test_error_pct": "abc"}]},
     "history[0].test_error_pct is str"),
    ({"attempt": "a1", "epochs": "three", "history": []}, "epochs is str"),
    ({"attempt": "a1", "epochs": 3, "history": {"epoch": 1}}, "history is dict"),
    ({"attempt": "a1", "epochs": 3, "history": [["epoch", 1]]}, "history[0] is list"),
])
@pytest.mark.parametrize("as_json", [False, True])
def test_status_reads_a_malformed_progress_file_as_missing_and_says_so(workspace, capsys, progress, why, as_json):
    root, _ = workspace
    run = _run_with_progress(root, progress)
    before = _snapshot(root)
    assert main(["status", str(run), *(["--json"] if as_json else [])]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and not captured.err.strip(), captured.err
    text = " ".join(captured.out.split())  # rich may wrap the note
    assert "progress.json is malformed" in text and why in text and "read as missing" in text, text
    if as_json:
        import json

        (status,) = json.loads(captured.out)
        assert status["jobs"][0]["state"] == "waiting" and status["jobs"][0]["epochs_done"] == 0
    assert _snapshot(root) == before


def test_status_of_a_missing_run_names_its_path_once(workspace, capsys):
    root, _ = workspace
    missing = root / "nowhere" / "MISSING"
    assert main(["status", str(missing), "--results", str(root / "nowhere")]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line.count(str(missing)) == 1 and "holds no manifest.json" in line, line

"""Your own network in a paper's table: a model file outside the repository, run, reported, bundled (its run
under Ray is in tests/test_executors_ray.py).

One smoke run (in process) of a user file's model beside ThreshNet79 feeds the report, resume and provenance
tests; the bad inputs each give one line and exit 2 with nothing written.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import zoo
import zoo.user
from suite.cli import main

REPO = Path(__file__).resolve().parents[1]

HEADER = """\
import torch
from torch import nn
import zoo


class Small(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))
"""

MINE = HEADER + """

@zoo.register_model(zoo.ModelCard(name="mine", family="mine", paper="(unpublished)", num_classes=10,
                                  origin="user", source="mine.py", input_size=(3, 32, 32),
                                  competes_with=("ThreshNet79", "HarDNet68"),
                                  claims=("fewer parameters than ThreshNet79", "lower error than HarDNet68",
                                          "the best network ever")))
def mine(*, num_classes=10):
    return Small(num_classes)
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def cli(argv: list[str], capsys) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


@pytest.fixture(scope="module")
def mine_file(outside) -> Path:
    return write(outside / "models", "mine.py", MINE)


def _run_argv(model_file: Path, data: Path, out: Path, *extra: str) -> list[str]:
    return ["run", "--table", "3", "--models-from", model_file, "--models", "mine,threshnet79", "--preset", "smoke",
            "--hardware", "cpu,rpi4", "--data-dir", data, "--out", out, *extra]


@pytest.fixture(scope="module")
def user_run(mine_file, cifar10_root, outside) -> Path:
    out = outside / "OUT"
    assert main([str(a) for a in _run_argv(mine_file, cifar10_root, out)]) == 0
    (run_dir,) = out.iterdir()
    return run_dir


@pytest.fixture(scope="module")
def reports(user_run, outside) -> Path:
    out = outside / "REPORTS"
    assert main(["report", "--results", str(user_run.parent), "--out", str(out)]) == 0
    return out


def lines(run_dir: Path) -> dict[str, dict]:
    return {r["model"]: r for r in map(json.loads, (run_dir / "results.jsonl").read_text().splitlines())}


# ---- loading ----------------------------------------------------------------------------------------------

def test_a_file_loads_under_a_private_name_and_shadows_nothing(outside):
    import random

    path = write(outside / "shadow", "random.py", HEADER + "\n\ndef builder(*, num_classes=10):\n"
                                                           "    return Small(num_classes)\n")
    before = sys.path[:]
    (src,) = zoo.user.load([f"{path}:builder"])
    assert sys.path == before and "random" in sys.modules and sys.modules["random"] is random
    assert src.module.startswith("lightcnn_user_") and src.module.endswith("_random") and src.module in sys.modules
    import importlib

    assert importlib.import_module("random").__file__ != str(path)
    card = zoo.model_card("builder")
    assert card.origin == "user" and card.classifier is None and card.source == str(path)
    built = zoo.build_model("builder", num_classes=7)
    assert built.classifier_path == "fc" and built.classifier().out_features == 7
    zoo.user.load([])  # this call names no file: the process forgets it
    with pytest.raises(zoo.UnknownModelError):
        zoo.model_card("builder")


def test_module_spec_and_entry_point(outside, monkeypatch):
    from importlib.metadata import EntryPoint

    pkg = outside / "site"
    write(pkg, "lcnn_plugin.py", HEADER + "\n\ndef plugnet(*, num_classes=10):\n    return Small(num_classes)\n")
    monkeypatch.syspath_prepend(str(pkg))
    (src,) = zoo.user.load(["lcnn_plugin:plugnet"])
    assert src.kind == "module" and src.models == ("plugnet",) and src.sha256
    ep = EntryPoint(name="epnet", value="lcnn_plugin:Small", group=zoo.user.ENTRY_POINT_GROUP)
    monkeypatch.setattr(zoo.user, "_entry_points", lambda: [ep])
    monkeypatch.setattr(zoo.user, "_ENTRY_POINTS_DONE", [])
    try:
        assert zoo.create_model("epnet", num_classes=3)(__import__("torch").zeros(1, 3, 8, 8)).shape == (1, 3)
        assert zoo.model_card("epnet").origin == "user" and "entry point 'epnet'" in zoo.model_card("epnet").source
    finally:
        from zoo import _registry

        _registry.unregister(["epnet", "plugnet"])


def test_the_source_travels_with_a_job_to_a_process_without_the_file(outside):
    path = write(outside / "travel", "net.py", MINE.replace('"mine"', '"travelnet"').replace("def mine", "def tn"))
    (src,) = zoo.user.load([str(path)])
    blob = outside / "travel" / "source.pickle"
    blob.write_bytes(pickle.dumps(src))
    path.unlink()  # the worker's machine does not have it
    code = ("import pickle, sys, zoo, zoo.user; src = pickle.load(open(sys.argv[1], 'rb')); zoo.user.install([src]);"
            "print(zoo.create_model('travelnet', num_classes=4).fc.out_features)")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", code, str(blob)], capture_output=True, text=True, env=env,
                          cwd=outside, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "4"


# ---- checks: one line, exit 2, nothing written --------------------------------------------------------------

BAD = {
    "syntax": ("syntax.py", HEADER + "\ndef broken(:\n",
               f"syntax.py:{(HEADER + 'x').splitlines().index('x') + 2}: syntax error"),
    "import": ("imports.py", "import torch\nimport not_a_module_anywhere\n", "imports.py:2: ModuleNotFoundError"),
    "nothing": ("empty.py", "import torch\n", "registers no model"),
    "clash-zoo": ("clash.py", MINE.replace('"mine"', '"threshnet79"'),
                  "model 'threshnet79' of"),
    "no-num-classes": ("nonum.py", HEADER + "\n\ndef nonum():\n    return Small(10)\n", "takes no num_classes"),
    "shape": ("shape.py", HEADER + "\n\ndef shape(*, num_classes=10):\n    return nn.Conv2d(3, num_classes, 3)\n",
              "gives (2, 10, 30, 30), not (2, 10)"),
    "no-params": ("noparams.py", HEADER + "\n\ndef noparams(*, num_classes=10):\n"
                                          "    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),\n"
                                          "                         nn.Upsample(size=num_classes))\n",
                  "no trainable parameters"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_model_files_are_one_line_and_write_nothing(case, outside, cifar10_root, capsys):
    name, text, message = BAD[case]
    folder = outside / f"bad-{case}"
    path = write(folder, name, text)
    spec = f"{path}:{Path(name).stem}" if case in ("no-num-classes", "shape", "no-params") else str(path)
    out = folder / "OUT"
    rc, stdout, err = cli(["run", "--table", "3", "--models-from", spec, "--preset", "smoke", "--hardware", "cpu",
                           "--data-dir", cifar10_root, "--out", out], capsys)
    assert rc == 2, err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert message in err, err
    if case == "clash-zoo":
        assert str(path) in err and "the zoo (zoo.threshnet)" in err
    assert not out.exists()
    assert zoo.model_card("threshnet79").origin != "user"  # the zoo's model was never overwritten


def test_missing_file_and_a_clash_between_two_files(outside, cifar10_root, capsys):
    out = outside / "bad-missing" / "OUT"
    rc, _, err = cli(["run", "--models-from", outside / "nowhere.py", "--out", out], capsys)
    assert rc == 2 and "no such file" in err and str(outside / "nowhere.py") in err and not out.exists()
    a = write(outside / "twins" / "a", "mine.py", MINE)
    b = write(outside / "twins" / "b", "other.py", MINE)
    rc, _, err = cli(["run", "--models-from", a, "--models-from", b, "--preset", "smoke", "--data-dir",
                      cifar10_root, "--out", out], capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert str(a) in err and str(b) in err and not out.exists()


# ---- the run: identity, provenance, resume --------------------------------------------------------------------

@pytest.mark.slow
def test_run_records_the_file_and_its_hash(user_run, mine_file):
    import hashlib

    digest = hashlib.sha256(mine_file.read_bytes()).hexdigest()
    got = lines(user_run)
    assert got["mine"]["status"] == "ok" and got["threshnet79"]["status"] == "ok"
    assert got["mine"]["user_model"]["path"] == str(mine_file) and got["mine"]["user_model"]["sha256"] == digest
    assert "user_model" not in got["threshnet79"]
    manifest = json.loads((user_run / "manifest.json").read_text())
    assert manifest["user_models"][0]["sha256"] == digest and "text" not in manifest["user_models"][0]
    # measured like the rows: trained, profiled by every counter, timed on the CPU, predicted on the Pi
    mine = got["mine"]
    assert mine["summary"]["best_error_pct"] is not None
    assert set(mine["complexity"]["trained"]) >= {"torchstat", "complete", "ptflops"}
    assert mine["latency"]["cpu"]["per_image_ms"] > 0 and mine["latency"]["rpi4"]["predicted"] is True
    assert any("user's own network" in n for n in mine["latency"]["rpi4"]["calibration"]["notes"])


@pytest.mark.slow
def test_same_file_resumes_and_an_edit_starts_a_new_run(user_run, mine_file, cifar10_root, outside, capsys):
    before = (user_run / "results.jsonl").read_text()
    assert main([str(a) for a in _run_argv(mine_file, cifar10_root, user_run.parent)]) == 0
    assert (user_run / "results.jsonl").read_text() == before  # resumed: nothing run again
    from suite.cli import build_parser
    from suite.commands.run import config_from_args
    from suite.run import prepare, real_backends

    def planned(path: Path) -> str:
        args = build_parser().parse_args([str(a) for a in _run_argv(path, cifar10_root, user_run.parent)])
        return prepare(config_from_args(args), real_backends()).run_dir.name

    assert planned(mine_file) == user_run.name
    edited = write(outside / "edited", "mine.py", MINE + "\n# tuned\n")
    other = planned(edited)
    assert other != user_run.name and other.rsplit("-", 1)[0] == user_run.name.rsplit("-", 1)[0]


# ---- the report -----------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_report_shows_the_user_row_below_all_published_rows(reports, user_run, mine_file):
    from suite.tables import get_table

    spec = get_table("3")
    doc = json.loads((reports / "threshnet-3.json").read_text())
    rows = doc["rows"]
    assert [r["row"] for r in rows[: len(spec.rows)]] == [r.row for r in spec.rows] and len(spec.rows) == 14
    mine = rows[-1]
    assert mine["row"] == "mine (yours)" and mine["user_model"]["file"] == str(mine_file)
    assert mine["published"] == {} and mine["error_best_pct"] is not None and mine["time_ms"]["cpu"]
    (comp,) = doc["user_models"]
    assert [v["row"] for v in comp["versus"]] == ["ThreshNet79", "HarDNet68"]
    thresh = comp["versus"][0]
    assert thresh["measured"] and 0 < thresh["params_ratio"] < 0.01 and set(thresh["time_ratio"]) == {"cpu", "rpi4"}
    assert "rpi4" in thresh["time_predicted"] and not comp["versus"][1]["measured"]
    claims = {c["claim"]: c["verdict"] for c in comp["claims"]}
    assert claims["fewer parameters than ThreshNet79"] == "holds"
    assert claims["lower error than HarDNet68"] == "inconclusive"  # HarDNet68 was not trained in this run
    assert claims["the best network ever"] == "inconclusive"
    assert all("reproduced" not in c["verdict"] for c in comp["claims"])
    assert comp["uncounted"].get("torchstat") == ["AdaptiveAvgPool2d"]
    md = (reports / "threshnet-3.md").read_text()
    html = (reports / "threshnet-3.html").read_text()
    for text in (md, html):
        assert "mine (yours)" in text and "Your models against the table" in text
        assert mine_file.name in text and comp["sha256"][:8] in text
        assert all(r.row in text for r in spec.rows)
    assert md.index("| HarDNet85 |") < md.index("| mine (yours) |")


@pytest.mark.slow
def test_plots_include_the_user_model(reports):
    svgs = list(reports.glob("threshnet-3_*.svg"))
    assert svgs and any("mine" in p.read_text() for p in svgs)


# ---- Raspberry Pi bundle --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_bundle_ships_the_file_and_times_it_on_a_torch_only_interpreter(mine_file, outside, capsys):
    from test_device_bundle import run_isolated

    out = outside / "bundle"
    rc, stdout, err = cli(["bundle", "--models-from", mine_file, "--models", "mine", "--out", out, "--preset",
                           "smoke", "--per-image-batch", "2", "--threads", "1"], capsys)
    assert rc == 0, err
    assert f"shipped {mine_file}" in stdout and "also needs" not in stdout
    manifest = json.loads((out / "manifest.json").read_text())
    (entry,) = manifest["user_models"]
    assert entry["models"] == ["mine"] and entry["file"] in manifest["files"]
    elsewhere = outside / "pi-cwd"
    elsewhere.mkdir()
    proc, modules = run_isolated(out, elsewhere / "times.json", cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((elsewhere / "times.json").read_text())
    assert doc["models"]["mine"]["status"] == "ok" and doc["models"]["mine"]["per_image_ms"] > 0
    assert not doc["files_modified"]
    assert all(str(REPO) not in (f or "") for f in modules.values())


def test_bundle_names_the_modules_the_device_needs(outside, capsys):
    path = write(outside / "needs", "needy.py", "import numpy\nimport json\n" + MINE.replace('"mine"', '"needy"')
                 .replace("def mine", "def needy"))
    rc, stdout, err = cli(["bundle", "--models-from", path, "--models", "needy", "--out", outside / "needs" / "b"],
                          capsys)
    assert rc == 0, err
    (line,) = [t for t in stdout.splitlines() if "also needs" in t]
    assert "numpy" in line and "json" not in line


# ---- Python -------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_python_api_runs_the_example_file(cifar10_root, outside):
    from suite import api

    df = api.run_table("3", models=["tinynet", "tinyres"], models_from=[REPO / "examples" / "my_models.py"],
                       preset="smoke", hardware="cpu", data_dir=cifar10_root, out=outside / "API",
                       train_subset=20, test_subset=10)
    assert sorted(df["model"]) == ["tinynet", "tinyres"]
    assert df["user_sha256"].str.len().eq(64).all() and (df["cpu_per_image_ms"] > 0).all()
    assert df["user_file"].str.endswith("examples/my_models.py").all()
    written = api.report(outside / "API", outside / "API-REPORTS")
    doc = json.loads((outside / "API-REPORTS" / "threshnet-3.json").read_text())
    assert {c["model"] for c in doc["user_models"]} == {"tinynet", "tinyres"} and written

"""`suite run ... > file`: plain progress lines (per epoch, per job) reach a file, not only the run log."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from suite.watch.plainlog import PlainProgress

REPO = Path(__file__).resolve().parents[1]


def test_plain_lines_carry_model_seed_epoch_error_speed_and_eta():
    out = io.StringIO()
    log = PlainProgress(out, total=2)
    log("begin", {"model": "a", "seed": 0})
    log("epoch", {"model": "a", "seed": 0, "epoch": 1, "epochs": 3, "test_error_pct": 71.5, "images_per_s": 410.0,
                  "seconds": 20.0})
    log("end", {"model": "a", "seed": 0, "status": "ok"})
    first, second = out.getvalue().splitlines()
    assert "a seed 0 epoch 1/3 error 71.50 % 410 images/s, job ETA 40 s" in first
    assert re.search(r"a seed 0: ok in \d+ s \(1/2 jobs, run ETA \d+ s\)", second)


@pytest.mark.slow  # one tiny real run in a subprocess: ~1 min idle, minutes at load 15 on 2 cores
@pytest.mark.timeout(900)
def test_run_redirected_to_a_file_shows_progress_lines(cifar10_root, tmp_path):
    log = tmp_path / "log.txt"
    with log.open("w") as f:
        proc = subprocess.run([sys.executable, "-m", "suite", "run", "--table", "3", "--preset", "smoke",
                               "--models", "threshnet28,mobilenet_cifar", "--epochs", "2",
                               "--train-subset", "40", "--test-subset", "20",
                               "--hardware", "rpi4", "--data-dir", str(cifar10_root), "--out", str(tmp_path / "res")],
                              stdout=f, stderr=subprocess.PIPE, text=True, cwd=tmp_path, timeout=900,
                              env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = log.read_text()
    assert "logs/run.log" in text
    for model in ("threshnet28", "mobilenet_cifar"):
        assert re.search(rf"{model} seed 0 epoch 1/2 error [\d.]+ % \d+ images/s", text), text
        assert re.search(rf"{model} seed 0 epoch 2/2 ", text), text
        assert re.search(rf"job +{model} seed 0: ok in ", text), text

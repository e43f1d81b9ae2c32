"""A new user's rough edges: a space in --hardware, --data-dir at the data set's own folder."""

from __future__ import annotations

import pytest

from suite.cli import main
from suite.data import load_dataset
from suite.data.load import dataset_parent


def test_hardware_with_a_space_gets_a_one_line_hint(capsys):
    assert main(["latency", "threshnet28", "--hardware", "cpu", "rpi4"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: use a comma: --hardware cpu,rpi4"


def test_a_model_after_hardware_is_not_taken_for_a_profile():
    from suite.cli import space_in_list

    assert space_in_list(["latency", "--hardware", "cpu", "threshnet28"]) is None
    assert space_in_list(["run", "--hardware", "cpu", "gpu", "--preset", "smoke"]) == "use a comma: --hardware cpu,gpu"


def test_data_dir_at_the_cifar_folder_itself_is_accepted(cifar10_root):
    inner = cifar10_root / "cifar-10-batches-py"
    with pytest.warns(UserWarning, match="is the cifar10 folder itself"):
        ds = load_dataset("cifar10", data_dir=inner, train_subset=20, test_subset=10)
    assert ds.test_count == 10


def test_imagenet_folder_holding_train_and_val_is_accepted(tmp_path):
    folder = tmp_path / "imagenet"
    (folder / "train").mkdir(parents=True)
    (folder / "val").mkdir()
    with pytest.warns(UserWarning, match="found train/ and val/"):
        assert dataset_parent("imagenet", folder) == tmp_path
    assert dataset_parent("imagenet", tmp_path) == tmp_path


def test_complexity_prints_the_summary_first_and_layers_on_request(monkeypatch, capsys):
    import suite.cli as cli

    monkeypatch.setattr(cli, "command_modules", lambda: ["complexity"])
    monkeypatch.setenv("COLUMNS", "80")
    argv = ["complexity", "resnet18", "--input", "3x32x32"]
    assert cli.main(argv) == 0
    short = capsys.readouterr().out
    assert "torchstat totals" in short and "--layers prints them" in short and "layer1.0.conv1" not in short
    assert all(len(line) <= 80 for line in short.splitlines())
    assert cli.main([*argv, "--layers"]) == 0
    full = capsys.readouterr().out
    assert full.index("torchstat totals") < full.index("layer1.0.co")
    assert all(len(line) <= 80 for line in full.splitlines())

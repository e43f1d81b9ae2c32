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

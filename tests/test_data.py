"""suite.data and suite.datapath: real CIFAR-10 through the normal loading path, small official-format files
for CIFAR-100, SVHN and STL-10, and the missing / corrupt data errors."""

from __future__ import annotations

import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from suite.data import DatasetChecksumWarning, balanced_subset, load_dataset, resolve_data_dir
from suite.datapath import Normalizer, plan_epoch, random_crop, take_batch, train_batches
from suite.errors import SuiteError

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _load(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatasetChecksumWarning)
        return load_dataset(*args, **kwargs)


@pytest.fixture(scope="module")
def cifar10(cifar10_root):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_dataset("cifar10", data_dir=cifar10_root)
    return ds, [w for w in caught if issubclass(w.category, DatasetChecksumWarning)]


# --- real CIFAR-10 ------------------------------------------------------------------------------------------

def test_cifar10_loads_real_data(cifar10, cifar10_root):
    ds, _ = cifar10
    assert ds.name == "cifar10" and ds.num_classes == 10 and ds.classes == CLASSES
    assert ds.train_x.shape == (50000, 3, 32, 32) and ds.train_x.dtype == torch.uint8
    assert ds.test_x.shape == (1000, 3, 32, 32) and ds.test_y.dtype == torch.int64
    assert ds.train_count == 50000 and ds.test_count == 1000
    assert torch.bincount(ds.train_y).tolist() == [5000] * 10
    # Layout: the first pickle row, reshaped to CHW, is the first image.
    with (cifar10_root / "cifar-10-batches-py" / "data_batch_1").open("rb") as fh:
        row = pickle.load(fh, encoding="latin1")["data"][0]
    assert torch.equal(ds.train_x[0], torch.from_numpy(row.reshape(3, 32, 32)))
    # The canonical per-channel mean of CIFAR-10's training set.
    mean = ds.train_x.float().mean(dim=(0, 2, 3)) / 255
    assert torch.allclose(mean, torch.tensor([0.4914, 0.4822, 0.4465]), atol=1e-3)


def test_repacked_files_accepted_with_warning(cifar10):
    ds, caught = cifar10
    assert len(caught) == 1  # one warning per load, naming the files
    assert "test_batch (1000 images, official 10000)" in str(caught[0].message)
    assert ds.meta["checksum_verified"] is False
    assert ds.meta["files"]["test_batch"]["count"] == 1000
    assert len(ds.meta["fingerprint"]) == 16


def test_subsets_are_balanced_and_deterministic(cifar10, cifar10_root):
    full, _ = cifar10
    ds = _load("cifar10", data_dir=cifar10_root, train_subset=1000, test_subset=200)
    assert ds.train_count == 1000 and ds.test_count == 200
    assert torch.bincount(ds.train_y).tolist() == [100] * 10
    assert torch.bincount(ds.test_y, minlength=10).tolist() == [20] * 10
    idx = balanced_subset(full.train_y.numpy(), 1000)
    assert torch.equal(ds.train_x, full.train_x[idx]) and torch.equal(ds.train_y, full.train_y[idx])
    assert np.array_equal(idx, balanced_subset(full.train_y.numpy(), 1000))
    assert ds.meta["fingerprint"] != full.meta["fingerprint"]
    # Uneven sizes still spread over the classes; asking for more than exists gives everything.
    assert np.bincount(full.train_y.numpy()[balanced_subset(full.train_y.numpy(), 25)]).max() == 3
    assert balanced_subset(np.array([0, 1, 1]), 10).tolist() == [0, 1, 2]


# --- where the data is looked for ---------------------------------------------------------------------------

def test_data_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("SUITE_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_data_dir() == tmp_path / "data"
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir() == tmp_path / "env"
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"


def test_missing_data_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.delenv("SUITE_DOWNLOAD", raising=False)
    with pytest.raises(SuiteError) as err:
        load_dataset("cifar10", data_dir=tmp_path)
    msg = str(err.value)
    assert "\n" not in msg
    assert str(tmp_path / "cifar-10-batches-py" / "data_batch_1") in msg
    assert "cifar-10-batches-py" in msg and "--data-dir" in msg
    with pytest.raises(SuiteError, match="train_32x32.mat"):
        load_dataset("svhn", data_dir=tmp_path, download=False)


def test_unknown_dataset():
    with pytest.raises(SuiteError, match="did you mean cifar10"):
        load_dataset("cifar11")


# --- corrupt files ------------------------------------------------------------------------------------------

def _copy_layout(src: Path, dst: Path) -> Path:
    """Symlinks to the fixture's files, so a test can replace one of them."""
    (dst / "cifar-10-batches-py").mkdir(parents=True)
    for f in (src / "cifar-10-batches-py").iterdir():
        (dst / "cifar-10-batches-py" / f.name).symlink_to(f)
    return dst / "cifar-10-batches-py"


def _replace(folder: Path, name: str, data: bytes) -> None:
    (folder / name).unlink()
    (folder / name).write_bytes(data)


def test_truncated_pickle_names_the_file(cifar10_root, tmp_path):
    folder = _copy_layout(cifar10_root, tmp_path)
    original = (cifar10_root / "cifar-10-batches-py" / "data_batch_3").read_bytes()
    _replace(folder, "data_batch_3", original[:5000])
    with pytest.raises(SuiteError) as err:
        _load("cifar10", data_dir=tmp_path)
    assert str(folder / "data_batch_3") in str(err.value) and "truncated" in str(err.value)


@pytest.mark.parametrize("entry, expect", [
    ({"data": np.zeros((10, 3000), np.uint8), "labels": [0] * 10}, "shape (n, 3072)"),
    ({"data": np.zeros((10, 3072), np.uint8), "labels": [0] * 9}, "10 images but 9 labels"),
    ({"data": np.zeros((10, 3072), np.uint8), "labels": [12] * 10}, "labels span 12..12"),
])
def test_bad_arrays_name_the_file(cifar10_root, tmp_path, entry, expect):
    folder = _copy_layout(cifar10_root, tmp_path)
    _replace(folder, "test_batch", pickle.dumps(entry, protocol=2))
    with pytest.raises(SuiteError, match=re.escape(expect)) as err:
        _load("cifar10", data_dir=tmp_path)
    assert str(folder / "test_batch") in str(err.value)


# --- CIFAR-100, SVHN, STL-10 in their official formats ------------------------------------------------------

def _cifar100(root: Path, n_train: int = 300, n_test: int = 100) -> Path:
    rng = np.random.default_rng(1)
    out = root / "cifar-100-python"
    out.mkdir(parents=True)
    for name, n in (("train", n_train), ("test", n_test)):
        entry = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 "fine_labels": [i % 100 for i in range(n)], "coarse_labels": [i % 20 for i in range(n)],
                 "filenames": [f"{i}.png" for i in range(n)]}
        (out / name).write_bytes(pickle.dumps(entry, protocol=2))
    (out / "meta").write_bytes(pickle.dumps({"fine_label_names": [f"c{i}" for i in range(100)],
                                             "coarse_label_names": [f"s{i}" for i in range(20)]}, protocol=2))
    return root


def test_cifar100_official_format(tmp_path):
    ds = _load("cifar100", data_dir=_cifar100(tmp_path))
    assert ds.num_classes == 100 and ds.classes[:2] == ["c0", "c1"]
    assert ds.train_x.shape == (300, 3, 32, 32) and ds.test_count == 100
    assert int(ds.train_y.max()) == 99


def _svhn(root: Path, n_train: int = 60, n_test: int = 30) -> tuple[Path, np.ndarray]:
    import scipy.io

    rng = np.random.default_rng(2)
    root.mkdir(parents=True, exist_ok=True)
    x_train = None
    for name, n in (("train_32x32.mat", n_train), ("test_32x32.mat", n_test)):
        x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)  # H, W, C, N as in the official files
        y = (np.arange(n) % 10 + 1).astype(np.uint8).reshape(n, 1)  # labels 1..10, 10 meaning digit 0
        scipy.io.savemat(root / name, {"X": x, "y": y})
        x_train = x if x_train is None else x_train
    return root, x_train


def test_svhn_official_format(tmp_path):
    root, x = _svhn(tmp_path)
    ds = _load("svhn", data_dir=root)
    assert ds.train_x.shape == (60, 3, 32, 32) and ds.test_count == 30 and ds.num_classes == 10
    assert torch.equal(ds.train_x[5], torch.from_numpy(x[:, :, :, 5].transpose(2, 0, 1).copy()))
    assert ds.train_y[:10].tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]  # torchvision maps label 10 to 0
    assert ds.meta["checksum_verified"] is False


def test_svhn_truncated_mat(tmp_path):
    root, _ = _svhn(tmp_path)
    path = root / "train_32x32.mat"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(SuiteError) as err:
        _load("svhn", data_dir=root)
    assert str(path) in str(err.value)


def _stl10(root: Path, n_train: int = 20, n_test: int = 10) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(3)
    out = root / "stl10_binary"
    out.mkdir(parents=True)
    images = {}
    for split, n in (("train", n_train), ("test", n_test)):
        img = rng.integers(0, 256, (n, 3, 96, 96), dtype=np.uint8)  # N, C, H, W
        # The official binaries store each channel column-major (x before y).
        (out / f"{split}_X.bin").write_bytes(img.transpose(0, 1, 3, 2).tobytes())
        (out / f"{split}_y.bin").write_bytes((np.arange(n) % 10 + 1).astype(np.uint8).tobytes())
        images[split] = img
    names = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]
    (out / "class_names.txt").write_text("\n".join(names) + "\n")
    return root, images["train"]


def test_stl10_official_format(tmp_path):
    root, img = _stl10(tmp_path)
    ds = _load("stl10", data_dir=root)
    assert ds.train_x.shape == (20, 3, 96, 96) and ds.test_count == 10
    assert torch.equal(ds.train_x, torch.from_numpy(img))
    assert ds.train_y[:10].tolist() == list(range(10)) and ds.classes[7] == "monkey"


def test_stl10_truncated_images(tmp_path):
    root, _ = _stl10(tmp_path)
    path = root / "stl10_binary" / "test_X.bin"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(SuiteError, match="not a whole number") as err:
        _load("stl10", data_dir=root)
    assert str(path) in str(err.value)


# --- the on-device data path --------------------------------------------------------------------------------

def test_plan_is_seeded_and_flips_mirror():
    x = torch.arange(40 * 3 * 4 * 4, dtype=torch.int64).remainder(251).to(torch.uint8).view(40, 3, 4, 4)
    y = torch.arange(40)
    plans = [plan_epoch(40, 16, torch.Generator().manual_seed(7), flip=True) for _ in range(2)]
    assert torch.equal(plans[0].order, plans[1].order) and plans[0].unflipped == plans[1].unflipped
    assert len(plans[0]) == 3 and sorted(plans[0].order.tolist()) == list(range(40))
    seen = []
    for b in range(len(plans[0])):
        images, idx = take_batch(x, plans[0], b)
        k = plans[0].unflipped[b]
        assert torch.equal(images[:k], x[idx[:k]]) and torch.equal(images[k:], x[idx[k:]].flip(3))
        seen += idx.tolist()
    assert sorted(seen) == list(range(40))
    assert 0 < sum(plans[0].unflipped) < 40
    batches = list(train_batches(x, y, plans[0], Normalizer(None, torch.device("cpu"))))
    assert batches[0][0].dtype == torch.float32 and float(batches[0][0].max()) <= 1.0
    assert torch.equal(torch.cat([b[1] for b in batches]), plans[0].order)


def test_random_crop_matches_padding_semantics():
    x = torch.randint(0, 256, (3, 3, 8, 8), dtype=torch.uint8)
    offsets = torch.tensor([[4, 4], [0, 0], [8, 2]])
    out = random_crop(x, offsets, 4)
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4))
    assert torch.equal(out[0], x[0])  # centre crop = the image
    assert torch.equal(out[1], padded[1, :, :8, :8]) and torch.equal(out[2], padded[2, :, 8:16, 2:10])


def test_normalizer():
    x = torch.full((1, 3, 2, 2), 255, dtype=torch.uint8)
    out = Normalizer(((0.5, 0.5, 0.5), (0.25, 0.25, 0.25)), torch.device("cpu"), channels_last=True)(x)
    assert torch.allclose(out, torch.full_like(out, 2.0))
    assert out.is_contiguous(memory_format=torch.channels_last)

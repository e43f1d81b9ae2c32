"""suite.data and suite.data.datapath: real CIFAR-10 through the normal loading path, small official-format files
for CIFAR-100, SVHN and STL-10, and the missing / corrupt data errors."""

from __future__ import annotations

import pickle
import re
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import suite.data.download as download_mod
from suite.core.errors import SuiteError
from suite.data import (
    DamagedFileError,
    DatasetChecksumWarning,
    StreamDataset,
    SubsetWarning,
    balanced_subset,
    dataset_names,
    host_reachable,
    load_dataset,
    resolve_data_dir,
)
from suite.data.datapath import Normalizer, plan_epoch, random_crop, take_batch, train_batches

pytestmark = pytest.mark.filterwarnings("ignore:The image decoding and encoding capabilities:DeprecationWarning")
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """No test here reaches a real download host: the probe says offline unless a test injects another."""
    monkeypatch.setattr(download_mod, "host_reachable", lambda host, port, timeout=3.0: False)


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

def test_cifar100_official_format(cifar100_root):
    ds = _load("cifar100", data_dir=cifar100_root)
    assert ds.num_classes == 100 and ds.classes[:2] == ["c0", "c1"]
    assert ds.train_x.shape == (300, 3, 32, 32) and ds.test_count == 100
    assert int(ds.train_y.max()) == 99
    # Fine labels (not the 20 coarse ones) and the first pickle row as the first image.
    with (cifar100_root / "cifar-100-python" / "train").open("rb") as fh:
        entry = pickle.load(fh, encoding="latin1")
    assert max(entry["coarse_labels"]) == 19
    assert ds.train_y.tolist() == entry["fine_labels"]
    assert torch.equal(ds.train_x[0], torch.from_numpy(entry["data"][0].reshape(3, 32, 32)))
    assert torch.bincount(ds.train_y).tolist() == [3] * 100


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


def test_stl10_official_format(tmp_path, data_builders):
    root = data_builders.stl10(tmp_path, n_train=20, n_test=10)
    img = data_builders.stl10_arrays(20, 10)["train"][0]
    ds = _load("stl10", data_dir=root)
    assert ds.train_x.shape == (20, 3, 96, 96) and ds.test_count == 10
    assert torch.equal(ds.train_x, torch.from_numpy(img))
    assert ds.train_y[:10].tolist() == list(range(10)) and ds.classes[7] == "monkey"


def test_stl10_fixture_is_the_official_split_shape(stl10_root):
    ds = _load("stl10", data_dir=stl10_root)
    assert (ds.train_count, ds.test_count, ds.image_shape, ds.num_classes) == (100, 50, (3, 96, 96), 10)
    assert torch.bincount(ds.test_y).tolist() == [5] * 10 and ds.meta["checksum_verified"] is False


def test_stl10_truncated_images(tmp_path, data_builders):
    root = data_builders.stl10(tmp_path, n_train=20, n_test=10)
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


# --- subsets larger than the data set -----------------------------------------------------------------------

def test_subset_above_the_size_uses_everything_and_says_so(cifar10, cifar10_root):
    full, _ = cifar10
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_dataset("cifar10", data_dir=cifar10_root, train_subset=60000, test_subset=1000)
    said = [str(w.message) for w in caught if issubclass(w.category, SubsetWarning)]
    assert said == ["--train-subset 60000 is more than the 50000 training images of cifar10: using all 50000"]
    assert ds.train_count == 50000 and ds.test_count == 1000
    assert ds.meta["fingerprint"] == full.meta["fingerprint"]  # the same images: the same data identity
    assert ds.meta["train_subset"] == 60000  # what was asked stays on record


# --- downloading a missing data set -------------------------------------------------------------------------

def _fake_download(calls: list, source: Path | None = None):
    def download(self, root):
        calls.append((self.name, root))
        if source is None:
            raise OSError("connection reset")
        (root / "cifar-100-python").symlink_to(source / "cifar-100-python")
    return download


def test_automatic_download_when_the_host_answers(monkeypatch, tmp_path, cifar100_root):
    from suite.data.formats import DatasetSpec

    monkeypatch.delenv("SUITE_DOWNLOAD", raising=False)
    calls, probed = [], []
    monkeypatch.setattr(DatasetSpec, "download", _fake_download(calls, cifar100_root))
    ds = _load("cifar100", data_dir=tmp_path / "fresh", reachable=lambda h, p: probed.append((h, p)) or True)
    assert probed == [("www.cs.toronto.edu", 443)]  # torchvision's own download URL
    assert calls == [("cifar100", tmp_path / "fresh")] and ds.train_count == 300
    # Present now: no probe and no download on the next load.
    _load("cifar100", data_dir=tmp_path / "fresh", reachable=lambda h, p: pytest.fail("probed"))
    assert len(calls) == 1


def test_offline_never_and_always(monkeypatch, tmp_path):
    from suite.data.formats import DatasetSpec

    monkeypatch.delenv("SUITE_DOWNLOAD", raising=False)
    calls = []
    monkeypatch.setattr(DatasetSpec, "download", _fake_download(calls))
    with pytest.raises(SuiteError) as err:  # automatic, host silent: today's one line, saying why
        load_dataset("stl10", data_dir=tmp_path, reachable=lambda h, p: False)
    msg = str(err.value)
    assert "\n" not in msg and str(tmp_path / "stl10_binary" / "train_X.bin") in msg
    assert "no network: ai.stanford.edu:80 did not answer" in msg and calls == []
    with pytest.raises(SuiteError, match="downloading is off"):  # never, even with the host up
        load_dataset("stl10", data_dir=tmp_path, download=False, reachable=lambda h, p: True)
    assert calls == []
    with pytest.raises(SuiteError) as err:  # always try, even with the probe failing
        load_dataset("svhn", data_dir=tmp_path, download=True, reachable=lambda h, p: False)
    assert calls == [("svhn", tmp_path)] and "\n" not in str(err.value)
    assert "downloading svhn from ufldl.stanford.edu" in str(err.value) and "connection reset" in str(err.value)
    monkeypatch.setenv("SUITE_DOWNLOAD", "0")  # the environment's "never" for download=None
    with pytest.raises(SuiteError, match="downloading is off"):
        load_dataset("stl10", data_dir=tmp_path, reachable=lambda h, p: True)
    assert len(calls) == 1


def test_host_probe_is_a_tcp_connect():
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        assert host_reachable("127.0.0.1", port, timeout=1.0) is True
    finally:
        server.close()
    assert host_reachable("127.0.0.1", port, timeout=1.0) is False  # closed: refused at once


# --- ImageNet: an ImageFolder tree, streamed ----------------------------------------------------------------

def test_imagefolder_tree_loads_as_a_stream(imagefolder_root):
    ds = load_dataset("imagenet", data_dir=imagefolder_root, workers=2)
    assert isinstance(ds, StreamDataset) and ds.kind == "stream" and "imagenet" in dataset_names()
    assert (ds.name, ds.num_classes, ds.train_count, ds.test_count) == ("imagenet", 4, 24, 12)
    assert ds.classes == ["n10000000", "n10000001", "n10000002", "n10000003"]
    assert ds.image_shape == (3, 224, 224) and ds.device == torch.device("cpu") and ds.workers == 2
    meta = ds.meta
    assert meta["root"] == str(imagefolder_root / "imagenet") and meta["layout"] == "ImageFolder"
    assert meta["full_counts"] == {"train": 24, "test": 12} and len(meta["fingerprint"]) == 16
    assert meta["workers"] == 2 and meta["data_path"] == "dataloader"
    assert ds.to("meta").device == torch.device("meta") and ds.device == torch.device("cpu")

    images, labels = next(iter(ds.test_loader(5)))
    assert images.shape == (5, 3, 224, 224) and images.dtype == torch.uint8 and labels.dtype == torch.int64
    assert labels.tolist() == [0, 0, 0, 1, 1]  # evaluation: in order, resize 256 + centre crop 224
    from torchvision.transforms import v2

    from suite.data.imagenet import decode

    first = v2.CenterCrop(224)(v2.Resize(256, antialias=True)(decode(ds.test_files.path(0))))
    assert torch.equal(images[0], first)


def test_stream_augmentation_is_seeded_per_image_not_per_worker(imagefolder_root):
    ds = load_dataset("imagenet", data_dir=imagefolder_root, workers=0)

    def epoch(workers):
        loader = replace(ds, workers=workers).train_loader(10, torch.Generator().manual_seed(5))
        return [(x.clone(), y.clone()) for x, y in loader]

    inline, pooled = epoch(0), epoch(2)
    assert [len(y) for _, y in inline] == [10, 10, 4]
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(inline, pooled, strict=True))
    assert sorted(torch.cat([y for _, y in inline]).tolist()) == sorted(ds.train_files.targets.tolist())
    other = [x for x, _ in replace(ds, workers=0).train_loader(10, torch.Generator().manual_seed(6))]
    assert not torch.equal(other[0], inline[0][0])  # another epoch seed: other order and crops


def test_torchvision_imagenet_layout_names_the_classes(tmp_path, data_builders):
    root = data_builders.imagefolder(tmp_path, classes=3, train_per_class=2, val_per_class=1,
                                     torchvision_layout=True)
    ds = load_dataset("imagenet", data_dir=root, workers=0)
    assert ds.meta["layout"] == "torchvision ImageNet" and ds.classes == ["class 0", "class 1", "class 2"]
    assert ds.train_count == 6 and ds.test_count == 3


def test_imagenet_subsets_are_class_balanced(imagefolder_root):
    ds = load_dataset("imagenet", data_dir=imagefolder_root, train_subset=8, test_subset=4, workers=0)
    assert np.bincount(ds.train_files.targets).tolist() == [2, 2, 2, 2]
    assert np.bincount(ds.test_files.targets).tolist() == [1, 1, 1, 1]
    again = load_dataset("imagenet", data_dir=imagefolder_root, train_subset=8, test_subset=4, workers=0)
    assert np.array_equal(again.train_files.paths, ds.train_files.paths)
    full = load_dataset("imagenet", data_dir=imagefolder_root, workers=0)
    assert ds.meta["fingerprint"] != full.meta["fingerprint"] and ds.meta["full_counts"]["train"] == 24
    with pytest.warns(SubsetWarning, match="--train-subset 100 is more than the 24 training images of imagenet"):
        big = load_dataset("imagenet", data_dir=imagefolder_root, train_subset=100, workers=0)
    assert big.train_count == 24 and big.meta["fingerprint"] == full.meta["fingerprint"]


def test_missing_imagenet_says_where_and_what(tmp_path):
    with pytest.raises(SuiteError) as err:
        load_dataset("imagenet", data_dir=tmp_path, download=True)  # never downloaded, whatever is asked
    msg = str(err.value)
    assert "\n" not in msg
    assert f"looked for {tmp_path / 'imagenet' / 'train'} and {tmp_path / 'imagenet' / 'val'}" in msg
    assert "ImageFolder" in msg and "never downloaded" in msg and "image-net.org" in msg
    (tmp_path / "imagenet").mkdir()
    (tmp_path / "imagenet" / "ILSVRC2012_img_val.tar").write_bytes(b"")
    with pytest.raises(SuiteError, match="ILSVRC2012_img_val.tar found but not unpacked"):
        load_dataset("imagenet", data_dir=tmp_path)


def test_imagenet_class_folders_must_agree(tmp_path, data_builders):
    root = data_builders.imagefolder(tmp_path, classes=3, train_per_class=1, val_per_class=1)
    import shutil

    shutil.rmtree(root / "imagenet" / "val" / "n10000002")
    with pytest.raises(SuiteError, match="only in train/: n10000002") as err:
        load_dataset("imagenet", data_dir=root)
    assert "\n" not in str(err.value)
    (root / "imagenet" / "val" / "n10000002").mkdir()  # an empty class folder: torchvision finds no file
    with pytest.raises(SuiteError, match="val data in .* is not usable") as err:
        load_dataset("imagenet", data_dir=root)
    assert "\n" not in str(err.value)


def test_damaged_jpeg_is_one_line_naming_it(tmp_path, data_builders):
    root = data_builders.imagefolder(tmp_path, classes=2, train_per_class=9, val_per_class=1)
    files = sorted((root / "imagenet" / "train").rglob("*.JPEG"))
    first, middle = files[0], files[1]  # the load-time check decodes the first file of each split
    first.write_bytes(first.read_bytes()[:200])
    with pytest.raises(SuiteError) as err:
        load_dataset("imagenet", data_dir=root)
    assert str(err.value) == (f"dataset file {first} is damaged (cannot decode: Image is incomplete or "
                              "truncated); replace it with a fresh copy (ImageNet: from the ILSVRC2012 archive it "
                              "came from)")
    first.write_bytes(files[2].read_bytes())
    middle.write_bytes(b"not an image at all")  # not among the sampled files: met while streaming
    ds = load_dataset("imagenet", data_dir=root, workers=2)
    from suite.data.imagenet import iterate

    with pytest.raises(DamagedFileError) as err:
        for _ in iterate(ds.train_loader(4, torch.Generator().manual_seed(0))):
            pass  # iterate: stops the workers at once on the error (torch alone waits 5 s for each)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"dataset file {middle} is damaged (cannot decode: Unsupported")

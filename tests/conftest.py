"""Shared fixtures. Real CIFAR-10 comes from ../shared (never copied into the repository)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SUITE_SHARED_DIR", REPO.parent / "shared"))
SPRITES = SHARED / "datasets" / "cifar10-ml4a"
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _sprite_rows(index: int) -> np.ndarray:
    from PIL import Image

    a = np.asarray(Image.open(SPRITES / f"cifar10_batch_{index}.png").convert("RGB"))
    # Pixel i of a row is (y, x) = divmod(i, 32): the channel planes side by side give the pickle layout.
    return np.concatenate([a[:, :, 0], a[:, :, 1], a[:, :, 2]], axis=1)


def _write_batch(path: Path, rows: np.ndarray, labels: list[int], label: str) -> None:
    # str keys and values: what the official (Python 2) pickles give under pickle.load(..., encoding="latin1").
    batch = {"batch_label": label, "labels": labels, "data": rows,
             "filenames": [f"{label}_{i}.png" for i in range(len(labels))]}
    with path.open("wb") as fh:
        pickle.dump(batch, fh, protocol=2)


def build_cifar10(root: Path) -> Path:
    """The standard `cifar-10-batches-py` layout under ``root`` from the shared sprites (1,000 test images)."""
    if not SPRITES.is_dir():
        pytest.skip(f"real CIFAR-10 sprites not found at {SPRITES}: put the project's shared folder beside the "
                    "clone (../shared) or set SUITE_SHARED_DIR (README, Set-up)")
    labels = json.loads((SPRITES / "cifar10_labels.json").read_text())["labels"]
    out = root / "cifar-10-batches-py"
    out.mkdir(parents=True)
    for b in range(5):
        rows = np.concatenate([_sprite_rows(10 * b + s) for s in range(10)])
        _write_batch(out / f"data_batch_{b + 1}", rows, labels[10000 * b:10000 * (b + 1)],
                     f"training batch {b + 1} of 5")
    _write_batch(out / "test_batch", _sprite_rows(50), labels[50000:51000], "testing batch 1 of 1")
    with (out / "batches.meta").open("wb") as fh:
        pickle.dump({"label_names": CLASSES, "num_cases_per_batch": 10000, "num_vis": 3072}, fh, protocol=2)
    return root


@pytest.fixture(scope="module")
def outside(request, tmp_path_factory) -> Path:
    """A folder outside the repository (one per test module): what a bundle or a user's file sees elsewhere."""
    path = tmp_path_factory.mktemp(f"outside-{request.module.__name__.rsplit('.', 1)[-1]}")
    assert REPO not in path.parents
    return path


@pytest.fixture(scope="session")
def cifar10_root(tmp_path_factory) -> Path:
    """A data directory holding real CIFAR-10 in torchvision's on-disk layout."""
    return build_cifar10(tmp_path_factory.mktemp("data"))


# --- small data sets in their official on-disk layouts (built in temporary folders, never committed) --------

def build_cifar100(root: Path, *, train_per_class: int = 3, test_per_class: int = 1, seed: int = 1) -> Path:
    """`cifar-100-python/{train,test,meta}` pickles with fine and coarse labels, as the official archive has."""
    rng = np.random.default_rng(seed)
    out = root / "cifar-100-python"
    out.mkdir(parents=True)
    for name, per_class in (("train", train_per_class), ("test", test_per_class)):
        n = 100 * per_class
        fine = [i % 100 for i in range(n)]
        entry = {"filenames": [f"{name}_{i}.png" for i in range(n)], "batch_label": f"{name} batch",
                 "fine_labels": fine, "coarse_labels": [f // 5 for f in fine],
                 "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
        with (out / name).open("wb") as fh:
            pickle.dump(entry, fh, protocol=2)
    with (out / "meta").open("wb") as fh:
        pickle.dump({"fine_label_names": [f"c{i}" for i in range(100)],
                     "coarse_label_names": [f"s{i}" for i in range(20)]}, fh, protocol=2)
    return root


STL10_CLASSES = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]


def stl10_arrays(n_train: int, n_test: int, seed: int = 3) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The images (N, C, H, W uint8) and 0-based labels a `build_stl10` tree holds, per split."""
    rng = np.random.default_rng(seed)
    return {split: (rng.integers(0, 256, (n, 3, 96, 96), dtype=np.uint8), np.arange(n) % 10)
            for split, n in (("train", n_train), ("test", n_test))}


def build_stl10(root: Path, *, n_train: int = 100, n_test: int = 50, seed: int = 3) -> Path:
    """`stl10_binary/` as the official archive has it: column-major uint8 images, 1-based uint8 labels."""
    out = root / "stl10_binary"
    out.mkdir(parents=True)
    for split, (images, labels) in stl10_arrays(n_train, n_test, seed).items():
        # Each channel is stored column-major (x before y), as in the official binaries.
        (out / f"{split}_X.bin").write_bytes(images.transpose(0, 1, 3, 2).tobytes())
        (out / f"{split}_y.bin").write_bytes((labels + 1).astype(np.uint8).tobytes())
    (out / "class_names.txt").write_text("\n".join(STL10_CLASSES) + "\n")
    return root


def build_imagefolder(root: Path, *, classes: int = 4, train_per_class: int = 6, val_per_class: int = 3,
                      torchvision_layout: bool = False) -> Path:
    """`imagenet/{train,val}/<wnid>/*.JPEG`: generated JPEGs of a few sizes, one colour per class.

    ``torchvision_layout`` adds the ``meta.bin`` torchvision's ImageNet class reads (wnid -> class names).
    """
    import torch
    from torchvision.io import encode_jpeg

    rng = np.random.default_rng(4)
    out = root / "imagenet"
    wnids = [f"n{10000000 + c:08d}" for c in range(classes)]
    for split, per_class in (("train", train_per_class), ("val", val_per_class)):
        for c, wnid in enumerate(wnids):
            folder = out / split / wnid
            folder.mkdir(parents=True)
            for k in range(per_class):
                h, w = 40 + 8 * (k % 3), 56 - 6 * (k % 2)
                colour = np.array([60 * c % 256, 255 - 50 * c % 256, 40 + 30 * c], dtype=np.int64).reshape(3, 1, 1)
                pixels = np.clip(colour + rng.integers(-30, 31, (3, h, w)), 0, 255).astype(np.uint8)
                jpeg = encode_jpeg(torch.from_numpy(pixels), quality=90)
                (folder / f"{wnid}_{split}_{k}.JPEG").write_bytes(jpeg.numpy().tobytes())
    if torchvision_layout:
        torch.save(({w: (f"class {i}", f"synonym {i}") for i, w in enumerate(wnids)}, []), out / "meta.bin")
    return root


@pytest.fixture(scope="session")
def cifar100_root(tmp_path_factory) -> Path:
    """A data directory holding a CIFAR-100 stand-in (300 train, 100 test) in the official pickle layout."""
    return build_cifar100(tmp_path_factory.mktemp("cifar100"))


@pytest.fixture(scope="session")
def stl10_root(tmp_path_factory) -> Path:
    """A data directory holding an STL-10 stand-in (100 train, 50 test, 96x96) in the official binary layout."""
    return build_stl10(tmp_path_factory.mktemp("stl10"))


@pytest.fixture(scope="session")
def imagefolder_root(tmp_path_factory) -> Path:
    """A data directory whose `imagenet/` is a tiny ImageFolder tree (4 classes, 24 train / 12 val JPEGs)."""
    return build_imagefolder(tmp_path_factory.mktemp("imagefolder"))


@pytest.fixture
def data_builders():
    """The layout builders, for a test that needs its own (e.g. damaged) copy: ``data_builders.stl10(path)``."""
    from types import SimpleNamespace

    return SimpleNamespace(cifar10=build_cifar10, cifar100=build_cifar100, stl10=build_stl10,
                           stl10_arrays=stl10_arrays, imagefolder=build_imagefolder)


@pytest.fixture(scope="session", autouse=True)
def _session_profile_cache(request, tmp_path_factory):
    """The report's profile cache never lives in the user's ~/.cache: it is kept in pytest's own cache folder
    (so the edit-test loop profiles the zoo once per change of the zoo or the counter, which key the cache), or in
    the session's temporary folder under ``-p no:cacheprovider``, as on a fresh clone; later reports and
    subprocesses reuse it."""
    if request.config.pluginmanager.has_plugin("cacheprovider"):
        folder = request.config.cache.mkdir("profile-cache")
    else:
        folder = tmp_path_factory.mktemp("profile-cache")
    patch = pytest.MonkeyPatch()
    patch.setenv("SUITE_CACHE_DIR", str(folder))
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _no_dataset_downloads(monkeypatch):
    """Tests never download a data set: a missing one fails with its one-line message (a test may override)."""
    monkeypatch.setenv("SUITE_DOWNLOAD", "0")


# --- one end-to-end session: every runnable table once, into one results folder, one report ------------------

def build_svhn(root: Path, *, n_train: int = 120, n_test: int = 60, seed: int = 5) -> Path:
    """`train_32x32.mat` / `test_32x32.mat` as torchvision's SVHN reads them: X (32, 32, 3, N), y labels 1..10."""
    import scipy.io

    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for name, n in (("train_32x32.mat", n_train), ("test_32x32.mat", n_test)):
        x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
        y = (np.arange(n) % 10 + 1).astype(np.uint8).reshape(n, 1)  # 10 stands for the digit 0
        scipy.io.savemat(root / name, {"X": x, "y": y})
    return root


# table -> (data fixture, extra arguments) of the in-process runs; dpnet-7 times on random inputs only. These
# tables check the pipeline, not the numbers: a few images each, one thread per physical core.
FEW = ("--train-subset", "20", "--test-subset", "10")
ONE_PER_CLASS = ("--train-subset", "10", "--test-subset", "10")  # the 10-class data sets
# ImageNet-layout tables train at 224 px: two images per class, one per class to test, two loader workers
FEWER_AT_224 = ("--workers", "2", "--train-subset", "8", "--test-subset", "4")
E2E_TABLES = {
    "threshnet-2": ("cifar10_root", ONE_PER_CLASS),
    "threshnet-4": ("svhn_root", ONE_PER_CLASS),
    "thresholdnet-6": ("cifar10_root", ONE_PER_CLASS),
    "thresholdnet-7": ("stl10_root", ONE_PER_CLASS),
    "triplenet": ("cifar10_root", ONE_PER_CLASS),
    "dpnet-2": ("cifar100_root", FEW),
    "dpnet-3": ("imagefolder_root", FEWER_AT_224),
    "dpnet-4": ("cifar100_root", FEW),
    "dpnet-5": ("cifar10_root", ONE_PER_CLASS),
    "dpnet-6": ("imagefolder_root", FEWER_AT_224),
    "dpnet-7": (None, ()),
}
# the README's Table III smoke command (on 20 / 10 images), in a real process; then three of its models (two of
# claim T1's comparisons) again with another seed, timed on this CPU only
MAIN_RUN = ("run", "--table", "3", "--preset", "smoke", "--hardware", "cpu,rpi4", "--runtimes", "eager,onnxruntime",
            *FEW)
CPU_ONLY_RUN = ("run", "--table", "3", "--preset", "smoke", "--hardware", "cpu", "--threads", "1", *FEW)
SECOND_SEED_MODELS = "threshnet79,ghostnet,mobilenetv2_cifar"


@dataclass(frozen=True)
class Output:
    """What one CLI call gave: exit code, standard output and standard error."""

    code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class EndToEnd:
    """The session's end-to-end results, shared by every end-to-end, report, browser and results test.

    ``results`` holds one run folder per table (named for the table: ``threshnet-3`` is the README's Table III
    smoke run on cpu + rpi4, made in a real ``python -m suite`` process; ``threshnet-3-seed1`` repeats three of
    its models with seed 1, timed on the CPU only); ``reports`` is one ``suite report`` over all of them,
    ``cpu_reports`` the report of ``threshnet-3-seed1`` alone (``suite report --run``). ``outputs`` maps a name
    (``"main"``, ``"again"`` for the repeated main command, ``"seed1"``, a table id, ``"report"``,
    ``"report-cpu"``) to its :class:`Output`. Tests read, never write, these folders.
    """

    root: Path
    results: Path
    reports: Path
    cpu_reports: Path
    data: dict[str, Path]
    outputs: dict[str, Output]

    def run_dir(self, table_id: str) -> Path:
        """The run folder of a table (or of ``threshnet-3-seed1``)."""
        return self.results / table_id

    def lines(self, table_id: str) -> list[dict]:
        """The parsed ``results.jsonl`` lines of a table's run."""
        text = (self.run_dir(table_id) / "results.jsonl").read_text()
        return [json.loads(t) for t in text.splitlines() if t.strip()]

    def report_json(self, table_id: str) -> dict:
        return json.loads((self.reports / f"{table_id}.json").read_text())

    def report_text(self, table_id: str, ext: str = "md") -> str:
        return (self.reports / f"{table_id}.{ext}").read_text()


def suite_process(*args: str, cwd: Path, timeout: float = 3000) -> Output:
    """``python -m suite ARGS`` in a real process (this checkout first on the path)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-m", "suite", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout)
    return Output(proc.returncode, proc.stdout, proc.stderr)


def suite_in_process(*args: str) -> Output:
    """``suite.cli.main(ARGS)`` in this process, its outputs captured; torch's thread count is put back after."""
    import torch

    from suite.cli import main

    threads, out, err = torch.get_num_threads(), io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        torch.set_num_threads(threads)
    return Output(code, out.getvalue(), err.getvalue())


def _ok(name: str, output: Output) -> Output:
    assert output.code == 0 and "Traceback" not in output.stderr, f"{name}:\n{output.stderr[-4000:]}"
    return output


@pytest.fixture(scope="session")
def svhn_root(tmp_path_factory) -> Path:
    """A data directory holding an SVHN stand-in (120 train, 60 test) in torchvision's `.mat` layout."""
    return build_svhn(tmp_path_factory.mktemp("data-svhn") / "svhn")


@pytest.fixture(scope="session")
def e2e(request, tmp_path_factory, cifar10_root) -> EndToEnd:
    """Every runnable table once (smoke preset) into one results folder, then one report: see :class:`EndToEnd`."""
    root = tmp_path_factory.mktemp("e2e")
    results, reports = root / "results", root / "reports"
    data = {"cifar10_root": cifar10_root}
    outputs: dict[str, Output] = {}
    main_args = (*MAIN_RUN, "--data-dir", str(cifar10_root), "--out", str(results), "--run-name", "threshnet-3")
    outputs["main"] = _ok("main", suite_process(*main_args, cwd=root))
    # the same command again finds the run and skips every finished line
    outputs["again"] = _ok("again", suite_in_process(*main_args))
    outputs["seed1"] = _ok("seed1", suite_in_process(
        *CPU_ONLY_RUN, "--data-dir", str(cifar10_root), "--out", str(results), "--run-name", "threshnet-3-seed1",
        "--models", SECOND_SEED_MODELS, "--seeds", "1"))
    for table, (fixture, extra) in E2E_TABLES.items():
        where: tuple[str, ...] = ()
        if fixture:
            data[fixture] = request.getfixturevalue(fixture)
            where = ("--data-dir", str(data[fixture]))
        outputs[table] = _ok(table, suite_in_process(
            "run", "--table", table, "--preset", "smoke", "--out", str(results), "--run-name", table,
            *where, *extra))
    outputs["report"] = _ok("report", suite_in_process("report", "--results", str(results), "--out", str(reports)))
    cpu_reports = root / "reports-cpu"
    outputs["report-cpu"] = _ok("report-cpu", suite_in_process(
        "report", "--results", str(results), "--run", "threshnet-3-seed1", "--out", str(cpu_reports)))
    return EndToEnd(root, results, reports, cpu_reports, data, outputs)


@pytest.fixture(scope="module", autouse=True)
def _forget_user_files():
    """The user files a test module loads in this process are dropped after it: a suite call without
    --models-from keeps what was loaded before, so they would otherwise show in later modules' model lists."""
    yield
    if "zoo.user" in sys.modules:
        sys.modules["zoo.user"].forget()


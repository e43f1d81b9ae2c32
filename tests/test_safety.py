"""What a bad file, a kill, a full disk or a hostile string can and cannot do: each scenario reproduced."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import pickle
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from run_fakes import Fakes, config

from suite.cli import main
from suite.core.errors import DiskFullError, SuiteError
from suite.data import cifar_pickle
from suite.data.common import DamagedFileError
from suite.run import Runner, prepare
from suite.run import store as store_module
from suite.run.store import append_jsonl, drop_partial_tail, job_lock, load_run
from suite.train import checkpoint


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (the run's empty lock file aside): equal means nothing touched."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != ".driver.lock"}


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err and len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


# --- 1. suite bundle --out never replaces a folder it did not write -------------------------------------------

@pytest.mark.parametrize("files", [
    {"manifest.json": '{"mine": true}', "README.txt": "my notes", "zoo/model.py": "x = 1"},
    {"manifest.json": json.dumps({"run_name": "r", "table": "3"}), "results.jsonl": '{"key": "a"}\n'},
    {"manifest.json": "not json at all", "run.py": "print('mine')"},
])
def test_bundle_refuses_a_folder_with_a_foreign_manifest(tmp_path, capsys, files):
    out = tmp_path / "folder"
    for name, text in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    before = tree(out)
    assert main(["bundle", "--models", "ghostnet", "--out", str(out)]) == 2
    assert "holds no bundle written by `suite bundle`" in one_error_line(capsys)
    assert tree(out) == before


def test_bundle_replaces_its_own_bundle_and_keeps_other_files(tmp_path, capsys):
    out = tmp_path / "b"
    assert main(["bundle", "--models", "ghostnet", "--out", str(out)]) == 0
    (out / "times.json").write_text("{}")  # the user's own file beside the bundle
    assert main(["bundle", "--models", "threshnet79", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert [m["name"] for m in manifest["models"]] == ["threshnet79"]
    assert (out / "times.json").read_text() == "{}"


# --- 2. a CIFAR pickle never runs code ------------------------------------------------------------------------

class _Payload:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))  # the side effect that must not happen


def _copy_cifar(cifar10_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(cifar10_root, root)
    return root


def test_a_reduce_payload_in_a_data_batch_never_runs(cifar10_root, tmp_path):
    from suite.data import load_dataset

    root = _copy_cifar(cifar10_root, tmp_path)
    marker = tmp_path / "pwned"
    batch = root / "cifar-10-batches-py" / "data_batch_1"
    entry = {"data": np.zeros((2, 3072), np.uint8), "labels": [0, 1], "x": _Payload(marker)}
    batch.write_bytes(pickle.dumps(entry, protocol=2))
    with pytest.raises(DamagedFileError, match="not a CIFAR pickle: it refers to posix.mkdir") as err:
        load_dataset("cifar10", data_dir=root, download=False, train_subset=20, test_subset=20, device="cpu")
    assert str(batch) in str(err.value) and "\n" not in str(err.value)
    assert not marker.exists()


def test_the_reader_itself_unpickles_through_the_restricted_unpickler(cifar10_root, tmp_path):
    from suite.data.formats import _CIFAR10

    root = _copy_cifar(cifar10_root, tmp_path)
    marker = tmp_path / "pwned-meta"
    meta = root / "cifar-10-batches-py" / "batches.meta"
    meta.write_bytes(pickle.dumps({"label_names": _Payload(marker)}, protocol=2))
    with pytest.raises(DamagedFileError, match="not a CIFAR pickle"):
        _CIFAR10(str(root), train=False)
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_the_restricted_unpickler_reads_arrays_scalars_and_plain_values(protocol):
    entry = {"data": np.arange(12, dtype=np.uint8).reshape(2, 6), "labels": [1, np.int64(2)], "name": b"x",
             "set": {1, 2}, "f": 1.5, "t": (1, "a"), "none": None}
    back = cifar_pickle.loads(pickle.dumps(entry, protocol=protocol))
    assert np.array_equal(back["data"], entry["data"]) and back["data"].dtype == np.uint8
    assert back["labels"] == [1, 2] and back["name"] == b"x" and back["set"] == {1, 2} and back["t"] == (1, "a")


@pytest.mark.parametrize("obj", [Path("/tmp"), np.random.default_rng(0), torch.zeros(1)])
def test_the_restricted_unpickler_refuses_any_other_global(obj):
    with pytest.raises(cifar_pickle.RefusedGlobal, match="not a CIFAR pickle"):
        cifar_pickle.loads(pickle.dumps({"data": obj}, protocol=2))


# --- 3. a short write is never reported as success ------------------------------------------------------------

def _short_writes(monkeypatch, fail_after: int | None):
    """os.write that writes at most 100 bytes a call and fails with ENOSPC once ``fail_after`` bytes are written."""
    real = os.write
    written = {"n": 0}

    def write(fd, data):
        if fail_after is not None and written["n"] >= fail_after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = real(fd, bytes(data[:100]))
        written["n"] += n
        return n

    monkeypatch.setattr(store_module.os, "write", write)


def test_append_loops_over_short_writes(tmp_path, monkeypatch):
    path = tmp_path / "results.jsonl"
    append_jsonl(path, {"key": "a", "v": "x" * 1000})
    _short_writes(monkeypatch, fail_after=None)
    append_jsonl(path, {"key": "b", "v": "y" * 1000})
    lines = [json.loads(t) for t in path.read_text().splitlines()]
    assert [r["key"] for r in lines] == ["a", "b"] and lines[1]["v"] == "y" * 1000


def test_a_write_that_fails_part_way_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "results.jsonl"
    append_jsonl(path, {"key": "a"})
    before = path.read_bytes()
    _short_writes(monkeypatch, fail_after=300)  # 300 of about 23,000 bytes reach the disk, then it is full
    record = {"key": "b", "latency": {"rpi4": {"samples": ["x" * 22_900]}}}
    with pytest.raises(SuiteError) as err:
        append_jsonl(path, record)
    needed = len(json.dumps(record, separators=(",", ":"))) + 1
    assert str(err.value) == f"no space left on device: {path} ({needed} bytes needed)"
    assert path.read_bytes() == before


def _import_fixture(tmp_path: Path, median) -> tuple[Path, Path]:
    run = tmp_path / "run"
    run.mkdir()
    line = {"key": "threshnet79|cifar10|0", "model": "threshnet79", "dataset": "cifar10", "seed": 0,
            "status": "ok", "latency": {},
            "complexity": {"trained": {"num_classes": 10, "input_size": [3, 32, 32]}}}
    append_jsonl(run / "results.jsonl", line)
    doc = {"format": "suite-device-times", "format_version": 1, "label": "rpi4", "device": {"hostname": "pi"},
           "input_size": [3, 32, 32],
           "models": {"threshnet79": {"status": "ok", "num_classes": 10, "median_ms": median, "p90_ms": 60.0,
                                      "iqr_ms": 1.0, "runs": 10, "batch": 1, "threads": 4,
                                      "input_size": [3, 32, 32]}}}
    times = tmp_path / "times.json"
    times.write_text(json.dumps(doc))
    return run, times


def test_import_times_on_a_full_disk_exits_non_zero_and_adds_nothing(tmp_path, monkeypatch, capsys):
    run, times = _import_fixture(tmp_path, 50.0)
    before = tree(run)
    _short_writes(monkeypatch, fail_after=0)
    assert main(["import-times", str(times), "--results", str(run)]) == 2
    assert one_error_line(capsys).startswith(f"error: no space left on device: {run / 'results.jsonl'} (")
    assert tree(run) == before


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, timeout=10)
    return done.returncode == 0


def test_append_on_a_really_full_tmpfs_leaves_the_file_as_it_was(tmp_path):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "64k"):
        pytest.skip("cannot mount a small tmpfs here (needs root and mount)")
    try:
        path = disk / "results.jsonl"
        append_jsonl(path, {"key": "a"})
        before = path.read_bytes()
        with pytest.raises(SuiteError, match=r"^no space left on device: .*results.jsonl \(\d+ bytes needed\)$"):
            append_jsonl(path, {"key": "b", "v": "x" * 200_000})
        assert path.read_bytes() == before
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True, timeout=10)


# --- 4. a typo'd --results never overwrites a report ----------------------------------------------------------

def test_report_with_a_typod_results_names_the_closest_folder_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results" / "run").mkdir(parents=True)
    reports = tmp_path / "reports"
    reports.mkdir()
    for name in ("index.md", "index.html", "threshnet-3.md"):
        (reports / name).write_text(f"the old {name}")
    before = tree(tmp_path)
    assert main(["report", "--results", "resluts", "--out", "reports"]) == 2
    line = one_error_line(capsys)
    assert "--results resluts does not exist" in line and "did you mean results?" in line
    assert tree(tmp_path) == before


def test_report_from_an_empty_results_folder_keeps_an_existing_report(tmp_path, capsys):
    (tmp_path / "results").mkdir()
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "index.md").write_text("the old index")
    before = tree(tmp_path)
    assert main(["report", "--results", str(tmp_path / "results"), "--out", str(reports)]) == 2
    assert "holds a report already: it is kept" in one_error_line(capsys)
    assert tree(tmp_path) == before


# --- 5. imported numbers are checked, the file rejected whole --------------------------------------------------

@pytest.mark.parametrize("median, words", [
    ("abc", "median_ms is 'abc'"), (-3.0, "median_ms is -3.0"), (0, "median_ms is 0"),
    (float("inf"), "median_ms is inf"), (True, "median_ms is True"),
])
def test_import_times_rejects_a_bad_number_and_writes_nothing(tmp_path, capsys, median, words):
    run, times = _import_fixture(tmp_path, median)
    before = tree(run)
    assert main(["import-times", str(times), "--results", str(run)]) == 2
    line = one_error_line(capsys)
    assert words in line and "nothing was imported" in line
    assert tree(run) == before


@pytest.mark.parametrize("change, words", [
    ({"unit": "s"}, "states unit 's'"), ({"p90_ms": "fast"}, "p90_ms is 'fast'"), ({"iqr_ms": -1}, "iqr_ms is -1"),
    ({"runs": 2.5}, "runs is 2.5"), ({"input_size": [3, 0, 32]}, "input_size is [3, 0, 32]"),
])
def test_import_times_checks_every_field_and_its_unit(tmp_path, capsys, change, words):
    run, times = _import_fixture(tmp_path, 50.0)
    doc = json.loads(times.read_text())
    doc["models"]["threshnet79"].update(change)
    times.write_text(json.dumps(doc))
    before = tree(run)
    assert main(["import-times", str(times), "--results", str(run)]) == 2
    assert words in one_error_line(capsys)
    assert tree(run) == before


def test_import_times_accepts_good_numbers(tmp_path, capsys):
    run, times = _import_fixture(tmp_path, 50.0)
    assert main(["import-times", str(times), "--results", str(run)]) == 0
    assert load_run(run).lines[0]["latency"]["rpi4"]["median_ms"] == 50.0


# --- 6. a full disk during a run: said once, the run stops, finished lines kept --------------------------------

def test_a_checkpoint_save_on_a_full_disk_is_one_clear_error(tmp_path, monkeypatch):
    def full(state, fh):
        fh.write(b"PK")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")

    monkeypatch.setattr(checkpoint.torch, "save", full)
    path = tmp_path / "m_cifar10_seed0_abc.pt"
    with pytest.raises(DiskFullError) as err:
        checkpoint.save_atomic({"x": 1}, path)
    assert str(err.value) == f"no space left on device writing {path}"
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


def test_a_full_disk_stops_the_run_and_keeps_the_finished_lines(tmp_path):
    fakes = Fakes()
    backends = fakes.backends()
    train = backends.train_and_evaluate

    def train_until_full(model, dataset, recipe, **kw):
        if model == "hardnet68":
            raise DiskFullError(Path(kw["work_dir"]) / "hardnet68.pt")
        return train(model, dataset, recipe, **kw)

    backends.train_and_evaluate = train_until_full
    plan = prepare(config(tmp_path), backends)  # threshnet79, hardnet68, ghostnet
    with pytest.raises(SuiteError, match="^no space left on device writing .*hardnet68.pt$"):
        Runner(plan, backends).execute()
    lines = load_run(plan.run_dir).lines
    assert [r["model"] for r in lines] == ["threshnet79"] and lines[0]["status"] == "ok"
    assert [m for m, _ in fakes.trained] == ["threshnet79"]  # ghostnet was never started


# --- 8. every remote device is reached before anything is trained ---------------------------------------------

def test_remote_devices_are_reached_before_the_dataset_is_loaded(tmp_path):
    fakes = Fakes()
    backends = fakes.backends()
    order = []
    load = backends.load_dataset
    backends.load_dataset = lambda *a, **kw: order.append("load") or load(*a, **kw)

    def unreachable(profile):
        order.append(f"reach {profile.remote.display}")
        raise SuiteError(f"cannot reach {profile.remote.display}: connection refused")

    from suite.timing.hardware import parse_profiles

    backends.reach_remote = unreachable
    backends.parse_profiles = parse_profiles
    with pytest.raises(SuiteError, match="cannot reach 127.0.0.1:1"):
        prepare(config(tmp_path, hardware="cpu,ssh://127.0.0.1:1"), backends)
    assert order == ["reach 127.0.0.1:1"] and fakes.trained == [] and not (tmp_path / "results").exists()


@pytest.mark.slow
def test_run_with_an_unreachable_device_fails_before_training(tmp_path, capsys):
    out = tmp_path / "results"
    rc = main(["run", "--models", "threshnet79", "--preset", "smoke", "--hardware", "ssh://127.0.0.1:1",
               "--out", str(out), "--data-dir", str(tmp_path / "nodata")])
    assert rc == 2
    assert "cannot reach 127.0.0.1:1" in one_error_line(capsys)
    assert not out.exists()


# --- 9. nothing typed reaches a shell unquoted ----------------------------------------------------------------

@pytest.mark.parametrize("spec, words", [
    ("ssh://-oProxyCommand=id", "the host begins with '-'"),
    ("ssh://-oProxyCommand=touch /tmp/x", "bad remote"),
    ("rpi4@-oProxyCommand=id", "the host begins with '-'"),
    ("ssh://-l@host", "the user begins with '-'"),
    ("ssh://pi;id@host", "the user holds ';'"),
    ("ssh://host$(id)", "the host holds"),
    ("ssh://a`id`b", "the host holds '`'"),
    ("rpi4@pi@ho|st", "the host holds '|'"),
])
def test_hosts_and_users_that_ssh_or_a_shell_would_interpret_are_refused(tmp_path, capsys, spec, words):
    out = tmp_path / "results"
    assert main(["run", "--preset", "smoke", "--models", "threshnet79", "--hardware", spec, "--out", str(out)]) == 2
    assert words in one_error_line(capsys)
    assert not out.exists()


def test_the_remote_interpreter_is_never_expanded_by_the_remote_shell(tmp_path):
    from suite.device.ssh import EXIT_NO_PYTHON, remote_script, tar_bundle

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "run.py").write_text("print('never run')\n")
    marker = tmp_path / "expanded"
    python = f"$(touch {marker})"
    # What ssh hands the remote login shell: one command line, run here by sh as the remote would.
    done = subprocess.run(["sh", "-c", remote_script(python, ["--label", f"`touch {marker}`"])],
                          input=tar_bundle(bundle), capture_output=True, timeout=60)
    assert done.returncode == EXIT_NO_PYTHON, done.stderr
    assert f"no interpreter $(touch {marker})".encode() in done.stderr
    assert not marker.exists()


# --- 10. the leftovers of a kill, foreign lines, HTML in markdown, read-only git, versioned caches -------------

def test_stale_checkpoint_temps_are_removed_and_nothing_else(tmp_path):
    path = tmp_path / "m_cifar10_seed0_abc.pt"
    dead = _dead_pid()
    stale = tmp_path / f".{path.name}.{dead}.tmp"
    live = tmp_path / f".{path.name}.{os.getpid()}.tmp"
    keep = [tmp_path / f".other.pt.{dead}.tmp", tmp_path / f".{path.name}.x{dead}.tmp", tmp_path / "notes.tmp",
            live]
    for p in [stale, *keep]:
        p.write_bytes(b"x")
    assert checkpoint.load(path, {"model": "m"}) is None
    assert not stale.exists() and all(p.exists() for p in keep)


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid  # reaped: no process has this id now (ids are not reused this quickly)


def test_a_half_written_last_line_is_cut_after_recovery(tmp_path):
    path = tmp_path / "results.jsonl"
    append_jsonl(path, {"key": "a", "status": "ok"})
    with path.open("ab") as fh:
        fh.write(b'{"key": "b", "sta')  # a kill in the middle of a line
    assert drop_partial_tail(path) == len(b'{"key": "b", "sta')
    assert path.read_text() == '{"key":"a","status":"ok"}\n'
    with path.open("ab") as fh:
        fh.write(b'{"key": "c"}')  # a whole record without its newline is kept
    assert drop_partial_tail(path) == 0 and path.read_text().endswith('{"key": "c"}\n')


def test_markdown_reports_escape_html_from_result_fields(tmp_path):
    from suite.report import _env

    env = _env(False)
    text = env.from_string("{{ name }} | {{ reason | mdcell }}").render(
        name="<img src=x onerror=alert(1)>", reason="<script>alert(1)</script>")
    assert "<img" not in text and "<script>" not in text and "&lt;script&gt;" in text


def test_a_line_with_unknown_keys_is_skipped_with_a_warning(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    append_jsonl(run / "results.jsonl", {"key": "x|cifar10|0", "foo": 1, "bar": "baz"})
    append_jsonl(run / "results.jsonl", {"key": "m|cifar10|0", "model": "m", "seed": 0, "status": "ok"})
    with pytest.warns(RuntimeWarning, match="not results records; skipped"):
        loaded = load_run(run)
    assert [r["model"] for r in loaded.lines] == ["m"] and loaded.unreadable == 1


def test_the_run_banner_shows_the_counts_the_flags_set():
    from types import SimpleNamespace

    from suite.run import PRESETS
    from suite.watch.display import preset_banner

    preset = {"epochs": "smoke preset", "train_subset": "smoke preset", "test_subset": "smoke preset"}

    def plan(train, test, epochs=1, **origins):
        return SimpleNamespace(preset=PRESETS["smoke"], table=SimpleNamespace(trainable=True),
                               recipe=SimpleNamespace(epochs=epochs), origins=preset | origins,
                               dataset=SimpleNamespace(train_count=train, test_count=test))

    assert preset_banner(plan(100, 50)) == (f"preset smoke: {PRESETS['smoke'].description}; epochs 1 (smoke "
                                            "preset), 100 training images (smoke preset), 50 test images (smoke "
                                            "preset)")
    changed = preset_banner(plan(1000, 500, epochs=2, train_subset="--train-subset",
                                 test_subset="--test-subset"))
    assert changed.startswith("preset smoke, changed by flags: epochs 2 (smoke preset), 1,000 training images "
                              "(--train-subset), 500 test images (--test-subset)")


def test_provenance_reads_git_without_taking_its_index_lock(monkeypatch):
    import suite.core.provenance as provenance

    seen = []
    real = subprocess.run

    def run(cmd, *a, **kw):
        seen.append(cmd)
        return real(cmd, *a, **kw)

    monkeypatch.setattr(provenance.subprocess, "run", run)
    provenance.git_commit.cache_clear()
    try:
        provenance.git_commit()
    finally:
        provenance.git_commit.cache_clear()
    status = [c for c in seen if "status" in c]
    assert status and all("--no-optional-locks" in c for c in status)


def test_caches_written_by_another_suite_version_are_not_used(tmp_path, monkeypatch):
    from suite.report import profiles

    monkeypatch.setenv("SUITE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(profiles, "_memory", {})
    (tmp_path / "report_complexity.json").write_text(json.dumps(
        {"key": profiles._key(), "suite_version": "0.0.0-other", "profiles": {"m|10|3x32x32": {"params": 1}}}))
    assert profiles._load() == {}
    (tmp_path / "report_complexity.json").write_text(json.dumps(
        {"key": profiles._key(), "suite_version": __import__("suite").__version__,
         "profiles": {"m|10|3x32x32": {"params": 1}}}))
    assert profiles._load() == {"m|10|3x32x32": {"params": 1}}


# --- 11. a restarted driver never races the tasks a killed one left behind -------------------------------------

def test_a_job_folder_is_held_by_one_process_at_a_time(tmp_path):
    lock = tmp_path / ".job.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)  # the orphan's hold (flock is per open file)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(SuiteError, match="still being written by another process"):
            with job_lock(tmp_path, wait_s=0.3, poll_s=0.05):
                pass
        release = threading.Timer(0.2, os.close, (fd,))  # the orphan dies: the kernel drops its lock
        release.start()
        entered = []
        with job_lock(tmp_path, wait_s=30, poll_s=0.05):
            entered.append(True)
        release.join()
        fd = None
        assert entered == [True]
    finally:
        if fd is not None:
            os.close(fd)


# --- 11. names that become folders, exports and reports replaced whole ---------------------------------------

@pytest.mark.parametrize("name", ["", "..", "../../escaped", "/tmp/escaped", "a/b", "a\nb", "a,b", ".hidden",
                                  "a..b", "m" * 65, "é"])
def test_a_hostile_model_name_is_refused_by_its_card(name):
    from zoo import ModelCard
    from zoo.names import UnsafeNameError

    with pytest.raises(UnsafeNameError, match="is not allowed: a name becomes a folder name"):
        ModelCard(name=name, family="x", paper="-", num_classes=10, origin="user", source="x.py")


def test_a_job_folder_never_leaves_the_run_directory(tmp_path):
    """The last guard, for a name that got past the card's check: the folder must resolve inside the run."""
    store = store_module.RunStore(tmp_path / "run")
    assert store.job_dir("threshnet79", "cifar10", 0) == tmp_path / "run" / "work" / "threshnet79" / "seed0"
    for name in ("../../escaped", "..", "/tmp/escaped", "a/../../b", "m" * 300):
        with pytest.raises(SuiteError, match="outside"):
            store.job_dir(name, "cifar10", 0)
        with pytest.raises(SuiteError, match="outside"):
            store.complexity_path(name)
    (tmp_path / "run" / "work").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "run" / "work" / "linked").symlink_to(tmp_path / "elsewhere")  # a safe name, a folder outside
    with pytest.raises(SuiteError, match="outside"):
        store.job_dir("linked", "cifar10", 0)


def test_a_model_registered_past_the_card_check_fails_before_its_job_writes(tmp_path):
    """A card whose name was changed after its check (object.__setattr__) still cannot place a job outside."""
    from zoo import ModelCard, register_model
    from zoo._registry import registered, unregister

    card = ModelCard(name="sneaky", family="x", paper="-", num_classes=10, origin="user", source="x.py")
    object.__setattr__(card, "name", "../../escaped")
    try:
        register_model(card)(lambda *, num_classes=10: torch.nn.Linear(3, num_classes))
        assert registered("../../escaped")[1].name == "../../escaped"
        with pytest.raises(SuiteError, match="outside"):
            store_module.RunStore(tmp_path / "run").job_dir("../../escaped", "cifar10", 0)
        assert not (tmp_path / "escaped").exists() and not (tmp_path / "run").exists()
    finally:
        unregister(["../../escaped"])


def test_export_replaces_its_file_whole_and_a_failed_write_keeps_the_old_one(tmp_path, monkeypatch, capsys):
    from suite.core import fileio

    run = tmp_path / "results" / "run"
    run.mkdir(parents=True)
    append_jsonl(run / "results.jsonl", {"key": "threshnet79|cifar10|0", "model": "threshnet79",
                                         "dataset": "cifar10", "seed": 0, "status": "ok", "latency": {}})
    out = tmp_path / "export.csv"
    out.write_text("an earlier export\n")

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", no_space)
    assert main(["export", str(run), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no space left on device") and len(err.strip().splitlines()) == 1, err
    assert out.read_text() == "an earlier export\n" and sorted(p.name for p in tmp_path.iterdir()) == [
        "export.csv", "results"]
    monkeypatch.undo()
    assert main(["export", str(run), "--out", str(out)]) == 0
    assert out.read_text().startswith("run,") or "threshnet79" in out.read_text()


def test_a_report_removes_its_own_stale_temporary_files_and_nothing_else(tmp_path):
    from suite.report import Reports, write

    out = tmp_path / "reports"
    out.mkdir()
    dead, alive = _dead_pid(), os.getppid()
    stale = [out / f".threshnet-3.html.{dead}.tmp", out / f".index.md.{dead}.tmp",
             out / f".threshnet-3_error_vs_time.svg.{dead}.tmp", out / f".dpnet-7.json.{dead}.tmp"]
    keep = [out / f".threshnet-3.html.{alive}.tmp",  # a report being written right now
            out / f".notes.txt.{dead}.tmp", out / f".index.json.{dead}.tmp", out / f".nosuch-9.md.{dead}.tmp",
            out / f".threshnet-3.html.{dead}.tmp.bak", out / "threshnet-3.html.tmp", out / "mine.md"]
    for p in stale + keep:
        p.write_text("x")
    written = write(Reports([], [], []), out)
    assert [p.name for p in written] == ["index.md", "index.html"]
    assert not any(p.exists() for p in stale) and all(p.exists() for p in keep)

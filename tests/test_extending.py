"""A table, a hardware profile and a data set added through their public declarations only (docs/EXTENDING.md)
are picked up by everything that reads them; each is removed again after the test."""

from __future__ import annotations

import json

import pytest

from suite.cli import main
from suite.core.errors import SuiteError
from suite.data.catalog import DataSet, dataset_info, register_dataset, unregister_dataset
from suite.tables import (
    COMPLEXITY,
    TRAINED,
    RowSpec,
    TableSpec,
    get_table,
    published_rows,
    register_table,
    unregister_table,
)
from suite.tables.needs import dataset_present
from suite.timing import hardware
from suite.timing.profiles import HardwareSpec, Timing, label, order_key, register_profile, unregister_profile


@pytest.fixture
def demo_dataset():
    info = register_dataset(DataSet("tinyset", 7, (3, 16, 16), ("tinyset",), 70, 35))
    yield info
    unregister_dataset("tinyset")


@pytest.fixture
def demo_table(demo_dataset):
    # rows of a real published CSV: the table's cells come from zoo/data/published/<published_table>.csv
    spec = register_table(TableSpec(
        "extending-demo", "triplenet", "A throwaway table", "triplenet_readme_cifar10",
        # hardnet68ds is in no real table: the demo table is what maps it to a published row
        (RowSpec("HarDNet85", "hardnet68ds", 1000), RowSpec("TripleNet-S", "triplenet_s", 1000)),
        ("error_pct", "params_m"), kind=TRAINED, dataset=demo_dataset.name, aliases=("demo",)))
    yield spec
    unregister_table(spec.id)


@pytest.fixture
def demo_profiles():
    board = register_profile(HardwareSpec("testboard", "Test board", Timing.REMOTE_DEVICE, "Test Board",
                                          missing_here="no test board here"))
    cpu = register_profile(HardwareSpec("testcpu", "Test CPU", Timing.LOCAL_CPU, "CPU"))
    yield board, cpu
    unregister_profile("testboard")
    unregister_profile("testcpu")


def test_a_declared_table_is_listed_resolved_and_maps_its_models(demo_table, tmp_path, capsys):
    assert get_table("demo") is demo_table
    assert main(["tables", "--json", "--data-dir", str(tmp_path)]) == 0
    listed = {t["id"]: t for t in json.loads(capsys.readouterr().out)}
    assert listed["extending-demo"]["dataset"] == "tinyset" and listed["extending-demo"]["here"] == "no"
    assert [r["model"] for r in listed["extending-demo"]["rows"]] == ["hardnet68ds", "triplenet_s"]
    (row,) = published_rows("hardnet68ds")
    assert row["suite_table"] == "extending-demo" and row["model"] == "HarDNet85" and row["params_m"] is not None


def test_a_declared_table_is_gone_after_unregistering(demo_dataset):
    spec = register_table(TableSpec("extending-gone", "triplenet", "t", "triplenet_readme_cifar10",
                                    (RowSpec("HarDNet85", "hardnet85", 1000),), ("params_m",), kind=COMPLEXITY))
    with pytest.raises(ValueError, match="declared twice"):
        register_table(spec)
    unregister_table(spec.id)
    with pytest.raises(SuiteError, match="unknown table"):
        get_table("extending-gone")


def test_a_declared_data_set_resolves_and_is_found_on_disk(demo_table, tmp_path, capsys):
    assert dataset_info("TinySet").num_classes == 7 and dataset_info("tinyset").input_size == (3, 16, 16)
    assert not dataset_present("tinyset", tmp_path)
    (tmp_path / "tinyset").mkdir()
    (tmp_path / "tinyset" / "train.bin").write_bytes(b"\0")
    assert dataset_present("tinyset", tmp_path)
    assert main(["tables", "extending-demo", "--json", "--data-dir", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["here"] == "yes"


def test_declared_profiles_parse_and_sort(demo_profiles):
    (cpu,) = hardware.parse_profiles("testcpu", threads=1)
    assert cpu.name == "testcpu" and cpu.native and cpu.threads == 1
    target = hardware.parse_remote("testboard@pi@host:2222")
    assert target is not None and (target.expect, target.user, target.port) == ("testboard", "pi", 2222)
    assert label("testboard") == "Test board"
    assert order_key("cpu") < order_key("testboard") < order_key("remote-elsewhere")
    with pytest.raises(SuiteError, match="unknown hardware 'testboard'"):
        hardware.get_profile("testboard")  # a remote board is timed on itself, never here
    with pytest.raises(ValueError, match="already declared"):
        register_profile(demo_profiles[0])

"""The table registry: every declaration is consistent with its published CSV and the zoo; `suite tables`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import zoo
from suite.cli import main
from suite.core.errors import SuiteError
from suite.tables import ALIASES, COMPLEXITY, METRICS, PAPERS, TABLES, TIMED, TRAINED, get_table
from suite.tables.needs import here, needs
from zoo.published import load_table

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SUITE_SHARED_DIR", REPO.parent / "shared")) / "reference"
EXPECTED = {"threshnet-2", "threshnet-3", "threshnet-4", "thresholdnet-6", "thresholdnet-7", "thresholdnet-8",
            "triplenet", "dpnet-2", "dpnet-3", "dpnet-4", "dpnet-5", "dpnet-6", "dpnet-7"}


def test_every_paper_table_is_registered():
    assert set(TABLES) == EXPECTED
    assert ALIASES == {"3": "threshnet-3", "4": "threshnet-4", "8": "thresholdnet-8"}
    assert get_table("3") is get_table("threshnet-3") is get_table("table3")


@pytest.mark.parametrize("table_id", sorted(EXPECTED))
def test_declaration_matches_its_published_table_and_the_zoo(table_id):
    spec = get_table(table_id)
    assert spec.paper in PAPERS
    published = load_table(spec.published_table)
    labels = [r["model"] for r in published]
    assert [r.row for r in spec.rows] == labels, "rows in the paper's order, every published row"
    for col in spec.columns:
        assert col in METRICS and col in published[0], col
    registered = set(zoo.list_models())
    for r in spec.rows:
        assert r.model in registered and r.profiled_model in registered, r
        assert r.published_head in (10, 100, 1000)
    assert spec.kind in (TRAINED, TIMED, COMPLEXITY)
    assert (spec.dataset is not None) == (spec.kind == TRAINED)
    for c in spec.claims:
        assert spec.id in c.uses and all(u in TABLES for u in c.uses)


@pytest.mark.parametrize("table_id", sorted(EXPECTED))
def test_published_values_are_the_papers(table_id):
    """zoo/data/published is a copy of ../shared/reference: the values the report compares with are the papers'."""
    spec = get_table(table_id)
    ref = {"triplenet_readme_cifar10": "triplenet_readme_rpi4_cifar10"}.get(spec.published_table,
                                                                            spec.published_table)
    source = SHARED / f"{ref}.csv"
    if not source.is_file():
        pytest.skip(f"reference tables not found at {SHARED}")
    import csv

    with source.open() as fh:
        expected = {r["model"]: r for r in csv.DictReader(fh)}
    for row in load_table(spec.published_table):
        for col in spec.columns:
            want = expected[row["model"]][col]
            assert (row[col] is None) == (want == ""), (row["model"], col)
            if want:
                assert row[col] == pytest.approx(float(want)), (row["model"], col)


def test_unknown_table_names_the_closest():
    with pytest.raises(SuiteError, match="did you mean .*threshnet-3"):
        get_table("threshnet-33")


def test_needs_and_what_this_machine_can_do(tmp_path):
    assert needs(get_table("threshnet-3")).devices == ("gpu", "rpi4")
    assert needs(get_table("dpnet-7")).devices == ("cpu", "rpi3b") and needs(get_table("dpnet-7")).dataset is None
    verdict, why = here(get_table("threshnet-3"), data_dir=tmp_path, cuda=False, pi=None)
    assert verdict == "no" and "cifar10 not found" in why[0]
    (tmp_path / "cifar-10-batches-py").mkdir()
    (tmp_path / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"x")
    verdict, why = here(get_table("threshnet-3"), data_dir=tmp_path, cuda=False, pi=None)
    assert verdict == "partly" and any("GPU" in w for w in why) and any("predicted" in w for w in why)
    assert here(get_table("thresholdnet-8"), data_dir=tmp_path, cuda=False, pi=None)[0] == "yes"
    assert here(get_table("thresholdnet-6"), data_dir=tmp_path, cuda=False, pi=None)[0] == "yes"


def _cli(capsys, monkeypatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("COLUMNS", "120")
    capsys.readouterr()
    code = main(["tables", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_lists_every_table(tmp_path, capsys, monkeypatch):
    code, out, err = _cli(capsys, monkeypatch, "--data-dir", str(tmp_path), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert {d["id"] for d in data} == EXPECTED
    dp7 = next(d for d in data if d["id"] == "dpnet-7")
    assert dp7["kind"] == "timed" and dp7["claims"] == ["D3"] and "Raspberry Pi 3B" in dp7["needs"]
    code, out, _ = _cli(capsys, monkeypatch, "--data-dir", str(tmp_path))
    assert code == 0 and all(t in out for t in EXPECTED)
    code, out, _ = _cli(capsys, monkeypatch, "thresholdnet-7", "--data-dir", str(tmp_path))
    assert code == 0 and "ResNet18: resnet18" in out and "stl10 not found" in out


def test_cli_unknown_table_is_one_line(capsys, monkeypatch):
    code, _, err = _cli(capsys, monkeypatch, "dpnet-9")
    assert code == 2 and "Traceback" not in err
    assert err.count("\n") == 1 and "did you mean" in err and "dpnet-" in err

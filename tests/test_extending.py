"""A paper, its table and claim, a hardware profile and a data set added through their public declarations only
(docs/EXTENDING.md) are picked up by everything that reads them, down to a rendered report; each declaration is
scoped to its test and gone afterwards."""

from __future__ import annotations

import contextlib
import json

import pytest

from suite.claims import JUDGES, check
from suite.claims.verdicts import Check, Claim, Measurements, Published, all_parts, faster, own_pct_part, own_table
from suite.cli import main
from suite.core.errors import SuiteError
from suite.data.catalog import DATASETS, DataSet, dataset_info
from suite.report import Report, write
from suite.report.measure import measurements
from suite.report.runs import choose_runs, find_runs
from suite.report.tables import build_table
from suite.run import append_jsonl, result_key, write_json_atomic
from suite.tables import (
    COMPLEXITY,
    METRICS,
    PAPERS,
    TABLES,
    TRAINED,
    RowSpec,
    TableSpec,
    get_table,
    published_rows,
)
from suite.tables.claim import EXACT, SPEED, Compared, Magnitude, Scope
from suite.tables.needs import dataset_present
from suite.tables.papers import Paper
from suite.timing import hardware
from suite.timing.profiles import PROFILES, HardwareSpec, PublishedTime, Timing, label, order_key

TABLE = "mypaper-1"
# the published cells of a new paper are its CSV under zoo/data/published; the test borrows a shipped one rather
# than write into the package
CSV = "triplenet_readme_cifar10"
# hardnet68ds is in no real table: the new table is what maps it to a published row
ROWS = (RowSpec("TripleNet-S", "triplenet_s", 1000), RowSpec("HarDNet85", "hardnet68ds", 1000))
CLAIM = Claim("M1", "TripleNet-S is faster than HarDNet85 on the test CPU and has 73.6 % fewer parameters",
              "section 1, Table 1", Scope(("testcpu",), "tinyset", ("testcpu_ms", "params_m")),
              (Compared("TripleNet-S", "HarDNet85", SPEED), Compared("TripleNet-S", "HarDNet85", EXACT,
                                                                      Magnitude.percent(73.6))), uses=(TABLE,))


def measured(claim: Claim, ms: dict[str, Measurements]) -> Check:
    m = ms.get(TABLE) or Measurements()
    parts = [faster(m, "testcpu", c.a, c.b, claim) for c in claim.compared if c.quantity == SPEED]
    return Check(all_parts([p.verdict for p in parts]), parts)


def own(claim: Claim, pubs: dict[str, Published]) -> Check:
    pub = pubs.get(TABLE) or Published()
    parts = [own_pct_part("73.6 % fewer parameters than HarDNet85", pub.get("TripleNet-S", "params_m"),
                          pub.get("HarDNet85", "params_m"), 73.6, unit="M")]
    return Check(own_table([p.verdict for p in parts]), parts)


@contextlib.contextmanager
def declarations():
    """The declarations a new paper brings: a data set, a board and a local profile, the paper, its table with a
    claim, and the claim's judges."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(DATASETS.scoped(DataSet("tinyset", 7, (3, 16, 16), ("tinyset",), 70, 35)))
        stack.enter_context(PROFILES.scoped(
            HardwareSpec("testboard", "Test board", Timing.REMOTE_DEVICE, "Test Board", missing_here="no board"),
            HardwareSpec("testcpu", "Test CPU", Timing.LOCAL_CPU, "test CPU", (PublishedTime("testcpu_ms"),))))
        stack.enter_context(PAPERS.scoped(Paper("mypaper", "MyPaper", "Doe, Roe: My Paper, 2026")))
        stack.enter_context(TABLES.scoped(TableSpec(
            TABLE, "mypaper", "MyPaper Table 1: tinyset and the test CPU", CSV, ROWS,
            ("testcpu_ms", "error_pct", "params_m"), kind=TRAINED, dataset="tinyset", recipe="threshnet",
            hardware="testcpu", claims=(CLAIM,), aliases=("my1",))))
        stack.enter_context(JUDGES.override([("M1", (measured, own))]))
        yield get_table(TABLE)


@pytest.fixture
def declared():
    with declarations() as spec:
        yield spec


def _line(row: RowSpec, seed: int, cpu_ms: float, error: float) -> dict:
    train = {"status": "ok", "error_best_pct": error, "error_final_pct": error + 0.5, "error_best_epoch": 9,
             "epochs": 10, "test_images": 35}
    return {"schema": 1, "key": result_key(row.model, "tinyset", seed), "row": row.row, "model": row.model,
            "dataset": "tinyset", "seed": seed, "status": "ok", "reason": None, "train": train,
            "summary": {"best_error_pct": error, "final_error_pct": error + 0.5, "epochs": 10},
            "latency": {"testcpu": {"per_image_ms": cpu_ms + seed * 0.01, "median_ms": cpu_ms,
                                    "per_image_iqr_ms": 0.01, "predicted": False}}}


def _run(root, spec: TableSpec):
    run = root / "mypaper-run"
    run.mkdir(parents=True)
    write_json_atomic(run / "manifest.json", {
        "run_name": run.name, "dataset": "tinyset", "table": spec.id, "updated": "2026-01-01T00:00:00+00:00",
        "preset": {"name": "paper", "reproduction": True}, "recipe_name": "threshnet",
        "recipe": {"name": "threshnet", "optimizer": "adam", "lr": 0.001, "default_batch_size": 100},
        "train_count": 70, "test_count": 35, "seeds": [0, 1, 2], "hardware": ["testcpu"],
        "provenance": {"git_commit": "abc123", "torch": "2.14.1", "device_name": "Test CPU", "threads": 1}})
    for seed in (0, 1, 2):
        for row, ms in zip(spec.rows, (2.0, 5.0), strict=True):
            append_jsonl(run / "results.jsonl", _line(row, seed, ms, 12.0 + seed * 0.1))
    return root


def test_a_new_papers_table_claim_profile_and_data_set_reach_the_rendered_report(declared, tmp_path):
    assert "testcpu_ms" in METRICS and METRICS["testcpu_ms"].hardware == "testcpu"  # the profile's column
    run = choose_runs(find_runs(_run(tmp_path / "results", declared)))[TABLE]
    td = build_table(declared, run)
    assert td.dataset == "tinyset" and td.hardware == ["testcpu"]
    assert [r.row for r in td.rows] == ["TripleNet-S", "HarDNet85"]
    claims = check(declared, {TABLE: measurements(td)})
    assert [c.claim.id for c in claims] == ["M1"]
    assert claims[0].own_table.verdict == "supported"  # 9.67 M against 36.67 M printed: 73.6 % fewer
    assert claims[0].measured.parts[0].what == "TripleNet-S faster than HarDNet85 on testcpu"
    out = tmp_path / "report"
    write([Report(td, claims, {})], out)
    md = (out / f"{TABLE}.md").read_text()
    for text in ("MyPaper Table 1", "Doe, Roe: My Paper, 2026", "Test CPU", "M1", "TripleNet-S is faster than "
                 "HarDNet85 on the test CPU", "tinyset"):
        assert text in md, text
    saved = json.loads((out / f"{TABLE}.json").read_text())
    assert saved["paper"] == "mypaper" and saved["hardware"] == ["testcpu"]
    assert [c["id"] for c in saved["claims"]] == ["M1"] and saved["claims"][0]["measured"]["parts"]


def test_declarations_are_gone_after_their_scope():
    with declarations():
        assert "testcpu_ms" in METRICS and TABLES.resolve("my1") == TABLE
    for registry, name in ((TABLES, TABLE), (PAPERS, "mypaper"), (PROFILES, "testcpu"), (DATASETS, "tinyset"),
                           (JUDGES, "M1")):
        assert name not in registry
    assert "testcpu_ms" not in METRICS and TABLES.resolve("my1") is None
    with pytest.raises(SuiteError, match="unknown table 'mypaper-1'"):
        get_table(TABLE)


def test_a_declared_table_is_listed_resolved_and_maps_its_models(declared, tmp_path, capsys):
    assert get_table("my1") is declared
    assert main(["tables", "--json", "--data-dir", str(tmp_path)]) == 0
    listed = {t["id"]: t for t in json.loads(capsys.readouterr().out)}
    assert listed[TABLE]["dataset"] == "tinyset" and listed[TABLE]["here"] == "no"
    assert [r["model"] for r in listed[TABLE]["rows"]] == ["triplenet_s", "hardnet68ds"]
    (row,) = published_rows("hardnet68ds")
    assert row["suite_table"] == TABLE and row["model"] == "HarDNet85" and row["params_m"] is not None


def test_a_table_of_an_undeclared_paper_or_column_is_refused(declared):
    with pytest.raises(ValueError, match="unknown paper 'otherpaper'"):
        TABLES.register(TableSpec("other-1", "otherpaper", "t", CSV, ROWS, ("params_m",), kind=COMPLEXITY))
    with pytest.raises(ValueError, match=r"unknown column\(s\) \['nosuch_ms'\]"):
        TABLES.register(TableSpec("other-1", "mypaper", "t", CSV, ROWS, ("nosuch_ms",), kind=COMPLEXITY))
    with pytest.raises(ValueError, match="already declared"):
        TABLES.register(declared)
    assert "other-1" not in TABLES


def test_a_declared_data_set_resolves_and_is_found_on_disk(declared, tmp_path, capsys):
    assert dataset_info("TinySet").num_classes == 7 and dataset_info("tinyset").input_size == (3, 16, 16)
    assert not dataset_present("tinyset", tmp_path)
    (tmp_path / "tinyset").mkdir()
    (tmp_path / "tinyset" / "train.bin").write_bytes(b"\0")
    assert dataset_present("tinyset", tmp_path)
    assert main(["tables", TABLE, "--json", "--data-dir", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["here"] == "yes"


def test_declared_profiles_parse_and_sort(declared):
    (cpu,) = hardware.parse_profiles("testcpu", threads=1)
    assert cpu.name == "testcpu" and cpu.native and cpu.threads == 1
    target = hardware.parse_remote("testboard@pi@host:2222")
    assert target is not None and (target.expect, target.user, target.port) == ("testboard", "pi", 2222)
    assert label("testboard") == "Test board"
    assert order_key("cpu") < order_key("testboard") < order_key("remote-elsewhere")
    with pytest.raises(SuiteError, match="unknown hardware 'testboard'"):
        hardware.get_profile("testboard")  # a remote board is timed on itself, never here
    with pytest.raises(ValueError, match="already declared"):
        PROFILES.register(PROFILES["testboard"])

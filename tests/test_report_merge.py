"""`suite report` with no flag on two stored runs (tests/data/readme-results: a Table III smoke run on cpu + rpi4,
then a user model beside two table models): the user's row beside all 14 published rows, and the parameter
claims decided by profiling, whichever run is rendered."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from suite.cli import main
from suite.tables import get_table

FIXTURE = Path(__file__).resolve().parent / "data" / "readme-results"


def _user_run() -> str:
    return next(json.loads(m.read_text())["run_name"] for m in FIXTURE.glob("*/manifest.json")
                if json.loads(m.read_text()).get("user_models"))


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> tuple[Path, Path, str]:
    merged, alone = tmp_path_factory.mktemp("merged"), tmp_path_factory.mktemp("alone")
    assert main(["report", "--results", str(FIXTURE), "--out", str(merged)]) == 0
    assert main(["report", "--results", str(FIXTURE), "--out", str(alone), "--run", _user_run()]) == 0
    return merged, alone, _user_run()


def test_the_user_row_stands_beside_all_published_rows_in_markdown_and_html(reports):
    merged, _, _ = reports
    rows = [r.row for r in get_table("threshnet-3").rows]
    data = json.loads((merged / "threshnet-3.json").read_text())
    yours = [r["row"] for r in data["rows"] if r["user_model"]]
    assert [r["row"] for r in data["rows"]] == rows + yours and len(yours) == 1
    assert len(data["run"]["merged_runs"]) == 2 and data["run"]["ignored_runs"] == []
    assert all(r["seeds"] for r in data["rows"])  # every row measured: the two runs merged
    for ext in ("md", "html"):
        text = (merged / f"threshnet-3.{ext}").read_text()
        assert yours[0] in text and "Your models against the table" in text
        assert all(row in text for row in rows)


def test_parameter_claims_keep_their_verdicts_when_the_user_run_is_rendered_alone(reports):
    merged, alone, _ = reports

    def verdicts(folder: Path) -> dict[str, str]:
        return {c["id"]: c["measured"]["verdict"]
                for c in json.loads((folder / "threshnet-3.json").read_text())["claims"]}

    both, one = verdicts(merged), verdicts(alone)
    assert both["T2"] == one["T2"] == "reproduced" and both["T6"] == one["T6"] == "reproduced"
    rendered = json.loads((alone / "threshnet-3.json").read_text())
    assert sum(1 for r in rendered["rows"] if r["seeds"]) == 3  # the user run alone: its model and two rows


RATIO = re.compile(r"\d(?:\.\d+)?x (?:faster|slower)|ratio time\(B\)/time\(A\) \d")


def test_no_claim_text_of_these_busy_smoke_runs_quotes_a_measured_time_ratio(reports):
    merged, alone, _ = reports
    for folder in (merged, alone):
        data = json.loads((folder / "threshnet-3.json").read_text())
        assert any(r["time_ms"]["cpu"]["busy"] for r in data["rows"] if r["time_ms"].get("cpu"))  # busy-marked
        claims = data["claims"]
        texts = [c["measured"]["note"] for c in claims] + [p["detail"] for c in claims for p in c["measured"]["parts"]]
        quoted = [t for t in texts if RATIO.search(t) and "busy machine, not evidence" not in t
                  and "predicted, not measured" not in t]
        assert quoted == []
        assert "on this Raspberry Pi 4" not in json.dumps(claims)  # a predicted Pi time is never "this Pi"

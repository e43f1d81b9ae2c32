"""A results line is one typed record: written by the run, read back by every reader, older lines included."""

from __future__ import annotations

from dataclasses import fields

from suite.analysis.results import TRAIN_FIELDS, flatten
from suite.run import RECORD_VERSION, ResultRecord
from suite.train.result import TrainResult

OLDER_LINE = {"schema": 1, "key": "threshnet79|cifar10|0", "run": "r", "table": "threshnet-3", "row": "ThreshNet79",
              "model": "threshnet79", "dataset": "cifar10", "seed": 0, "status": "ok", "channels_last": False,
              "train": {"error_best_pct": 12.0, "error_best_epoch": 3, "seconds": 5.0},
              "summary": {"best_error_pct": 12.0, "final_error_pct": 12.5},
              "latency": {"cpu": {"median_ms": 4.0, "per_image_ms": 1.0}, "broken": "not a record"}}


def test_an_older_line_reads_as_a_record_and_keeps_unknown_keys():
    rec = ResultRecord.from_dict(OLDER_LINE)
    assert rec.version == 1 and rec.model == "threshnet79" and rec.seed == 0 and list(rec.latency) == ["cpu"]
    assert rec.extra == {"channels_last": False}
    again = rec.to_dict()
    assert "schema" not in again and again["version"] == 1 and again["channels_last"] is False
    assert ResultRecord.from_dict(again) == rec


def test_a_new_record_is_written_with_the_current_version():
    line = ResultRecord(key="m|cifar10|1", model="m", dataset="cifar10", seed=1).to_dict()
    assert line["version"] == RECORD_VERSION and "user_model" not in line and line["latency"] == {}


def test_the_flat_row_reads_an_older_line_through_the_record():
    row = flatten(OLDER_LINE)
    assert row["model"] == "threshnet79" and row["channels_last"] is False and row["best_epoch"] == 3
    assert row["train_seconds"] == 5.0 and row["error_final_pct"] == 12.5 and row["cpu_median_ms"] == 4.0


def test_train_columns_name_fields_of_the_training_result():
    names = {f.name for f in fields(TrainResult)}
    assert set(TRAIN_FIELDS.values()) <= names
    assert TRAIN_FIELDS["best_epoch"] == "error_best_epoch" and "step_time_ms" in TRAIN_FIELDS

"""The runner's JSON document: reading it, checking it, and turning it into latency records.

A record is ``LatencyResult.to_dict()`` as the device wrote it, ``predicted: false``, stored under the
device's own label (``rpi4`` only for a Raspberry Pi 4, see ``suite.timing.ondevice.device_identify``), with the
device's provenance plus how it got here (``source``: "bundle" for a file imported by hand, "ssh" for a remote run).
The runtimes timed beside eager there (ONNX Runtime) are cells shaped as a local run's
(``suite.timing.runtimes.measure.Cell``), stored under the same runtime columns.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from suite.core.errors import SuiteError
from suite.timing.ondevice.device_identify import describe

FORMAT = "suite-device-times"
KNOWN_VERSIONS = (1,)
_DROP = ("status", "error", "traceback", "num_classes", "elapsed_s")  # runner bookkeeping, not the record's


@dataclass
class DeviceTimes:
    """What one runner document says: the profile, the device, the records and the per-model failures."""

    label: str
    device: dict
    records: dict[str, dict] = field(default_factory=dict)  # model -> latency record
    heads: dict[str, int | None] = field(default_factory=dict)  # model -> classifier width it was timed with
    failures: dict[str, str] = field(default_factory=dict)  # model -> one-line reason
    runtimes: dict[str, dict[str, dict]] = field(default_factory=dict)  # model -> runtime -> cell beside eager
    doc: dict = field(default_factory=dict)

    @property
    def models(self) -> list[str]:
        return [*self.records, *self.failures]


def check_document(doc, where: str) -> dict:
    """``doc`` if it is a runner document, else a one-line SuiteError naming ``where``."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SuiteError(f"{where} is not a device runner's JSON (no \"format\": \"{FORMAT}\"); give the file "
                         "that a bundle's run.py wrote")
    if doc.get("format_version") not in KNOWN_VERSIONS:
        raise SuiteError(f"{where} has runner format version {doc.get('format_version')!r}; this suite reads "
                         f"{', '.join(map(str, KNOWN_VERSIONS))}: update the suite")
    if doc.get("status") == "wrong-device":
        raise SuiteError(f"{where} holds no times: the device is {describe(doc.get('device') or {})}, not "
                         f"{doc.get('expected')!r} as required")
    if not isinstance(doc.get("models"), dict) or not isinstance(doc.get("device"), dict) or not doc.get("label"):
        raise SuiteError(f"{where} is an incomplete device runner JSON (no models, device or label)")
    return doc


def load_document(path: str | Path) -> dict:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise SuiteError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path} is not a device runner's JSON (not JSON: {exc.msg} at line {exc.lineno})") from None
    return check_document(doc, str(path))


# Times are in milliseconds, stated by the ``_ms`` of every key; spreads may be 0, times may not.
_POSITIVE_MS = ("median_ms", "p90_ms", "min_ms", "max_ms", "per_image_ms", "per_image_p90_ms")
_COUNTS = {"batch": 1, "threads": 1, "runs": 1, "per_image_batch": 1, "per_image_runs": 0, "warmup": 0}


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_numbers(name: str, entry: dict, where: str) -> None:
    """Every number of a measured model: finite, positive times in ms, whole counts; a one-line error otherwise."""
    prefix = f"{where}: model {name!r}"
    if entry.get("unit", "ms") != "ms":
        raise SuiteError(f"{prefix} states unit {entry.get('unit')!r}; the runner writes milliseconds (\"ms\")")
    for key, value in entry.items():
        if not key.endswith("_ms") or (value is None and key != "median_ms"):
            continue
        required_positive = key in _POSITIVE_MS
        if not _number(value) or value < 0 or (required_positive and value <= 0):
            need = "a finite number > 0" if required_positive else "a finite number >= 0"
            raise SuiteError(f"{prefix}: {key} is {value!r}, expected {need} (milliseconds); the file is "
                             "rejected whole, nothing was imported")
    for key, low in _COUNTS.items():
        value = entry.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < low):
            raise SuiteError(f"{prefix}: {key} is {value!r}, expected a whole number >= {low}; the file is "
                             "rejected whole, nothing was imported")
    size = entry.get("input_size")
    if size is not None and (not isinstance(size, list) or len(size) != 3
                             or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)):
        raise SuiteError(f"{prefix}: input_size is {size!r}, expected [C, H, W] of positive whole numbers; the "
                         "file is rejected whole, nothing was imported")


def device_times(doc: dict, *, source: str, where: str = "") -> DeviceTimes:
    """The records of a checked document; each carries the device's provenance and ``source``."""
    device = doc["device"]
    out = DeviceTimes(label=str(doc["label"]), device=device, doc=doc)
    imported = datetime.now(UTC).isoformat(timespec="seconds")
    for name, entry in doc["models"].items():
        if not isinstance(entry, dict):
            raise SuiteError(f"{where or 'the runner JSON'}: model {name!r} has no record")
        out.heads[name] = entry.get("num_classes")
        if entry.get("status") != "ok" or entry.get("median_ms") is None:
            out.failures[name] = str(entry.get("error") or "no time recorded")
            continue
        check_numbers(name, entry, where or "the runner JSON")
        record = {k: v for k, v in entry.items() if k not in _DROP}
        prov = dict(record.get("provenance") or {})
        prov.update(
            source=source, predicted=False, device_model=device.get("device_model"), cpu=device.get("cpu"),
            host=device.get("hostname"), torch=device.get("torch"), python=device.get("python"),
            threads=record.get("threads"), hardware=out.label, hardware_device=describe(device),
            measured_natively=True, label_override=bool(doc.get("label_override")),
            onednn=device.get("onednn"), nnpack=device.get("nnpack"), os=device.get("os"),
            num_classes=entry.get("num_classes"), files_modified=doc.get("files_modified") or [],
            bundle=doc.get("bundle"), imported=imported)
        if doc.get("label_override"):
            prov["label_detected"] = doc.get("label_detected")
        if device.get("device_model_file"):
            prov["device_model_file"] = device["device_model_file"]  # the model string did not come from /proc
        record.update(hardware=out.label, predicted=False, expected_error_pct=None, calibration=None,
                      features=None, held_out=False, provenance=prov)
        out.records[name] = record
        cells = entry.get("runtimes") or {}
        if cells:
            out.runtimes[name] = {rt: _cell(name, rt, cell, prov, out.label, where) for rt, cell in cells.items()}
    return out


_CELL_STATES = ("measured", "skipped", "failed")


def _cell(name: str, runtime: str, cell, prov: dict, label: str, where: str) -> dict:
    """A runtime's cell as the device wrote it, checked like the eager record, with the eager record's provenance."""
    if not isinstance(cell, dict) or cell.get("status") not in _CELL_STATES:
        raise SuiteError(f"{where or 'the runner JSON'}: model {name!r} has a {runtime} entry without a status "
                         f"({'/'.join(_CELL_STATES)}); the file is rejected whole, nothing was imported")
    out = {k: v for k, v in cell.items() if k not in _DROP or k == "status"}
    if cell["status"] == "measured":
        check_numbers(f"{name}/{runtime}", cell, where or "the runner JSON")
        out.update(hardware=label, predicted=False,
                   provenance={**prov, **(cell.get("provenance") or {}), "source": prov["source"],
                               "predicted": False, "runtime": runtime})
    return out

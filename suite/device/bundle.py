"""`suite bundle`: a folder that times models on a device with nothing but Python >= 3.9 and torch >= 1.11.

Layout: ``run.py`` (``runner.py``), ``timing_protocol.py`` and ``device_identify.py``, all from
``suite/timing/ondevice/``; ``zoo/`` (the zoo package's plain torch.nn code and its published tables);
``onnx/`` (each model exported to ONNX here, on the host, with the suite's one exporter: the device never
exports); ``manifest.json`` (models, heads, input size, protocol, suite version and commit, SHA-256 of every
shipped file) and ``README.txt``. Every file is copied byte for byte, never rewritten, so a bundle times with
exactly the code a native run uses; where ``onnxruntime`` imports on the device the runner also times the ONNX
files, after checking their SHA-256 against the manifest.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import suite
import zoo
from suite.core.errors import SuiteError, unknown
from suite.core.fileio import write_atomic, write_text_atomic
from suite.core.provenance import git_commit
from suite.data.catalog import dataset_info
from suite.tables import TableSpec, get_table
from suite.timing.ondevice.timing_protocol import Protocol

FORMAT = "suite-device-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
USER_DIR = "user"  # the user's model files (--models-from), as given
ONNX_DIR = "onnx"  # the models exported on the host, timed by ONNX Runtime where it imports on the device
ONDEVICE_DIR = Path(__file__).resolve().parents[1] / "timing" / "ondevice"
# bundle file name -> source file in the suite; copied verbatim (tests compare the bytes)
SHIPPED = {
    "run.py": ONDEVICE_DIR / "runner.py",
    "timing_protocol.py": ONDEVICE_DIR / "timing_protocol.py",
    "device_identify.py": ONDEVICE_DIR / "device_identify.py",
}

README = """\
Timing bundle written by `suite bundle` (suite {version}, commit {commit}).

Needs Python >= 3.9 and torch >= 1.11 on the device (torchvision only for: {tv}).
On a 64-bit Raspberry Pi OS, for example:  pip install torch==1.11.0
Where onnxruntime also imports (pip install onnxruntime), each model is timed under ONNX Runtime too, from the
ONNX files in onnx/; run.py --eager-only skips it. A package that dies with "Illegal instruction" (SIGILL) on
the device is named by run.py, which then times eager only.

    python3 run.py --out times.json        # {n} model(s): roughly a minute each on a Raspberry Pi 4

Then, on the machine with the suite and the run directory:

    python -m suite import-times times.json --results RUN_DIR

run.py --help lists the options (--threads, --models, --label). The device is identified from
/proc/device-tree/model; it is recorded as rpi4 only when that says "Raspberry Pi 4".
"""


@dataclass(frozen=True)
class BundleModel:
    name: str
    num_classes: int
    row: str | None = None  # the paper table's row label
    needs_torchvision: bool = False


def _table_input(spec: TableSpec) -> tuple[int, int, int]:
    if spec.latency.input_size:
        return tuple(int(s) for s in spec.latency.input_size)  # type: ignore[return-value]
    info = dataset_info(spec.dataset)
    return info.input_size if info else (3, 32, 32)


def resolve_models(*, table: str | None = None, models: list[str] | None = None,
                   num_classes: int | None = None) -> tuple[list[BundleModel], dict]:
    """The models to bundle and the table facts behind the defaults: {"table", "dataset", "input_size"}.

    The head defaults to the table's dataset classes (the Pi times were measured with the trained model), each
    row's printed head for a timing-only table, 10 (CIFAR-10) for models named without a table;
    ``num_classes`` overrides it for every model.
    """
    if (table is None) == (models is None):
        raise SuiteError("name either --table ID or --models M1,M2,... (one of the two)")
    if num_classes is not None and num_classes < 1:
        raise SuiteError(f"--num-classes must be a positive integer, got {num_classes}")
    facts: dict = {"table": None, "dataset": None, "input_size": (3, 32, 32)}
    chosen: list[tuple[str, str | None, int]]
    if table is not None:
        spec = get_table(table)
        info = dataset_info(spec.dataset)
        facts = {"table": spec.id, "dataset": spec.dataset, "input_size": _table_input(spec)}
        # trained tables: the dataset's classes; a timing-only table (no dataset): the head each row printed
        chosen = [(r.model, r.row, num_classes or (info.num_classes if info else r.published_head))
                  for r in spec.rows]
    else:
        assert models is not None  # one of the two, checked above
        chosen = [(m.strip(), None, num_classes or 10) for m in models if m.strip()]
        if not chosen:
            raise SuiteError("--models names no model; give a comma-separated list")
    known = zoo.list_models()
    out = []
    for name, row, head in chosen:
        if name not in known:
            raise unknown("model", name, known)
        card = zoo.model_card(name)
        out.append(BundleModel(name, head, row, card.origin == "torchvision" or card.family == "torchvision"))
    return list({m.name: m for m in out}.values()), facts


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_bundle(out: Path) -> bool:
    """True only for a folder this command wrote: its manifest carries the bundle format marker."""
    try:
        manifest = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == FORMAT


def _prepare_out(out: Path) -> None:
    """Create ``out``, or empty the bundle files of an older bundle there; refuse any other non-empty folder."""
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise SuiteError(f"--out {out} is a file; give a folder for the bundle")
        if any(out.iterdir()) and not _is_bundle(out):
            raise SuiteError(f"--out {out} is a non-empty folder that holds no bundle written by `suite bundle`; "
                             "choose an empty or new one")
        # an older bundle: replace only its own files
        for name in [*SHIPPED, "zoo", USER_DIR, ONNX_DIR, MANIFEST, "README.txt"]:
            path = out / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SuiteError(f"cannot create the bundle folder {out}: {exc.strerror or exc}") from None


def _write_bytes(data: bytes, fh: IO[Any]) -> None:
    fh.write(data)


def _write_check(inputs: Any, logits: Any, fh: IO[Any]) -> None:
    import numpy as np

    np.savez(fh, input=inputs, logits=logits)


def export_models(out: Path, entries: list[BundleModel], input_size, batch: int) -> dict[str, dict]:
    """Each model as ``onnx/<name>.onnx`` beside ``onnx/<name>.check.npz`` (an input and this model's eager logits
    for it, which the device's ONNX Runtime must reproduce: the weights are fresh, so the device's own eager
    model has others), keyed by name: {"file", "sha256", "check", "check_sha256", "opset", "exporter"}, or
    {"error"} for a model that does not export."""
    import torch

    from suite.core.errors import one_line
    from suite.timing.runtimes import OPSET
    from suite.timing.runtimes.onnx_export import EXPORTER, export_onnx

    (out / ONNX_DIR).mkdir(exist_ok=True)
    exported: dict[str, dict] = {}
    for m in entries:
        try:
            net = zoo.create_model(m.name, num_classes=m.num_classes).eval()
            example = torch.randn(batch, *[int(s) for s in input_size], generator=torch.Generator().manual_seed(1))
            data = export_onnx(net, example)
            with torch.inference_mode():
                logits = net(example).numpy()
        except Exception as exc:  # noqa: BLE001 - a model that does not export is timed with eager alone
            exported[m.name] = {"error": f"export failed: {one_line(exc, 300)}"}
            continue
        rel, check = f"{ONNX_DIR}/{m.name}.onnx", f"{ONNX_DIR}/{m.name}.check.npz"
        write_atomic(out / rel, functools.partial(_write_bytes, data), binary=True)
        write_atomic(out / check, functools.partial(_write_check, example.numpy(), logits), binary=True)
        exported[m.name] = {"file": rel, "sha256": _sha256(out / rel), "check": check,
                            "check_sha256": _sha256(out / check), "opset": OPSET, "exporter": EXPORTER}
    return exported


def build_bundle(out: str | Path, models: list[BundleModel] | list[tuple[str, int]], *,
                 input_size=(3, 32, 32), threads: int | None = None, protocol: Protocol | None = None,
                 per_image_batch: int | None = 100, batch: int = 1, table: str | None = None,
                 onnx: bool = True) -> Path:
    """Write the bundle into ``out`` (created; an older bundle there is replaced) and return its path."""
    if threads is not None and threads < 1:
        raise SuiteError(f"--threads must be a positive integer, got {threads}")
    if batch < 1 or (per_image_batch is not None and per_image_batch < 0):
        raise SuiteError("--batch must be >= 1 and --per-image-batch >= 0")
    entries = [m if isinstance(m, BundleModel) else BundleModel(m[0], int(m[1])) for m in models]
    if not entries:
        raise SuiteError("a bundle needs at least one model")
    out = Path(out)
    _prepare_out(out)
    for name, source in SHIPPED.items():
        shutil.copyfile(source, out / name)
    zoo_src = Path(zoo.__file__).resolve().parent
    # code and its published tables only: no caches, no lint configuration
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".*", "*.toml")
    shutil.copytree(zoo_src, out / "zoo", ignore=skip)
    files = {name: _sha256(out / name) for name in SHIPPED}
    files.update({str(p.relative_to(out)): _sha256(p) for p in sorted((out / "zoo").rglob("*.py"))})
    user = ship_user_files(out, [m.name for m in entries])
    files.update({u["file"]: u["sha256"] for u in user})
    exported = export_models(out, entries, input_size, batch) if onnx else {}
    for e in exported.values():
        if "file" in e:
            files.update({e["file"]: e["sha256"], e["check"]: e["check_sha256"]})
    protocol = protocol or Protocol()
    created = datetime.now(UTC).isoformat(timespec="seconds")
    torchvision = sorted(m.name for m in entries if m.needs_torchvision)
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "created": created,
        "suite_version": suite.__version__, "git_commit": git_commit(), "table": table,
        "models": [{"name": m.name, "num_classes": m.num_classes, "row": m.row,
                    "needs_torchvision": m.needs_torchvision,
                    "onnx": {k: v for k, v in exported.get(m.name, {}).items() if k != "error"} or None,
                    "onnx_error": exported.get(m.name, {}).get("error", None if onnx else "not exported (--no-onnx)")}
                   for m in entries],
        "user_models": user,
        "input_size": [int(s) for s in input_size], "batch": batch,
        "per_image_batch": per_image_batch or None, "threads": threads, "protocol": protocol.to_dict(),
        "onnx": onnx,  # False: the device times eager alone
        "requires": {"python": ">=3.9", "torch": ">=1.11", "onnxruntime": "optional (times the onnx/ files)",
                     "torchvision": torchvision},
        "files": files,
    }
    manifest["bundle_id"] = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:12]
    write_text_atomic(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    write_text_atomic(out / "README.txt", README.format(
        version=suite.__version__, commit=manifest["git_commit"], n=len(entries),
        tv=", ".join(torchvision) or "none of these models"))
    return out


def ship_user_files(out: Path, models: list[str]) -> list[dict]:
    """Copy the files of the user models among ``models`` (loaded by --models-from) into ``user/``; the runner
    loads each under a private module name with the bundled ``zoo.user``. A module installed here cannot be
    shipped: one line says which the device needs."""
    from zoo.user import loaded_source

    shipped: dict[str, dict] = {}
    for name in models:
        src = loaded_source(name)
        if src is None:
            continue
        if src.kind != "file":
            raise SuiteError(f"{name} comes from the installed module {src.module}, which a bundle cannot ship: "
                             "install it on the device, or give its .py file to --models-from")
        key = f"{src.module}:{src.function or ''}"
        if key not in shipped:
            rel = f"{USER_DIR}/{src.module}.py"  # the private name: two files called mine.py never collide
            (out / USER_DIR).mkdir(exist_ok=True)
            write_text_atomic(out / rel, src.text)
            shipped[key] = {"file": rel, "sha256": _sha256(out / rel), "source": src.path, "function": src.function,
                            "models": []}
        shipped[key]["models"].append(name)
    return list(shipped.values())


def temporary_bundle(models: list[tuple[str, int]], **kw) -> tuple[tempfile.TemporaryDirectory, Path]:
    """A bundle in a fresh temporary folder (for SSH): the caller keeps the handle alive and cleans it up."""
    tmp = tempfile.TemporaryDirectory(prefix="suite-bundle-")
    return tmp, build_bundle(Path(tmp.name) / "bundle", models, **kw)

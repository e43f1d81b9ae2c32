"""`suite doctor`: is this machine (and every device a run would use) ready, before a day of training is spent?

Each check passes, fails or is skipped with its reason. A check fails only for something requested (a named
device, a given --data-dir, --executor ray) or something that is broken here (a training step, the timing
protocol, the complexity counters). ``run_checks`` returns them in order and hands each to ``echo`` as it
ends; ``suite.commands.doctor`` prints them.

The machine's load is read first, over ``LOAD_WINDOW_S``, with the timing protocol's busy rule
(``LoadWindow``). On a busy machine the check says so (status ``busy``, not a failure): the training rates and
times measured after it are marked as not evidence, the training steps and the timing protocol are shortened
and torch.compile on the CPU is skipped, each with that reason; the CPU steps run on one thread there (two
threads that wait for each other beside a dozen other processes run many times slower than one). Every check is
bounded in time: timed training steps stop after ``STEP_LIMIT_S``, torch.compile runs in a child process
stopped after ``COMPILE_LIMIT_S``, the training checks left when ``TRAIN_BUDGET_S`` (half of it on a busy
machine) is spent are skipped with that reason, a remote device and Ray have their own time-outs.

Each training device's peak FLOP/s is shown before the training checks: measured for the CPU (a dense matmul
for ``PEAK_S``, stored per host for `suite run`; a busy machine's is not stored), declared for a GPU
(suite.device.peaks).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from suite.core.errors import SuiteError, unknown
from suite.timing.ondevice.timing_protocol import LoadSample, LoadWindow, sample_load

PASS, FAIL, SKIP, BUSY = "pass", "fail", "skip", "busy"
LOAD_WINDOW_S = 1.0  # other processes' CPU share needs a window between two readings
STEP_LIMIT_S = 3.0  # the timed steps of one training check stop here (at least one is timed)
COMPILE_LIMIT_S = 40.0  # torch.compile and its steps, in a child process that is stopped here
TRAIN_BUDGET_S = 45.0  # all training checks together: the ones left when it is spent are skipped, said why
PEAK_S = 1.5  # the CPU's peak matmul, per precision
NOT_EVIDENCE = "busy machine: not evidence"
MODELS = ("squeezenet_cifar", "mobilenet_cifar")  # two small zoo models of different families


@dataclass
class Check:
    group: str
    name: str
    status: str
    detail: str
    data: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Options:
    hardware: tuple[str, ...] = ()  # as typed; empty: cpu, and gpu where torch sees one
    data_dir: str | None = None
    dataset: str = "cifar10"
    executor: str = "local"
    ray_address: str | None = None
    quick: bool = False
    connect_timeout_s: int = 10
    precisions: tuple[str, ...] = ("fp32",)  # the training precisions whose peak FLOP/s is shown
    load_window_s: float = LOAD_WINDOW_S
    peak_s: float = PEAK_S
    step_limit_s: float = STEP_LIMIT_S
    compile_limit_s: float = COMPILE_LIMIT_S
    train_budget_s: float = TRAIN_BUDGET_S


def parse_hardware(text: str | None) -> tuple[str, ...]:
    """Validated before any check runs: an unknown name is the user's error (exit 2), not a failed check."""
    from suite.timing.hardware import parse_remote
    from suite.timing.profiles import local_names

    if text is None:
        return ()
    local = local_names()
    items = [n.strip() for n in text.split(",")]
    if not any(items):
        raise SuiteError(f"no hardware named in --hardware {text!r}; choose from {', '.join(local)}")
    if not all(items):
        raise SuiteError(f"empty item in --hardware {text!r}; write the names comma-separated, e.g. cpu,gpu")
    names = tuple(dict.fromkeys(items))
    for name in names:
        if parse_remote(name) is None and name.lower() not in local:
            raise SuiteError(f"{unknown('hardware', name, local)} (a remote device is written rpi4@[user@]host"
                             "[:port] or ssh://[user@]host[:port])")
    return names


def no_cuda_reason() -> str:
    return (f"no CUDA device: torch sees none on this machine (torch {torch.__version__}, "
            f"CUDA build {torch.version.cuda or 'none'})")


class Doctor:
    """Runs the checks; each is timed and any exception becomes that check's failure (one line)."""

    def __init__(self, options: Options, *, echo: Callable[[Check], None] | None = None,
                 sampler: Callable[[], LoadSample] | None = None):
        self.options = options
        self.checks: list[Check] = []
        self.echo = echo or (lambda check: None)
        self.sampler = sampler or sample_load
        self.load: LoadWindow | None = None

    @property
    def busy(self) -> bool:
        return bool(self.load is not None and self.load.busy)

    @property
    def short(self) -> bool:
        """Fewer steps and the short timing protocol: --quick, or a busy machine whose rates are not evidence."""
        return self.options.quick or self.busy

    def add(self, group: str, name: str, status: str, detail: str, **data) -> Check:
        check = Check(group, name, status, detail, data)
        self.checks.append(check)
        self.echo(check)
        return check

    def attempt(self, group: str, name: str, fn: Callable[..., tuple[str, str, dict]], *args: Any) -> Check:
        t0 = time.perf_counter()
        try:
            status, detail, data = fn(*args)
        except Exception as exc:  # noqa: BLE001 - a broken check is that check's failure, never a traceback
            status, detail, data = FAIL, " ".join(f"{type(exc).__name__}: {exc}".split())[:400], {}
        check = Check(group, name, status, detail, data, round(time.perf_counter() - t0, 2))
        self.checks.append(check)
        self.echo(check)
        return check

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    # --- the checks -------------------------------------------------------------------------------------------
    def run(self) -> list[Check]:
        self.machine()
        self.versions()
        devices = self.devices()
        self.peaks(devices)
        self.training(devices)
        self.timing(devices)
        self.complexity()
        self.data()
        self.ray()
        return self.checks

    def machine(self) -> None:
        """The load, read before anything else runs here: on a busy machine rates are not evidence."""
        t0 = time.perf_counter()
        before = self.sampler()
        time.sleep(self.options.load_window_s)
        self.load = LoadWindow.between(before, self.sampler())
        seconds = round(time.perf_counter() - t0, 2)
        data = self.load.to_dict()
        if self.load.busy is None:
            status, detail = SKIP, "load unknown here (no /proc): rates are taken as they come"
        elif self.load.busy:
            status, detail = BUSY, (f"busy machine ({self.load.describe()}): its training rates and times are "
                                    "not evidence; steps and timing shortened, torch.compile on the CPU skipped")
        else:
            status, detail = PASS, f"idle enough ({self.load.describe()})"
        check = Check("machine", "load", status, detail, data, seconds)
        self.checks.append(check)
        self.echo(check)

    def versions(self) -> None:
        import torchvision

        info: dict[str, Any] = {"python": sys.version.split()[0], "torch": torch.__version__,
                                "torchvision": torchvision.__version__, "cuda_build": torch.version.cuda,
                                "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available()
                                else None, "driver": _nvidia_driver()}
        for package in ("ray", "tensorboard"):
            try:
                info[package] = __import__(package).__version__
            except ImportError:
                info[package] = None
        text = ", ".join(f"{k} {v}" for k, v in info.items() if v is not None)
        missing = [k for k in ("cuda_build", "cudnn", "driver", "ray", "tensorboard") if info[k] is None]
        self.add("versions", "versions", PASS, text + (f"; none: {', '.join(missing)}" if missing else ""), **info)

    def devices(self) -> dict[str, Any]:
        """Every requested device found (or reached); returns the local training and timing devices."""
        from suite.timing.hardware import get_profile, parse_remote

        requested = self.options.hardware
        names = requested or ("cpu", *(("gpu",) if torch.cuda.is_available() else ()))
        found: dict[str, Any] = {"train": [torch.device("cpu")], "profiles": []}
        if "gpu" not in [n.lower() for n in names]:
            self.add("device", "gpu", SKIP, no_cuda_reason() if not torch.cuda.is_available()
                     else "not requested (--hardware gpu)")
        for name in names:
            remote = parse_remote(name)
            if remote is not None:
                self.attempt("device", name, self._remote, name)
                continue
            check = self.attempt("device", name.lower(), self._local_named, name)
            if check.status == PASS:
                profile = get_profile(name.lower())
                found["profiles"].append(profile)
                if profile.device.startswith("cuda"):
                    found["train"].append(torch.device(profile.device))
        return found

    @staticmethod
    def _local(name: str, profile) -> tuple[str, str, dict]:
        how = "measured natively" if profile.native else "predicted (suite.timing.rpi4), not measured"
        return PASS, f"{profile.device_name} ({profile.device}, {profile.threads} threads; {how})", {
            "device": profile.device, "device_name": profile.device_name, "native": profile.native}

    def _local_named(self, name: str) -> tuple[str, str, dict]:
        from suite.timing.hardware import get_profile

        return self._local(name, get_profile(name.lower()))

    def _remote(self, name: str) -> tuple[str, str, dict]:
        from suite.device.remote import identify_remote
        from suite.timing.ondevice.device_identify import describe

        try:
            doc = identify_remote(name, connect_timeout_s=self.options.connect_timeout_s, timeout_s=120)
        except SuiteError as exc:
            return FAIL, f"{name} not reached: {exc}", {}
        info = doc.get("device") or {}
        torch_version = (doc.get("versions") or {}).get("torch") or info.get("torch") or doc.get("torch")
        return PASS, f"{name}: {describe(info)}, label {doc.get('label')!r}, torch {torch_version}", {
            "device": info, "label": doc.get("label"), "torch": torch_version}

    def peaks(self, devices: dict) -> None:
        """Each training device's peak FLOP/s at each asked precision: measured on the CPU, with the threads a run
        uses by default, and stored for this host (`suite run` reads it); declared for a GPU (suite.device.peaks).
        A busy machine's CPU figure is shown, not stored: it is no peak."""
        from suite.device import cpu_peak
        from suite.device.peaks import training_peak
        from suite.timing.hardware import physical_cores

        threads = physical_cores()

        def cpu(precision: str) -> tuple[str, str, dict]:
            peak = cpu_peak.measure_and_store(precision, threads, by="suite doctor", seconds=self.options.peak_s,
                                              store=not self.busy)
            kept = f"; {NOT_EVIDENCE}, not stored" if self.busy else "; stored for runs on this host"
            return PASS, (f"{peak.gflops:,.1f} GFLOP/s measured: dense {precision} matmul on {threads} thread(s)"
                          f"{kept}"), {**peak.to_dict(), "threads": threads, "stored": not self.busy}

        def gpu(device: torch.device, precision: str) -> tuple[str, str, dict]:
            peak = training_peak(str(device), precision, threads)
            if peak.gflops is None:
                return SKIP, peak.source, peak.to_dict()
            return PASS, f"{peak.gflops / 1000:,.1f} TFLOP/s {peak.source}", peak.to_dict()

        for device in devices["train"]:
            for precision in self.options.precisions:
                label = f"{device} {precision}"
                if device.type == "cpu" and precision not in cpu_peak.PRECISIONS:
                    self.add("peak", label, SKIP, f"the CPU trains in {' or '.join(cpu_peak.PRECISIONS)}")
                elif device.type == "cpu":
                    self.attempt("peak", label, cpu, precision)
                else:
                    self.attempt("peak", label, gpu, device, precision)

    def training(self, devices: dict) -> None:
        from suite.doctor import training as tr

        steps, batch = (2, 8) if self.short else (10, 64)
        limit = self.options.step_limit_s
        mark = f"{NOT_EVIDENCE}; 1 CPU thread" if self.busy else None
        budget = self.options.train_budget_s / (2 if self.busy else 1)
        t0 = time.perf_counter()
        if not any(d.type == "cuda" for d in devices["train"]):
            self.add("train", "cuda (every mode)", SKIP, no_cuda_reason() if not torch.cuda.is_available()
                     else "not requested (--hardware gpu)")

        def authors_loop(model: str, device: torch.device) -> tuple[str, str, dict]:
            return _throughput(tr.authors_steps(model, device, batch=batch, steps=steps, max_s=limit), note=mark)

        def suite_loop(model: str, device: torch.device, mode: str, base: float | None) -> tuple[str, str, dict]:
            if mode == "compile":
                # never past the training checks' budget by more than a few seconds
                stop = min(self.options.compile_limit_s, max(budget - (time.perf_counter() - t0), 5.0))
                result = tr.compiled_steps(model, device, batch=batch, steps=steps, max_s=limit, limit_s=stop)
                if result is None:
                    return SKIP, (f"torch.compile did not finish within {stop:.0f} s here "
                                  "(stopped): compiling takes minutes on a small machine; a run pays it once per "
                                  "model, or pass no --compile"), {}
            else:
                result = tr.suite_steps(model, device, mode, batch=batch, steps=steps, max_s=limit)
            return _throughput(result, base, note=mark)

        def spent() -> str | None:
            if time.perf_counter() - t0 <= budget:
                return None
            return (f"not run: the training checks' {budget:.0f} s were spent"
                    + (" (busy machine)" if self.busy else "") + "; the checks before it ran")

        threads = torch.get_num_threads()
        if self.busy:
            torch.set_num_threads(1)
        try:
            for device in devices["train"]:
                for model in MODELS:
                    label = f"{device} {model} authors' loop"
                    why = spent()
                    if why is not None:
                        self.add("train", label, SKIP, why)
                        base = None
                    else:
                        authors = self.attempt("train", label, authors_loop, model, device)
                        base = authors.data.get("images_per_s") if authors.status == PASS else None
                    rates: dict[str, float | None] = {}
                    for mode in tr.MODES:
                        why = tr.mode_unavailable(mode, device, quick=self.options.quick)
                        if why is None and mode == "compile" and device.type == "cpu" and self.busy:
                            why = ("busy machine: torch.compile on the CPU would take minutes beside the load; run "
                                   "the doctor again on an idle machine to check it")
                        label = f"{device} {model} {mode}"
                        why = why or spent()
                        if why is not None:
                            self.add("train", label, SKIP, why)
                            continue
                        check = self.attempt("train", label, suite_loop, model, device, mode, base)
                        rates[mode] = check.data.get("images_per_s") if check.status == PASS else None
                    if rates.get("fp32"):  # what `suite run --mode auto` would choose from these rates
                        chosen, detail = tr.auto_choice(rates)
                        note = f" ({mark})" if mark else ""
                        self.add("train", f"{device} {model} --mode auto", PASS, detail + note, mode=chosen,
                                 busy=self.busy)
        finally:
            torch.set_num_threads(threads)

    def timing(self, devices: dict) -> None:
        import zoo
        from suite.timing.hardware import parse_remote
        from suite.timing.latency import measure_latency
        from suite.timing.ondevice.timing_protocol import Protocol

        quick = Protocol(warmup=2, min_runs=5, max_runs=20, target_s=0.1, batch_warmup=1, batch_min_runs=2,
                         batch_max_runs=3, batch_target_s=0.2)
        if not any(p.device.startswith("cuda") for p in devices["profiles"]):
            self.add("timing", "gpu", SKIP, no_cuda_reason() if not torch.cuda.is_available()
                     else "not requested (--hardware gpu)")

        def one(profile) -> tuple[str, str, dict]:
            net = zoo.create_model(MODELS[0], num_classes=10)
            # one thread on a busy CPU, as in the training checks: its time is not evidence either way
            threads = 1 if self.busy and profile.device == "cpu" else None
            result = measure_latency(net, profile, input_size=(3, 32, 32), per_image_batch=16, threads=threads,
                                     protocol=quick if self.short else None, model_name=MODELS[0])
            record = result.to_dict()
            ms = record.get("median_ms")
            per_image = record.get("per_image_ms")
            ok = isinstance(ms, int | float) and math.isfinite(ms) and ms > 0
            kind = "measured" if profile.native else "predicted"
            busy = bool(record.get("busy")) or (self.busy and profile.native)
            kind += f"; {NOT_EVIDENCE}" + ("; 1 CPU thread" if threads else "") if busy else ""
            return (PASS if ok else FAIL), (f"{MODELS[0]}: batch-1 median {ms:.3f} ms, per image {per_image:.3f} ms "
                                            f"({kind})" if ok else f"no usable time: {record}"), {
                "median_ms": ms, "per_image_ms": per_image, "predicted": not profile.native, "busy": busy}

        for profile in devices["profiles"]:
            self.attempt("timing", profile.name, one, profile)
        for name in self.options.hardware:
            if parse_remote(name) is not None:
                self.add("timing", name, SKIP, "a remote device times a bundle there (`suite latency --hardware "
                         f"{name}`); the doctor only reaches it and reads its torch")

    def complexity(self) -> None:
        import zoo
        from suite.complexity import profile_all

        def agree() -> tuple[str, str, dict]:
            reports = {k: v.to_dict() for k, v in profile_all(zoo.create_structure(MODELS[0], num_classes=10),
                                                               (3, 32, 32)).items()}
            params = {k: r.get("params") for k, r in reports.items()}
            # multiply-accumulates: torchstat prints MAdd (2 per MAC), the others count MACs
            macs = {k: (r.get("macs") or (r.get("madd") or 0) / 2) for k, r in reports.items()}
            spread = (max(macs.values()) - min(macs.values())) / max(max(macs.values()), 1)
            ok = len(set(params.values())) == 1 and len(reports) == 3 and spread <= 0.05
            detail = (f"{MODELS[0]} at 32x32: params {', '.join(f'{k} {v:,}' for k, v in params.items())}; "
                      f"MACs {', '.join(f'{k} {v / 1e6:.1f} M' for k, v in macs.items())} ({spread:.1%} apart)")
            return (PASS if ok else FAIL), detail, {"params": params, "macs": macs}

        self.attempt("complexity", "three counters", agree)

    def data(self) -> None:
        from suite.data import load_dataset
        from suite.data.common import resolve_data_dir

        opts = self.options
        root = resolve_data_dir(opts.data_dir)
        if opts.data_dir is None and not root.exists():
            self.add("data", opts.dataset, SKIP, f"no data directory at {root} (pass --data-dir, or set "
                     "$SUITE_DATA_DIR); `suite run` downloads the small sets when their host answers")
            return

        def read() -> tuple[str, str, dict]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a re-packed copy fails the archive checksum; it still reads
                ds = load_dataset(opts.dataset, data_dir=root, train_subset=100, test_subset=50, download=False)
            meta = getattr(ds, "meta", {}) or {}
            x = ds.train_x if hasattr(ds, "train_x") else None
            ok = ds.train_count > 0 and ds.test_count > 0 and (x is None or int(x.max()) > 0)
            return (PASS if ok else FAIL), (f"{opts.dataset} at {root}: read {ds.train_count} training and "
                                            f"{ds.test_count} test images ({ds.num_classes} classes; full set "
                                            f"{meta.get('full_counts')})"), {"root": str(root),
                                                                            "fingerprint": meta.get("fingerprint")}

        self.attempt("data", opts.dataset, read)

    def ray(self) -> None:
        opts = self.options
        if opts.executor != "ray":
            self.add("ray", "ray", SKIP, "not requested (--executor ray)")
            return

        def reach() -> tuple[str, str, dict]:
            try:
                import ray
            except ImportError:
                return FAIL, "Ray is not installed: pip install 'lightcnn-repro[ray]'", {}
            kwargs: dict[str, Any] = {"log_to_driver": False, "logging_level": "WARNING"}
            if not opts.ray_address:
                kwargs.update(num_cpus=os.cpu_count() or 1, include_dashboard=False,
                              object_store_memory=256 * 1024**2)
            ray.init(address=opts.ray_address or "local", **kwargs)
            try:
                resources = ray.cluster_resources()
                nodes = [n for n in ray.nodes() if n.get("Alive")]
                square = ray.get(ray.remote(_square).remote(7), timeout=120)
            finally:
                ray.shutdown()
            ok = square == 49
            where = opts.ray_address or "a local instance"
            return (PASS if ok else FAIL), (f"{where}: {len(nodes)} node(s), {resources.get('CPU', 0):g} CPU, "
                                            f"{resources.get('GPU', 0):g} GPU; a task ran"), {
                "resources": {k: v for k, v in resources.items() if not k.startswith("node:")}}

        self.attempt("ray", opts.ray_address or "local", reach)


def _throughput(result, base: float | None = None, *, note: str | None = None) -> tuple[str, str, dict]:
    ok = math.isfinite(result.loss) and result.images_per_s > 0
    ratio = result.images_per_s / base if base else None
    detail = f"{result.images_per_s:,.0f} img/s" + (f", x{ratio:.2f} the authors' loop" if ratio else "")
    if result.compiled is False:
        detail += "; did not compile: trained eagerly"
    if note:
        detail += f" ({note})"
    return (PASS if ok else FAIL), detail if ok else f"loss {result.loss}", {
        "images_per_s": result.images_per_s, "ratio_to_authors": ratio, "compiled": result.compiled,
        "steps": result.steps, "busy": bool(note and note.startswith(NOT_EVIDENCE))}


def _nvidia_driver() -> str | None:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run([smi, "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None


def run_checks(options: Options, *, echo: Callable[[Check], None] | None = None,
               sampler: Callable[[], LoadSample] | None = None) -> list[Check]:
    return Doctor(options, echo=echo, sampler=sampler).run()


def _square(value: int) -> int:
    """The task the doctor sends to a Ray worker: its answer proves the round trip."""
    return value * value

"""`suite run [--table 3] [--preset paper|quick|smoke] [--executor local|gpus|ray] [--jobs N|auto] ...`: train,
profile and time a paper table's models.

Re-running the same command resumes: finished (model, seed) lines are skipped and a half-trained model
continues from its last epoch checkpoint, whichever executor runs it. See suite/run/store.py for the run
directory layout and suite/run/runner.py for what runs when. The work is ``suite.api.run``: this module only
turns the command line into a ``RunConfig``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from suite import usermodels
from suite.core.errors import SuiteError
from suite.core.modes import CHOICES, MARGIN
from suite.run import PRECISIONS, PRESETS, RunConfig, parse_seeds

RECIPE_FLAGS = {"lr": float, "batch_size": int, "weight_decay": float}  # shortcuts for common overrides
DEFAULTS = RunConfig()  # every default of a run lives in RunConfig; the help quotes it


def register(sub) -> None:
    p = sub.add_parser("run", help="train, profile and time the models of a paper table (resumable)",
                       description=__doc__)
    p.add_argument("--table", help="paper table to reproduce, e.g. 3 (CIFAR-10) or 4 (SVHN); "
                                   f"default {DEFAULTS.table}")
    p.add_argument("--models", help="comma-separated zoo models or row labels (default: every row of the "
                                    "table)")
    usermodels.add_argument(p)
    p.add_argument("--dataset", help="dataset to train on (default: the table's)")
    p.add_argument("--recipe", help="training recipe (default: the table's, threshnet)")
    p.add_argument("--preset",
                   help=f"{' | '.join(f'{k}: {v.description}' for k, v in PRESETS.items())} (default "
                        f"{DEFAULTS.preset})")
    p.add_argument("--epochs", type=int, help="epochs (default: the preset's, else the recipe's)")
    p.add_argument("--seeds", help="comma-separated seeds or a range, e.g. 0,1,2 or 0-4 (default "
                                   f"{','.join(map(str, DEFAULTS.seeds))})")
    p.add_argument("--train-subset", type=int, metavar="N", help="train on N class-balanced images")
    p.add_argument("--test-subset", type=int, metavar="N", help="evaluate on N class-balanced test images")
    p.add_argument("--data-dir", help="dataset directory (default $SUITE_DATA_DIR, else ./data); on a cluster, "
                                      "a path every node sees")
    p.add_argument("--download", action=argparse.BooleanOptionalAction, default=None,
                   help="download a missing dataset into --data-dir: default automatic (when its host answers); "
                        "--download always tries, --no-download never (ImageNet is never downloaded)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="DataLoader workers for streamed datasets (ImageNet); default $SUITE_DATA_WORKERS, else "
                        "min(8, CPUs); recorded in provenance, does not change the numbers")
    p.add_argument("--out", help=f"results directory (default {DEFAULTS.out}/); with --executor ray on a "
                                   "cluster, a path every node sees")
    p.add_argument("--run-name", help="run folder under --out (default: derived from the configuration)")
    p.add_argument("--hardware", help="where to time the models: cpu, gpu, rpi4, comma-separated (default "
                                      "rpi4, predicted off a Raspberry Pi 4)")
    p.add_argument("--runtimes", help="also time every model under these runtimes beside eager, at batch 1 and at "
                                      "the table's per-image batch (eager,onnxruntime,openvino,compile; eager "
                                      "alone decides verdicts); on a finished run only the timing is added")
    p.add_argument("--precision", help=f"training precision: {', '.join(PRECISIONS)} (default {DEFAULTS.precision})")
    p.add_argument("--mode", help=f"training mode: {', '.join(CHOICES)}; the same mathematics in another memory "
                                  "format or compiled, never another precision (that is --precision). auto: each "
                                  "model in the fastest, timed on a few steps before training (kept per host), "
                                  f"eager unless {MARGIN * 100:.0f} %% faster (default: the preset's, "
                                  f"{', '.join(f'{k} {v.mode}' for k, v in PRESETS.items())}); part of the "
                                  "run's identity")
    p.add_argument("--channels-last", action="store_true", help="--mode channels_last (with --compile: "
                                                                "channels_last+compile)")
    p.add_argument("--device", help="training device: cpu, cuda, cuda:N (default cuda if available)")
    p.add_argument("--threads", type=int, help="intra-op threads for training and CPU timing (default: one per "
                                               "physical core; local --jobs N: the threads of each job, default "
                                               "physical cores / N; ray: also the CPUs per job, capped by the "
                                               "smallest node; gpus: default CPUs / slots). The same count "
                                               "trains to the same weights: pass 1 to pack more ray jobs")
    p.add_argument("--fast", action="store_true",
                   help="cudnn.benchmark, TF32 and non-deterministic kernels, as the authors ran (default: "
                        "deterministic kernels, the same numbers on a re-run); part of the run's identity")
    p.add_argument("--compile", action="store_true",
                   help="--mode compile: torch.compile (eager, with a one-line warning, where a model does not "
                        "compile)")
    p.add_argument("--executor",
                   help="local: one job after another in this process (default; --jobs N: N at once in CPU worker "
                        "processes); gpus: a worker per GPU slot "
                        "on this machine; ray: one Ray task per job, on a cluster or a local Ray instance")
    p.add_argument("--jobs", metavar="N|auto",
                   help="local executor: N trainings at once on the CPU, each in a worker process with cores/N "
                        "threads, pinned to its own cores where the OS allows (timing still runs alone); auto: "
                        "chosen by a short measured scaling probe, cached per host (1 on a GPU). Default: the "
                        "preset's (paper auto, quick and smoke 1). Given, or more than 1, the threads per job are "
                        "part of the run's identity")
    p.add_argument("--gpus", help="gpus executor: comma-separated GPU ids (default every visible GPU)")
    p.add_argument("--jobs-per-gpu", type=int,
                   help=f"gpus executor: jobs sharing one GPU (default {DEFAULTS.jobs_per_gpu})")
    p.add_argument("--max-attempts", type=int,
                   help="runs of a job whose worker (or node) dies, in all; it resumes from its last epoch "
                        f"checkpoint (default {DEFAULTS.max_attempts})")
    p.add_argument("--ray-address", help="ray executor: the cluster, e.g. 10.0.0.1:6379 (default $RAY_ADDRESS, "
                                         "else a local Ray instance started for the run)")
    p.add_argument("--lr", type=float, help="recipe override: learning rate")
    p.add_argument("--batch-size", type=int, help="recipe override: training batch size")
    p.add_argument("--weight-decay", type=float, help="recipe override: weight decay")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="any other recipe override, e.g. --set milestones=50,100 (repeatable)")
    p.add_argument("--estimate-only", action="store_true", help="print the time estimate and exit")
    p.add_argument("--keep-checkpoints", action="store_true",
                   help="keep a finished job's checkpoint (the quick and smoke presets remove it; the paper "
                        "preset always keeps it)")
    p.set_defaults(func=run)


def _overrides(args: argparse.Namespace) -> dict:
    out = {k: getattr(args, k) for k in RECIPE_FLAGS if getattr(args, k) is not None}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SuiteError(f"bad --set {item!r}; expected FIELD=VALUE, e.g. --set gamma=0.1")
        out[key.strip().replace("-", "_")] = value
    return out


def _names(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(m.strip() for m in text.split(",") if m.strip())


# flags copied as they are into RunConfig when given (None: RunConfig's default)
PLAIN = ("table", "dataset", "recipe", "preset", "epochs", "train_subset", "test_subset", "data_dir", "download",
         "out", "run_name", "hardware", "precision", "mode", "device", "threads", "executor", "jobs_per_gpu",
         "max_attempts", "ray_address", "workers", "runtimes", "jobs")


def config_from_args(args: argparse.Namespace, argv: tuple[str, ...] = ()) -> RunConfig:
    given: dict[str, Any] = {k: getattr(args, k) for k in PLAIN if getattr(args, k, None) is not None}
    if args.seeds is not None:
        given["seeds"] = parse_seeds(args.seeds)
    return RunConfig(**given, models=_names(args.models), recipe_overrides=_overrides(args),
                     channels_last=args.channels_last, fast=args.fast, compile=args.compile, gpus=_names(args.gpus),
                     keep_checkpoints=args.keep_checkpoints,
                     argv=argv, models_from=usermodels.load(args.models_from))


def run(args: argparse.Namespace) -> int:
    from suite import api

    return api.run(config_from_args(args, tuple(sys.argv[1:])), estimate_only=args.estimate_only).exit_code

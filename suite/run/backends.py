"""Every call of `suite run` that does real work, behind one dataclass so that tests inject fakes.

The real modules (zoo, data, recipes, the training engine, complexity, latency) are imported here and nowhere
else in the orchestrator. Workers of the gpus and ray executors rebuild them with ``real_backends()``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .contracts import RunDataset, RunProfile, RunRecipe
from .records import Line, ToDict
from .slots import Probe

if TYPE_CHECKING:
    from suite.device.peaks import Peak


@dataclass
class Backends:
    """Every call that does real work; ``real_backends()`` wires the suite's modules, tests pass fakes
    (``tests/run_fakes.py``): both fulfil the contracts of suite.run.contracts."""

    model_names: Callable[[], list[str]]
    dataset_names: Callable[[], list[str]]
    load_dataset: Callable[..., RunDataset]  # (name, data_dir=, download=, train_subset=, test_subset=, device=)
    get_recipe: Callable[..., RunRecipe]  # (name, **overrides)
    # (model, dataset, recipe, seed=, work_dir=, ..., tensorboard_dir=) -> a TrainResult (or its dict)
    train_and_evaluate: Callable[..., ToDict | Line]
    complexity: Callable[[str, int, tuple[int, int, int]], dict]  # (model, head, input) -> {convention: dict}
    parse_profiles: Callable[..., Sequence[RunProfile]]  # (text, threads=)
    latency: Callable[..., Line]  # (model, head, profile, threads=, protocol=, per_image_batch=) -> record
    # (model, head, shape, batch, device, mode) -> s per image of one training step in that exact mode
    time_train_step: Callable[[str, int, tuple[int, ...], int, str, str], float] | None = None
    # (suite.core.modes.ProbeSpec) -> ModeChoice.to_dict(): each exact mode timed (or cached), the fastest chosen;
    # a module-level function, so that an executor runs it where the jobs run. None: --mode auto trains eagerly
    probe_modes: Callable[[Any], dict] | None = None
    reach_remote: Callable[[RunProfile], object] | None = None  # its identity; raises if unreachable
    # (device, precision, threads, measure_by=) -> suite.device.peaks.Peak: what achieved FLOP/s is set against
    training_peak: Callable[..., Peak] | None = None
    # ((slots, threads) rounds, usable cores, pin) -> aggregate images/s per slot count: what `--jobs auto` measures
    scaling_probe: Probe | None = None


# A zoo model's figures depend only on its name, head and input: a process that runs several tables (or a worker
# that runs several jobs) profiles each once.
_PROFILED: dict[tuple[str, int, tuple[int, ...]], dict] = {}


def real_backends() -> Backends:
    """The suite's own modules, imported here and nowhere else in the orchestrator."""
    # imported when a run starts, not with suite.run: planning, the store and the CLI's checks need no torch
    import zoo
    from suite import data, train
    from suite.device.peaks import training_peak
    from suite.device.remote import identify_remote
    from suite.timing.hardware import parse_profiles
    from suite.train import recipes
    from suite.train.modes import probe_dict as probe_modes

    from .scaling_probe import probe

    def complexity(model: str, head: int, input_size) -> dict:
        from suite.complexity import profile_all

        key = (model, head, tuple(input_size))
        if key in _PROFILED:
            return copy.deepcopy(_PROFILED[key])
        net = zoo.create_structure(model, num_classes=head)  # counting reads shapes, not weights
        out = {conv: rep.to_dict() for conv, rep in profile_all(net, tuple(input_size)).items()}
        if zoo.model_card(model).origin != "user":  # a user's file may be edited between two runs
            _PROFILED[key] = copy.deepcopy(out)
        return out

    def latency(model: str, head: int, profile, *, input_size=(3, 32, 32), threads=None, protocol=None,
                per_image_batch=100, batch=1) -> dict:
        from suite.timing.latency import Protocol, measure_latency

        net = zoo.create_model(model, num_classes=head)  # timing does not depend on the trained weights
        proto = Protocol(**protocol) if protocol else None
        return measure_latency(net, profile, input_size=tuple(input_size), threads=threads, protocol=proto,
                               per_image_batch=per_image_batch, batch=batch, model_name=model).to_dict()

    def train_and_evaluate(model, dataset, recipe, *, tensorboard_dir=None, **kw):
        from suite.train.events import TensorBoardEvents  # tensorboard is imported only by a job that trains

        events = TensorBoardEvents(tensorboard_dir) if tensorboard_dir is not None else None
        return train.train_and_evaluate(model, dataset, recipe, events=events, **kw)

    return Backends(
        reach_remote=identify_remote, model_names=zoo.list_models, dataset_names=data.dataset_names,
        load_dataset=data.load_dataset,
        get_recipe=recipes.get_recipe, train_and_evaluate=train_and_evaluate, complexity=complexity,
        parse_profiles=parse_profiles, latency=latency, time_train_step=time_train_step,
        training_peak=training_peak, probe_modes=probe_modes, scaling_probe=probe)


def time_train_step(model: str, head: int, image_shape, batch: int, device: str, mode: str = "eager") -> float:
    """Seconds per training image of a forward + backward + Adam step in ``mode``, after a warm-up: the mode
    probe's step timer (suite.train.modes)."""
    from suite.core.modes import ProbeSpec
    from suite.train.modes import seconds_per_image

    return seconds_per_image(ProbeSpec(model, head, tuple(image_shape), batch, device), mode)

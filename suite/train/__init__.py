"""The training engine: recipes, the epoch loop, checkpoints, step timing and top-k accuracy.

- ``recipes``: each paper's optimiser, schedule, batch and augmentation, with the choices the papers leave open.
- ``engine``: ``train_and_evaluate`` (one evaluation pass per epoch, resumable from its epoch checkpoints).
- ``support``, ``result``, ``checkpoint``, ``step_timing``, ``topk``: its parts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from suite.train.recipes import RECIPES, Recipe, get_recipe
from suite.train.result import TrainResult

if TYPE_CHECKING:
    from suite.train.engine import train_and_evaluate


def __getattr__(name: str) -> Any:
    # the engine imports torch: loaded on first use, so that the recipes and the result type stay light
    if name == "train_and_evaluate":
        return importlib.import_module("suite.train.engine").train_and_evaluate
    raise AttributeError(f"module 'suite.train' has no attribute {name!r}")


__all__ = ["RECIPES", "Recipe", "TrainResult", "get_recipe", "train_and_evaluate"]

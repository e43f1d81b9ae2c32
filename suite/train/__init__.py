"""The training engine: recipes, the epoch loop, checkpoints, step timing and top-k accuracy.

- ``recipes``: each paper's optimiser, schedule, batch and augmentation, with the choices the papers leave open.
- ``engine``: ``train_and_evaluate`` (one evaluation pass per epoch, resumable from its epoch checkpoints).
- ``support``, ``result``, ``checkpoint``, ``step_timing``, ``topk``: its parts.
"""

from suite.train.engine import train_and_evaluate
from suite.train.recipes import RECIPES, Recipe, get_recipe
from suite.train.result import TrainResult

__all__ = ["RECIPES", "Recipe", "TrainResult", "get_recipe", "train_and_evaluate"]

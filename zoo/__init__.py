"""Model zoo: every architecture the suite compares, with a card saying where it comes from.

>>> import zoo
>>> model = zoo.create_model("threshnet79")          # head 10, as the ThreshNet paper measured it
>>> zoo.model_card("threshnet79").origin
'reference'
"""

from zoo import user  # noqa: E402,F401  (registers the entry-point loader)
from zoo._registry import (
    UnknownModelError,
    ZooModel,
    build_model,
    create_model,
    create_structure,
    list_models,
    model_card,
    register_model,
)
from zoo.card import ModelCard
from zoo.registry import closest_names

__all__ = [
    "ModelCard",
    "UnknownModelError",
    "ZooModel",
    "build_model",
    "closest_names",
    "create_model",
    "create_structure",
    "list_models",
    "model_card",
    "register_model",
]

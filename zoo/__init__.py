"""Model zoo: every architecture the suite compares, with a card saying where it comes from.

>>> import zoo
>>> model = zoo.create_model("threshnet79")          # head 10, as the ThreshNet paper measured it
>>> zoo.model_card("threshnet79").origin
'reference'
"""

from zoo import user  # noqa: E402,F401  (registers the entry-point loader)
from zoo._registry import (
    UnknownModelError,
    create_model,
    create_structure,
    get_classifier,
    list_models,
    model_card,
    register_model,
)
from zoo.card import ModelCard
from zoo.registry import closest_names

__all__ = [
    "ModelCard",
    "UnknownModelError",
    "closest_names",
    "create_model",
    "create_structure",
    "get_classifier",
    "list_models",
    "model_card",
    "register_model",
]

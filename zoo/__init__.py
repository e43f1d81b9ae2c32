"""Model zoo: every architecture the suite compares, with a card saying where it comes from.

>>> import zoo
>>> model = zoo.create_model("threshnet79")          # head 10, as the ThreshNet paper measured it
>>> zoo.model_card("threshnet79").origin
'reference'

``import zoo`` itself imports no torch: the registry (and torch) load on the first use of a name below, so that
a caller can catch ``zoo.UnknownModelError`` (``zoo.errors``) and stay light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from zoo.errors import UnknownModelError

if TYPE_CHECKING:
    from zoo import user
    from zoo._registry import (
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

_FROM = {"ZooModel": "zoo._registry", "build_model": "zoo._registry", "create_model": "zoo._registry",
         "create_structure": "zoo._registry", "list_models": "zoo._registry", "model_card": "zoo._registry",
         "register_model": "zoo._registry", "ModelCard": "zoo.card", "closest_names": "zoo.registry"}


def __getattr__(name: str) -> Any:
    if name == "user":
        return importlib.import_module("zoo.user")
    if name not in _FROM:
        raise AttributeError(f"module 'zoo' has no attribute {name!r}")
    importlib.import_module("zoo.user")  # registers the entry-point loader before any name is looked up
    value = getattr(importlib.import_module(_FROM[name]), name)
    globals()[name] = value
    return value


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
    "user",
]

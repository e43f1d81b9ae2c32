"""The model registry: one decorator per builder, one card per name."""

from __future__ import annotations

import contextlib
import fnmatch
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from zoo.card import ModelCard
from zoo.errors import UnknownModelError
from zoo.registry import DuplicateName, Registry

Builder = Callable[..., nn.Module]


@dataclass(frozen=True)
class Entry:
    card: ModelCard
    builder: Builder
    where: str | None = None  # the user file or package that registered it (None: the zoo itself)


MODELS: Registry[Entry] = Registry("model")
_CAPTURES: list[tuple[str, list[str]]] = []  # (file, names registered) while a user file runs, innermost last
_ON_MISS: list[Callable[[], int]] = []  # loaders tried when a name is not found (zoo.user: entry points)


class ModelNameClash(DuplicateName):
    """A name registered twice: the message names both registrants; the first one stays."""


class NotAModuleError(TypeError):
    """A builder that returned something other than a torch.nn.Module."""


def register_model(card: ModelCard) -> Callable[[Builder], Builder]:
    """Register ``builder`` under ``card.name``. Registering a name twice is an error."""

    def decorator(builder: Builder) -> Builder:
        where = _CAPTURES[-1][0] if _CAPTURES else None
        if card.name in MODELS:
            raise ModelNameClash(f"model {card.name!r} of {where or registrant(card.name, builder)} is already "
                                 f"registered by {registrant(card.name)}; rename one of them")
        MODELS.add(card.name, Entry(card, builder, where))
        if where is not None:
            _CAPTURES[-1][1].append(card.name)
        return builder

    return decorator


def on_miss(loader: Callable[[], int]) -> None:
    """Call ``loader`` (it returns how many models it registered) when a looked-up name is not registered."""
    if loader not in _ON_MISS:
        _ON_MISS.append(loader)


def registrant(name: str, builder: Builder | None = None) -> str:
    """Who registered a model, as a user reads it: the user's file or package, else the zoo's module."""
    entry = MODELS.get(name)
    if entry is not None and entry.where:
        return entry.where
    return f"the zoo ({(builder or MODELS[name].builder).__module__})"


@contextlib.contextmanager
def capture(where: str) -> Iterator[list[str]]:
    """The names ``where`` (a user file) registers inside the block; on an exception they are unregistered
    again, so that nothing stays half-loaded."""
    frame: tuple[str, list[str]] = (where, [])
    _CAPTURES.append(frame)
    try:
        yield frame[1]
    except BaseException:
        unregister(frame[1])
        raise
    finally:
        _CAPTURES.remove(frame)


def unregister(names: Iterable[str]) -> None:
    """Forget user models (a user file reloaded after an edit); the zoo's own models are never removed."""
    for name in list(names):
        entry = MODELS.get(name)
        if entry is not None and entry.card.origin == "user":
            MODELS.remove(name)


def registered(name: str) -> tuple[Builder, ModelCard]:
    """Builder and card of a name registered so far, without loading the families (for variants of a model
    registered by a module that imports the model's own family module first)."""
    entry = MODELS[name]
    return entry.builder, entry.card


def _ensure_loaded() -> None:
    # Importing the family modules runs their decorators.
    import zoo.families  # noqa: F401


def list_models(pattern: str | None = None, *, family: str | None = None) -> list[str]:
    """Sorted registered names, filtered by a shell-style ``pattern`` and/or ``family``."""
    _ensure_loaded()
    names = sorted(MODELS)
    if pattern:
        names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    if family:
        names = [n for n in names if MODELS[n].card.family == family]
    return names


def _lookup(name: str) -> str:
    _ensure_loaded()
    if name in MODELS:
        return name
    if any([load() for load in _ON_MISS]) and name in MODELS:  # e.g. installed packages' models, lazily
        return name
    raise UnknownModelError(MODELS.unknown(name))


def model_card(name: str) -> ModelCard:
    return MODELS[_lookup(name)].card


@dataclass(frozen=True)
class ZooModel:
    """A built model with the interface every zoo model has, beside the module (torchvision's modules, like a
    user's, carry none of it themselves)."""

    module: nn.Module
    name: str
    num_classes: int
    classifier_path: str | None  # attribute path of the final (class-scoring) layer; None: a user model without

    def classifier(self) -> nn.Module:
        """The final (class-scoring) layer."""
        if self.classifier_path is None:
            raise ValueError(f"model {self.name!r} has no nn.Linear and its card names no classifier; set "
                             "classifier= on its ModelCard to the attribute path of its final layer")
        return self.module.get_submodule(self.classifier_path)


def build_model(name: str, *, num_classes: int | None = None, **kwargs: Any) -> ZooModel:
    """Build ``name`` with fresh weights, with its head and final layer. ``num_classes=None`` gives the head its
    paper measured."""
    builder, card = registered(_lookup(name))
    n = card.num_classes if num_classes is None else num_classes
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"num_classes must be a positive integer, got {n!r}")
    model = builder(num_classes=n, **kwargs)
    if not isinstance(model, nn.Module):
        raise NotAModuleError(f"the builder of {card.name!r} returned {type(model).__name__}, not a torch.nn.Module")
    path = card.classifier if card.origin != "user" else user_classifier(model, card.classifier)
    return ZooModel(model, card.name, n, path)


def create_model(name: str, *, num_classes: int | None = None, **kwargs: Any) -> nn.Module:
    """``build_model(name).module``: the network alone."""
    return build_model(name, num_classes=num_classes, **kwargs).module


def create_structure(name: str, *, num_classes: int | None = None) -> nn.Module:
    """``create_model(name)`` with every parameter and buffer zero instead of initialised: the same modules and
    shapes, built without running the weight initialisers (4-40x faster for the large networks). For counting
    (parameters, FLOPs, memory), which reads shapes only; never for training or timing. A user's model is built
    by its own builder as usual: its forward pass may read the values its initialisation gives."""
    if model_card(name).origin == "user":
        return create_model(name, num_classes=num_classes)
    with torch.device("meta"):
        model = create_model(name, num_classes=num_classes)
    model = model.to_empty(device="cpu")
    with torch.no_grad():
        for tensor in itertools.chain(model.parameters(), model.buffers()):
            tensor.zero_()
    return model


def user_classifier(model: nn.Module, declared: str | None) -> str | None:
    """A user model's final layer: the card's path when the model has it, else the last nn.Linear (None: none)."""
    modules = dict(model.named_modules())
    if declared and declared in modules:
        return declared
    linear = [name for name, m in modules.items() if isinstance(m, nn.Linear)]
    return linear[-1] if linear else None



"""The model registry: one decorator per builder, one card per name."""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import itertools
from collections.abc import Callable, Iterator

import torch
from torch import nn

from zoo.card import ModelCard
from zoo.errors import UnknownModelError

Builder = Callable[..., nn.Module]

_BUILDERS: dict[str, Builder] = {}
_CARDS: dict[str, ModelCard] = {}
_CAPTURES: list[tuple[str, list[str]]] = []  # (file, names registered) while a user file runs, innermost last
_WHERE: dict[str, str] = {}  # name -> the user file or package that registered it
_ON_MISS: list[Callable[[], int]] = []  # loaders tried when a name is not found (zoo.user: entry points)


class ModelNameClash(ValueError):
    """A name registered twice: the message names both registrants; the first one stays."""


def closest_names(name: str, choices: list[str] | tuple[str, ...], n: int = 3) -> list[str]:
    return difflib.get_close_matches(name.lower(), list(choices), n=n, cutoff=0.5)


def register_model(card: ModelCard) -> Callable[[Builder], Builder]:
    """Register ``builder`` under ``card.name``. Registering a name twice is an error."""

    def decorator(builder: Builder) -> Builder:
        where = _CAPTURES[-1][0] if _CAPTURES else None
        if card.name in _BUILDERS:
            raise ModelNameClash(f"model {card.name!r} of {where or registrant(card.name, builder)} is already "
                                 f"registered by {registrant(card.name, _BUILDERS[card.name])}; rename one of them")
        _BUILDERS[card.name] = builder
        _CARDS[card.name] = card
        if where is not None:
            _CAPTURES[-1][1].append(card.name)
            _WHERE[card.name] = where
        return builder

    return decorator


def on_miss(loader: Callable[[], int]) -> None:
    """Call ``loader`` (it returns how many models it registered) when a looked-up name is not registered."""
    if loader not in _ON_MISS:
        _ON_MISS.append(loader)


def registrant(name: str, builder: Builder) -> str:
    """Who registered a model, as a user reads it: the user's file or package, else the zoo's module."""
    return _WHERE.get(name) or f"the zoo ({builder.__module__})"


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


def unregister(names) -> None:
    """Forget user models (a user file reloaded after an edit); the zoo's own models are never removed."""
    for name in list(names):
        card = _CARDS.get(name)
        if card is not None and card.origin == "user":
            del _CARDS[name], _BUILDERS[name]
            _WHERE.pop(name, None)


def registered(name: str) -> tuple[Builder, ModelCard]:
    """Builder and card of a name registered so far, without loading the families (for variants of a model
    registered by a module that imports the model's own family module first)."""
    return _BUILDERS[name], _CARDS[name]


def _ensure_loaded() -> None:
    # Importing the family modules runs their decorators.
    import zoo.families  # noqa: F401


def list_models(pattern: str | None = None, *, family: str | None = None) -> list[str]:
    """Sorted registered names, filtered by a shell-style ``pattern`` and/or ``family``."""
    _ensure_loaded()
    names = sorted(_BUILDERS)
    if pattern:
        names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    if family:
        names = [n for n in names if _CARDS[n].family == family]
    return names


def _lookup(name: str) -> str:
    _ensure_loaded()
    if name in _BUILDERS:
        return name
    if any([load() for load in _ON_MISS]) and name in _BUILDERS:  # e.g. installed packages' models, lazily
        return name
    hint = closest_names(name, list(_BUILDERS))
    suggestion = f"; did you mean {', '.join(hint)}?" if hint else "; see zoo.list_models()"
    raise UnknownModelError(f"unknown model {name!r}{suggestion}")


def model_card(name: str) -> ModelCard:
    return _CARDS[_lookup(name)]


def create_model(name: str, *, num_classes: int | None = None, **kwargs) -> nn.Module:
    """Build ``name`` with fresh weights. ``num_classes=None`` gives the head its paper measured."""
    card = _CARDS[_lookup(name)]
    n = card.num_classes if num_classes is None else num_classes
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"num_classes must be a positive integer, got {n!r}")
    model = _BUILDERS[card.name](num_classes=n, **kwargs)
    # The uniform interface every zoo model exposes (torchvision models do not carry these themselves).
    model.num_classes = n
    model.zoo_name = card.name
    model.classifier_path = card.classifier if card.origin != "user" else user_classifier(model, card.classifier)
    return model


def create_structure(name: str, *, num_classes: int | None = None) -> nn.Module:
    """``create_model(name)`` with every parameter and buffer zero instead of initialised: the same modules and
    shapes, built without running the weight initialisers (4-40x faster for the large networks). For counting
    (parameters, FLOPs, memory), which reads shapes only; never for training or timing. A user's model is built
    by its own builder as usual: its forward pass may read the values its initialisation gives."""
    if _CARDS[_lookup(name)].origin == "user":
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


def get_classifier(model: nn.Module) -> nn.Module:
    """The final (class-scoring) layer of a model built by ``create_model``."""
    if model.classifier_path is None:
        raise ValueError(f"model {model.zoo_name!r} has no nn.Linear and its card names no classifier; set "
                         "classifier= on its ModelCard to the attribute path of its final layer")
    return model.get_submodule(model.classifier_path)

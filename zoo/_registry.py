"""The model registry: one decorator per builder, one card per name."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from dataclasses import replace

from torch import nn

from zoo.card import ModelCard

Builder = Callable[..., nn.Module]

_BUILDERS: dict[str, Builder] = {}
_CARDS: dict[str, ModelCard] = {}


class UnknownModelError(KeyError):
    """Raised for a model name that is not registered; the message names the closest ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def closest_names(name: str, choices: list[str] | tuple[str, ...], n: int = 3) -> list[str]:
    return difflib.get_close_matches(name.lower(), list(choices), n=n, cutoff=0.5)


def register_model(card: ModelCard) -> Callable[[Builder], Builder]:
    """Register ``builder`` under ``card.name``. Registering a name twice is an error."""

    def decorator(builder: Builder) -> Builder:
        if card.name in _BUILDERS:
            raise ValueError(f"model {card.name!r} is already registered (by {_BUILDERS[card.name].__module__})")
        _BUILDERS[card.name] = builder
        _CARDS[card.name] = card
        return builder

    return decorator


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
    model.classifier_path = card.classifier
    return model


def get_classifier(model: nn.Module) -> nn.Module:
    """The final (class-scoring) layer of a model built by ``create_model``."""
    return model.get_submodule(model.classifier_path)


def with_card(card: ModelCard, **changes) -> ModelCard:
    """A copy of ``card`` with some fields changed (for families of near-identical cards)."""
    return replace(card, **changes)

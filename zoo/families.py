"""Imports every family module so that its models register. One line per family file."""

from zoo import (  # noqa: F401
    cifar,
    dpnet,
    ghostnet,
    hardnet,
    presnet,
    stem32,
    threshnet,
    thresholdnet,
    torchvision_models,
    triplenet,
)

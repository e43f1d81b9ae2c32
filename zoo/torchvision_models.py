"""torchvision baselines, built by torchvision itself (weights=None) under torchvision's names.

torchvision is imported only when one of these models is built, so ``import zoo`` (and every zoo-written
model) works where only torch is installed, as on the Raspberry Pi the device bundle runs on.
"""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

from torch import nn

from zoo._registry import register_model
from zoo.card import ModelCard

_RESNET = "He et al., Deep Residual Learning (CVPR 2016)"
_RESNEXT = "Xie et al., Aggregated Residual Transformations (CVPR 2017)"
_WRN = "Zagoruyko and Komodakis, Wide Residual Networks (BMVC 2016)"
_DENSENET = "Huang et al., Densely Connected Convolutional Networks (CVPR 2017)"

# name -> (classifier path, paper, notes)
_SPECS: dict[str, tuple[str, str, str]] = {
    "resnet18": ("fc", _RESNET, ""),
    "resnet34": ("fc", _RESNET, ""),
    "resnet50": ("fc", _RESNET,
                 "Its torchstat figures are the ones ThreshNet Tables III/IV print for 'ResNeXt50-32x4d'."),
    "resnext50_32x4d": ("fc", _RESNEXT,
                        "ThreshNet Tables III/IV label resnet50's complexity numbers with this name."),
    "wide_resnet50_2": ("fc", _WRN, ""),
    "densenet121": ("classifier", _DENSENET, ""),
    # ThresholdNet Table VIII: the deeper and wider members, complexity only.
    "densenet169": ("classifier", _DENSENET, ""),
    "densenet201": ("classifier", _DENSENET, ""),
    "densenet161": ("classifier", _DENSENET, ""),
    "resnet101": ("fc", _RESNET, ""),
    "resnext101_32x8d": ("fc", _RESNEXT, ""),
    "wide_resnet101_2": ("fc", _WRN, ""),
    "mobilenet_v2": ("classifier.1", "Sandler et al., MobileNetV2 (CVPR 2018)",
                     "ThreshNet's MobileNetV2 row is the CIFAR re-implementation: see mobilenetv2_cifar."),
    "mobilenet_v3_large": ("classifier.3", "Howard et al., Searching for MobileNetV3 (ICCV 2019)",
                           "DP-Net's baseline; the paper prints 5.15 M, torchvision's model has 5,483,032."),
    "mobilenet_v3_small": ("classifier.3", "Howard et al., Searching for MobileNetV3 (ICCV 2019)", ""),
    "shufflenet_v2_x1_0": ("fc", "Ma et al., ShuffleNet V2 (ECCV 2018)",
                           "ThreshNet's ShuffleNetV2 row is the CIFAR re-implementation: see shufflenetv2_cifar."),
    "squeezenet1_0": ("classifier.1", "Iandola et al., SqueezeNet (2016)", ""),
    "squeezenet1_1": ("classifier.1", "Iandola et al., SqueezeNet (2016)", ""),
    "efficientnet_b0": ("classifier.1", "Tan and Le, EfficientNet (ICML 2019)",
                        "ThreshNet's EfficientNetB0 row is the CIFAR re-implementation: see efficientnet_b0_cifar."),
}


def torchvision_models(model: str) -> ModuleType:
    """``torchvision.models``, imported on first use; a clear ImportError where torchvision is missing."""
    try:
        import torchvision.models as tvm
    except ImportError as exc:
        raise ImportError(f"zoo model {model!r} is built by torchvision, which is not installed here: install "
                          "torchvision (pip install torchvision) to build it; every other zoo model needs only "
                          "torch") from exc
    return tvm


def build_torchvision(name: str, *, model: str | None = None, num_classes: int, **kwargs: Any) -> nn.Module:
    """torchvision's ``name`` with fresh weights (``model`` is the zoo name, for the error message)."""
    builder = getattr(torchvision_models(model or name), name)
    # torchvision < 0.13 (0.12 is torch 1.11's, as on the papers' Pi) has no weights= argument yet.
    fresh = {"weights": None} if "weights" in inspect.signature(builder).parameters else {"pretrained": False}
    return builder(**fresh, num_classes=num_classes, **kwargs)


def _register(name: str, classifier: str, paper: str, notes: str) -> None:
    card = ModelCard(
        name=name, family="torchvision", paper=paper, num_classes=1000, origin="torchvision",
        source=f"torchvision.models.{name} (torchvision 0.29.1, weights=None)",
        classifier=classifier, notes=notes,
    )

    @register_model(card)
    def build(*, num_classes: int, **kwargs: Any) -> nn.Module:
        return build_torchvision(name, num_classes=num_classes, **kwargs)

    build.__name__ = name


for _name, (_classifier, _paper, _notes) in _SPECS.items():
    _register(_name, _classifier, _paper, _notes)

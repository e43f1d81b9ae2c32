"""32x32-input variants (suffix ``_32``) of the DP-Net paper's 224-layout networks, for its CIFAR tables.

The DP-Net paper trains its ImageNet-layout networks on 32x32 CIFAR images (Tables 2, 4 and 5) without saying
how it adapted them. The choice made here: the stem's first stride-2 convolution gets stride 1, and ResNet-style
stems also drop their max pool; everything else is the 224 layout. A stride changes no parameter, so each
``_32`` model has exactly the parameters (and layer shapes) of its 224 model, whose published complexity it
stands for. Zoo-written models take the adaptation as the builder argument ``cifar_stem=True``; torchvision's
are built by torchvision and then adapted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from torch import nn

from zoo import dpnet, ghostnet, presnet, torchvision_models  # noqa: F401  (their models must be registered)
from zoo._registry import register_model, registered
from zoo.torchvision_models import build_torchvision

MOBILE_CHOICE = ("32x32 adaptation (the paper does not say how it adapted the 224 layout to CIFAR): the stem's "
                 "first stride-2 convolution gets stride 1; everything else as the 224 layout")
RESNET_CHOICE = ("32x32 adaptation (the paper does not say how it adapted the 224 layout to CIFAR): the stem's "
                 "7x7 convolution gets stride 1 and the stem's max pool is dropped (nn.Identity); everything "
                 "else as the 224 layout")


def _mobile_stem(model: nn.Module) -> nn.Module:
    """torchvision MobileNetV2/V3: the first conv of ``features`` is the stride-2 stem conv."""
    conv = model.get_submodule("features.0.0")
    assert isinstance(conv, nn.Conv2d)
    conv.stride = (1, 1)
    return model


def _resnet_stem(model: nn.Module) -> nn.Module:
    conv = model.get_submodule("conv1")
    assert isinstance(conv, nn.Conv2d)
    conv.stride = (1, 1)
    model.maxpool = nn.Identity()
    return model


# _32 name -> (224 model, torchvision adaptation or None for a zoo model built with cifar_stem=True)
VARIANTS: dict[str, tuple[str, Callable[[nn.Module], nn.Module] | None]] = {
    "dpnet_32": ("dpnet", None),
    "d_mobilenetv3_32": ("d_mobilenetv3", None),
    "p_mobilenetv3_32": ("p_mobilenetv3", None),
    "ghostnet_32": ("ghostnet", None),
    "presnet18a_32": ("presnet18a", None),
    "presnet18b_32": ("presnet18b", None),
    "presnet34a_32": ("presnet34a", None),
    "presnet34b_32": ("presnet34b", None),
    "mobilenet_v3_large_32": ("mobilenet_v3_large", _mobile_stem),
    "mobilenet_v2_32": ("mobilenet_v2", _mobile_stem),
    "resnet18_32": ("resnet18", _resnet_stem),
    "resnet34_32": ("resnet34", _resnet_stem),
}


def _register(name: str, base: str, adapt: Callable[[nn.Module], nn.Module] | None) -> None:
    base_builder, base_card = registered(base)
    resnet_like = base.startswith(("resnet", "presnet"))
    source = base_card.source if adapt is None else f"torchvision.models.{base} (weights=None), stem adapted"
    card = replace(
        base_card, name=name, source=source, trained_input_size=(3, 32, 32),
        choices=(*base_card.choices, RESNET_CHOICE if resnet_like else MOBILE_CHOICE),
        # Only the parameter residual carries over (same parameters); FLOPs residuals are the 224 model's.
        residuals={k: v for k, v in base_card.residuals.items() if k == "params"},
        notes=f"32x32 variant of {base} for the DP-Net paper's CIFAR tables: same parameters and layer shapes. "
              f"Its published complexity is {base}'s at 3x224x224 (that card lists the published rows).",
    )

    if adapt is None:
        @register_model(card)
        def build(*, num_classes: int, **kwargs: Any) -> nn.Module:
            return base_builder(num_classes=num_classes, cifar_stem=True, **kwargs)
    else:
        @register_model(card)
        def build(*, num_classes: int, **kwargs: Any) -> nn.Module:
            return adapt(build_torchvision(base, model=name, num_classes=num_classes, **kwargs))

    build.__name__ = f"build_{name}"


for _name, (_base, _adapt) in VARIANTS.items():
    _register(_name, _base, _adapt)

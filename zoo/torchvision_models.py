"""torchvision baselines, built by torchvision itself (weights=None) under torchvision's names.

torchvision is imported only when one of these models is built, so ``import zoo`` (and every zoo-written
model) works where only torch is installed, as on the Raspberry Pi the device bundle runs on.
"""

from __future__ import annotations

import inspect
from types import ModuleType

from torch import nn

from zoo._registry import register_model
from zoo.card import ModelCard, PublishedRef

_T3, _T4, _T8 = "threshnet_table3_cifar10", "threshnet_table4_svhn", "thresholdnet_table8_complexity"
_T6, _T7 = "thresholdnet_table6_cifar10", "thresholdnet_table7_stl10"
_AS_RESNEXT = "printed under the ResNeXt50-32x4d label"
_ONLY_ERR = "error/time columns; complexity columns are resnet50's"

_RESNET = "He et al., Deep Residual Learning (CVPR 2016)"
_RESNEXT = "Xie et al., Aggregated Residual Transformations (CVPR 2017)"
_WRN = "Zagoruyko and Komodakis, Wide Residual Networks (BMVC 2016)"
_DENSENET = "Huang et al., Densely Connected Convolutional Networks (CVPR 2017)"

# name -> (classifier path, paper the row comes from, published rows, notes)
_SPECS: dict[str, tuple[str, str, tuple[PublishedRef, ...], str]] = {
    "resnet18": ("fc", _RESNET,
                 (PublishedRef(_T7, "ResNet18", 1000), PublishedRef("dpnet_table3_presnet_imagenet", "ResNet18", 1000)),
                 ""),
    "resnet34": ("fc", _RESNET,
                 (PublishedRef("dpnet_table3_presnet_imagenet", "ResNet34", 1000),), ""),
    "resnet50": ("fc", _RESNET,
                 (PublishedRef(_T3, "ResNeXt50-32x4d", 1000, _AS_RESNEXT),
                  PublishedRef(_T4, "ResNeXt50-32x4d", 1000, _AS_RESNEXT),
                  PublishedRef(_T8, "ResNet50", 1000), PublishedRef(_T6, "ResNet50", 1000)),
                 "Its torchstat figures are the ones ThreshNet Tables III/IV print for 'ResNeXt50-32x4d'."),
    "resnext50_32x4d": ("fc", _RESNEXT,
                        (PublishedRef(_T3, "ResNeXt50-32x4d", 1000, _ONLY_ERR),
                         PublishedRef(_T4, "ResNeXt50-32x4d", 1000, _ONLY_ERR),
                         PublishedRef(_T8, "ResNeXt50-32x4d", 1000), PublishedRef(_T6, "ResNeXt50-32x4d", 1000),
                         PublishedRef(_T7, "ResNeXt50-32x4d", 1000)),
                        "ThreshNet Tables III/IV label resnet50's complexity numbers with this name."),
    "wide_resnet50_2": ("fc", _WRN,
                        (PublishedRef(_T3, "Wide_ResNet50-2", 1000, "params misprinted as 6.88 M (68.88 M)"),
                         PublishedRef(_T4, "Wide_ResNet50-2", 1000, "params misprinted as 6.88 M (68.88 M)"),
                         PublishedRef(_T8, "Wide_ResNet50-2", 1000), PublishedRef(_T6, "Wide_ResNet50-2", 1000),
                         PublishedRef(_T7, "Wide_ResNet50-2", 1000)), ""),
    "densenet121": ("classifier", _DENSENET,
                    (PublishedRef(_T8, "DenseNet121", 1000), PublishedRef(_T6, "DenseNet121", 1000),
                     PublishedRef(_T7, "DenseNet121", 1000)), ""),
    # ThresholdNet Table VIII: the deeper and wider members, complexity only.
    "densenet169": ("classifier", _DENSENET, (PublishedRef(_T8, "DenseNet169", 1000),), ""),
    "densenet201": ("classifier", _DENSENET, (PublishedRef(_T8, "DenseNet201", 1000),), ""),
    "densenet161": ("classifier", _DENSENET, (PublishedRef(_T8, "DenseNet161", 1000),), ""),
    "resnet101": ("fc", _RESNET, (PublishedRef(_T8, "ResNet101", 1000),), ""),
    "resnext101_32x8d": ("fc", _RESNEXT, (PublishedRef(_T8, "ResNeXt101-32x8d", 1000),), ""),
    "wide_resnet101_2": ("fc", _WRN, (PublishedRef(_T8, "Wide_ResNet101-2", 1000),), ""),
    "mobilenet_v2": ("classifier.1", "Sandler et al., MobileNetV2 (CVPR 2018)",
                     (PublishedRef("dpnet_table5_cifar10", "MobileNetV2", 1000),
                      PublishedRef("dpnet_table6_imagenet", "MobileNetV2", 1000),
                      PublishedRef("dpnet_table7_runtime", "MobileNetV2", 1000)),
                     "ThreshNet's MobileNetV2 row is the CIFAR re-implementation: see mobilenetv2_cifar."),
    "mobilenet_v3_large": ("classifier.3", "Howard et al., Searching for MobileNetV3 (ICCV 2019)",
                           (PublishedRef("dpnet_table4_cifar100", "MobileNetV3", 1000, "printed as 5.15 M"),
                            PublishedRef("dpnet_table5_cifar10", "MobileNetV3", 1000),
                            PublishedRef("dpnet_table6_imagenet", "MobileNetV3", 1000),
                            PublishedRef("dpnet_table7_runtime", "MobileNetV3", 1000)),
                           "DP-Net's baseline; the paper prints 5.15 M, torchvision's model has 5,483,032."),
    "mobilenet_v3_small": ("classifier.3", "Howard et al., Searching for MobileNetV3 (ICCV 2019)", (), ""),
    "shufflenet_v2_x1_0": ("fc", "Ma et al., ShuffleNet V2 (ECCV 2018)", (),
                           "ThreshNet's ShuffleNetV2 row is the CIFAR re-implementation: see shufflenetv2_cifar."),
    "squeezenet1_0": ("classifier.1", "Iandola et al., SqueezeNet (2016)", (), ""),
    "squeezenet1_1": ("classifier.1", "Iandola et al., SqueezeNet (2016)", (), ""),
    "efficientnet_b0": ("classifier.1", "Tan and Le, EfficientNet (ICML 2019)", (),
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


def build_torchvision(name: str, *, model: str | None = None, num_classes: int, **kwargs) -> nn.Module:
    """torchvision's ``name`` with fresh weights (``model`` is the zoo name, for the error message)."""
    builder = getattr(torchvision_models(model or name), name)
    # torchvision < 0.13 (0.12 is torch 1.11's, as on the papers' Pi) has no weights= argument yet.
    fresh = {"weights": None} if "weights" in inspect.signature(builder).parameters else {"pretrained": False}
    return builder(**fresh, num_classes=num_classes, **kwargs)


def _register(name: str, classifier: str, paper: str, published: tuple[PublishedRef, ...], notes: str) -> None:
    card = ModelCard(
        name=name, family="torchvision", paper=paper, num_classes=1000, origin="torchvision",
        source=f"torchvision.models.{name} (torchvision 0.29.1, weights=None)",
        classifier=classifier, published=published, notes=notes,
    )

    @register_model(card)
    def build(*, num_classes: int, **kwargs) -> nn.Module:
        return build_torchvision(name, num_classes=num_classes, **kwargs)

    build.__name__ = name


for _name, (_classifier, _paper, _published, _notes) in _SPECS.items():
    _register(_name, _classifier, _paper, _published, _notes)

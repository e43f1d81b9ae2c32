"""P-ResNet: ResNet-18/34 built from partial residual blocks (DP-Net paper, section 3.1, Fig. 2b and Fig. 3).

No public code exists. The reading below (partial residual blocks at the stage depths of ``_SPECS``)
reproduces all four published 1000-class parameter counts exactly; the remaining open choices are listed in each card.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from zoo._compat import zip_equal
from zoo._registry import register_model
from zoo.card import ModelCard
from zoo.layers import ConvBNAct

PAPER = "Zhao and Wang, A new lightweight network based on MobileNetV3 (KSII TIIS 16(1), 2022)"


class PartialBasicBlock(nn.Module):
    """Half the channels go through a BasicBlock body, the other half is passed on; then concatenated.

    When the block changes resolution or width, the passed half goes through a strided 1x1 conv + BN (the
    ResNet projection shortcut, on half the channels). ``transition`` adds the 1x1 conv + BN + ReLU that fuses
    the halves (Fig. 3).
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1, *, transition: bool):
        super().__init__()
        self.split = in_ch // 2
        half = out_ch // 2
        self.residual = nn.Sequential(
            ConvBNAct(self.split, half, 3, stride),
            ConvBNAct(half, half, 3, act=None),
            nn.ReLU(inplace=True),
        )
        if stride == 1 and in_ch == out_ch:
            self.passthrough: nn.Module = nn.Identity()
        else:
            self.passthrough = ConvBNAct(in_ch - self.split, out_ch - half, 1, stride, act=None)
        self.transition = ConvBNAct(out_ch, out_ch, 1) if transition else None

    def forward(self, x: Tensor) -> Tensor:
        # The paper splits "evenly" without saying which half does what: the first half is transformed here.
        work, keep = x[:, :self.split], x[:, self.split:]
        out = torch.cat([self.residual(work), self.passthrough(keep)], 1)
        return out if self.transition is None else self.transition(out)


class PResNet(nn.Module):
    def __init__(self, layers: tuple[int, ...], variant: str, num_classes: int, *, cifar_stem: bool = False):
        super().__init__()
        if variant not in ("A", "B"):
            raise ValueError(f"variant must be 'A' or 'B', got {variant!r}")
        # cifar_stem (the ``_32`` variants, zoo.stem32): stride-1 stem conv and no max pool, for 32x32 inputs
        self.stem = nn.Sequential(ConvBNAct(3, 64, 7, 1 if cifar_stem else 2),
                                  nn.Identity() if cifar_stem else nn.MaxPool2d(3, 2, 1))
        stages: list[nn.Module] = []
        c = 64
        for i, (n, width) in enumerate(zip_equal(layers, (64, 128, 256, 512))):
            blocks = []
            for j in range(n):
                # A: a transition after every block; B: only after the last block of each stage.
                blocks.append(PartialBasicBlock(c, width, 2 if i > 0 and j == 0 else 1,
                                                transition=variant == "A" or j == n - 1))
                c = width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.avgpool(self.stages(self.stem(x))).flatten(1))


CHOICES = (
    "ResNet layout as torchvision's resnet18/34: 7x7 stride-2 stem conv + BN + ReLU, 3x3 stride-2 max pool, "
    "stages of 64/128/256/512 channels, average pool, Linear(512, n)",
    "each block splits its input into two equal halves by channel position: the first half goes through "
    "the BasicBlock body, the second half is passed on; output = concat(body, passed half)",
    "the body is Conv3x3-BN-ReLU-Conv3x3-BN followed by ReLU, with no element-wise addition (Fig. 2b "
    "replaces the addition by the concatenation); an additive variant would have the same counts",
    "in a downsampling block the body's first conv has stride 2 (C_in/2 -> C_out/2) and the passed half "
    "goes through a 1x1 stride-2 conv (C_in/2 -> C_out/2) + BN, the ResNet projection shortcut on half the "
    "channels",
    "transition layer = 1x1 conv (C -> C, no bias) + BN + ReLU; variant A after every block (Fig. 3a), "
    "variant B after the last block of each stage (Fig. 3b)",
)

# name -> (stage depths, variant, published params M, published FLOPs G, residuals against Tables 2/3)
# FLOPs follow torchstat 0.0.7's convention (conv and linear multiply-accumulates plus conv bias, BN, ReLU
# and pooling element operations), which reproduces all four published values to the printed digit; conv and
# linear multiply-accumulates alone are 0.645 / 0.594 / 1.210 / 1.056 G. Both are measured by the tests.
_SPECS: dict[str, tuple[tuple[int, ...], str, float, float, dict[str, float]]] = {
    "presnet18a": ((2, 2, 2, 2), "A", 4.02, 0.65, {"params": -0.0008, "flops_224": 0.0047}),
    "presnet18b": ((2, 2, 2, 2), "B", 3.67, 0.60, {"params": -0.0009, "flops_224": 0.0009}),
    "presnet34a": ((3, 4, 6, 3), "A", 7.11, 1.22, {"params": 0.0001, "flops_224": 0.0017}),
    "presnet34b": ((3, 4, 6, 3), "B", 6.20, 1.06, {"params": -0.0007, "flops_224": 0.0046}),
}


def _register(name: str, layers: tuple[int, ...], variant: str, params_m: float, flops_g: float,
              residuals: dict[str, float]) -> None:
    card = ModelCard(
        name=name, family="presnet", paper=PAPER, num_classes=1000, origin="reconstructed",
        source="reconstructed from the DP-Net paper text (section 3.1, Figs. 2-3) and its Tables 2-3; "
               "no public code",
        classifier="fc",
        choices=CHOICES, residuals=dict(residuals),
        notes=f"Published {params_m} M params, {flops_g} G FLOPs at 224x224; the FLOPs residual uses "
              "torchstat's convention (suite.complexity, convention='torchstat').",
    )

    @register_model(card)
    def build(*, num_classes: int, cifar_stem: bool = False) -> nn.Module:
        return PResNet(layers, variant, num_classes, cifar_stem=cifar_stem)

    build.__name__ = name


for _name, (_layers, _variant, _params, _flops, _res) in _SPECS.items():
    _register(_name, _layers, _variant, _params, _flops, _res)

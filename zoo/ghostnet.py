"""GhostNet 1.0x: the official ImageNet model (head 1000) of ThreshNet Tables III/IV and DP-Net Tables 5-7.

Written from the layer description of the official code (huawei-noah, Han et al., CVPR 2020). Which operations are
modules and which are functional follows the official code, so that torchstat's leaf-module convention sees
the same layers the published figures were computed from.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from zoo._registry import register_model
from zoo.card import ModelCard
from zoo.layers import ConvBNAct

# (depthwise kernel, expansion width, output width, SE ratio, stride)
GHOSTNET_CFG: tuple[tuple[int, int, int, float, int], ...] = (
    (3, 16, 16, 0, 1),
    (3, 48, 24, 0, 2), (3, 72, 24, 0, 1),
    (5, 72, 40, 0.25, 2), (5, 120, 40, 0.25, 1),
    (3, 240, 80, 0, 2), (3, 200, 80, 0, 1), (3, 184, 80, 0, 1), (3, 184, 80, 0, 1),
    (3, 480, 112, 0.25, 1), (3, 672, 112, 0.25, 1),
    (5, 672, 160, 0.25, 2), (5, 960, 160, 0, 1), (5, 960, 160, 0.25, 1), (5, 960, 160, 0, 1),
    (5, 960, 160, 0.25, 1),
)


def make_divisible(v: float, divisor: int = 4) -> int:
    """Round to a multiple of ``divisor`` without dropping more than 10 % (the MobileNet rule)."""
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


def hard_sigmoid(x: Tensor) -> Tensor:
    return F.relu6(x + 3.0) / 6.0


class SqueezeExcite(nn.Module):
    """Pool -> 1x1 reduce (bias) -> ReLU -> 1x1 expand (bias) -> hard sigmoid gate."""

    def __init__(self, ch: int, ratio: float = 0.25):
        super().__init__()
        reduced = make_divisible(ch * ratio, 4)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_reduce = nn.Conv2d(ch, reduced, 1)
        self.act = nn.ReLU(inplace=True)
        self.conv_expand = nn.Conv2d(reduced, ch, 1)

    def forward(self, x: Tensor) -> Tensor:
        return x * hard_sigmoid(self.conv_expand(self.act(self.conv_reduce(self.avg_pool(x)))))


class GhostModule(nn.Module):
    """A 1x1 conv makes half the output ("intrinsic" maps); a cheap depthwise 3x3 makes the other half."""

    def __init__(self, in_ch: int, out_ch: int, *, relu: bool, ratio: int = 2, dw_kernel: int = 3):
        super().__init__()
        self.out_ch = out_ch
        init = math.ceil(out_ch / ratio)
        act = nn.ReLU if relu else None
        self.primary_conv = ConvBNAct(in_ch, init, 1, act=act)
        self.cheap_operation = ConvBNAct(init, init * (ratio - 1), dw_kernel, groups=init, act=act)
        if not relu:  # the reference keeps an empty placeholder layer here; torchstat counts it in Memory
            self.primary_conv.append(nn.Identity())
            self.cheap_operation.append(nn.Identity())

    def forward(self, x: Tensor) -> Tensor:
        a = self.primary_conv(x)
        return torch.cat([a, self.cheap_operation(a)], 1)[:, :self.out_ch]


class GhostBottleneck(nn.Module):
    def __init__(self, in_ch: int, mid: int, out_ch: int, kernel: int, stride: int, se_ratio: float):
        super().__init__()
        self.ghost1 = GhostModule(in_ch, mid, relu=True)
        # The stride lives in an extra depthwise conv between the two ghost modules.
        self.conv_dw = ConvBNAct(mid, mid, kernel, stride, groups=mid, act=None) if stride > 1 else None
        self.se = SqueezeExcite(mid, se_ratio) if se_ratio > 0 else None
        self.ghost2 = GhostModule(mid, out_ch, relu=False)
        if in_ch == out_ch and stride == 1:
            self.shortcut: nn.Module = nn.Identity()
        else:
            self.shortcut = nn.Sequential(ConvBNAct(in_ch, in_ch, kernel, stride, groups=in_ch, act=None),
                                          ConvBNAct(in_ch, out_ch, 1, act=None))

    def forward(self, x: Tensor) -> Tensor:
        out = self.ghost1(x)
        if self.conv_dw is not None:
            out = self.conv_dw(out)
        if self.se is not None:
            out = self.se(out)
        return self.ghost2(out) + self.shortcut(x)


class GhostNet(nn.Module):
    def __init__(self, num_classes: int, *, width: float = 1.0, dropout: float = 0.2, cifar_stem: bool = False):
        super().__init__()
        c = make_divisible(16 * width, 4)
        self.stem = ConvBNAct(3, c, 3, 1 if cifar_stem else 2)  # cifar_stem: the ``_32`` variant (zoo.stem32)
        blocks: list[nn.Module] = []
        for k, exp, out, se, s in GHOSTNET_CFG:
            out_c, mid = make_divisible(out * width, 4), make_divisible(exp * width, 4)
            blocks.append(GhostBottleneck(c, mid, out_c, k, s, se))
            c = out_c
        last = make_divisible(960 * width, 4)
        blocks.append(ConvBNAct(c, last, 1))
        self.blocks = nn.Sequential(*blocks)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_head = nn.Conv2d(last, 1280, 1)
        self.act2 = nn.ReLU(inplace=True)
        self.dropout = dropout
        self.classifier = nn.Linear(1280, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.act2(self.conv_head(self.global_pool(self.blocks(self.stem(x))))).flatten(1)
        return self.classifier(F.dropout(x, self.dropout, self.training))



@register_model(ModelCard(
    name="ghostnet", family="ghostnet",
    paper="Han et al., GhostNet: More Features from Cheap Operations (CVPR 2020)",
    num_classes=1000, origin="reference",
    source="huawei-noah/Efficient-AI-Backbones ghostnet_pytorch/ghostnet.py (GhostNet 1.0x), re-written from "
           "its layer description",
    classifier="classifier",
    notes="ThreshNet trained it on 32x32 CIFAR-10 / SVHN with the 1000-way head left in place; its stride-2 "
          "stem and four stride-2 blocks leave a 1x1 map at 32x32.",
))
def ghostnet(*, num_classes: int, width: float = 1.0, dropout: float = 0.2, cifar_stem: bool = False) -> nn.Module:
    return GhostNet(num_classes, width=width, dropout=dropout, cifar_stem=cifar_stem)

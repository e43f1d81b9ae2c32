"""Small building blocks shared by several families."""

from __future__ import annotations

import torch
from torch import nn


class ConvBNAct(nn.Sequential):
    """Conv2d (padding k//2) -> BatchNorm2d -> activation. ``act=None`` leaves the activation out."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1, *, groups: int = 1,
                 bias: bool = False, act: type[nn.Module] | None = nn.ReLU, padding: int | None = None):
        layers: list[nn.Module] = [
            nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2 if padding is None else padding,
                      groups=groups, bias=bias),
            nn.BatchNorm2d(out_ch),
        ]
        if act is not None:
            layers.append(act(inplace=True) if act in (nn.ReLU, nn.ReLU6, nn.Hardswish, nn.SiLU) else act())
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation gate: pool -> 1x1 conv (bias) -> act -> 1x1 conv (bias) -> gate, times the input.

    Same parameters, submodule names and leaf modules as ``torchvision.ops.SqueezeExcitation`` (so counts,
    state-dict keys and torchstat's figures are unchanged), without needing torchvision.
    """

    def __init__(self, channels: int, squeeze: int, *, act: type[nn.Module] = nn.ReLU,
                 gate: type[nn.Module] = nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = act()
        self.scale_activation = gate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return scale * x

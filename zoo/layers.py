"""Small building blocks shared by several families."""

from __future__ import annotations

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

"""The harmonic dense connection (HarDNet) shared by the HarDNet, ThreshNet and ThresholdNet families.

Inside a block, layers are numbered 1..n and layer 0 is the block input. Layer L reads the concatenation of
layers L - 2^i for every i >= 0 with 2^i dividing L, most recent first; its width is
``growth * m^(links - 1)`` rounded to an even integer the way the reference code does it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from zoo.layers import ConvBNAct

# (in_channels, out_channels) -> the module computing one layer of a block
LayerFactory = Callable[[int, int], nn.Module]


def harmonic_links(layer: int) -> list[int]:
    """Input layers of harmonic layer ``layer`` (1-based), most recent first: [L-1, L-2, L-4, ...]."""
    if layer < 1:
        raise ValueError(f"harmonic layers are numbered from 1, got {layer}")
    links = []
    step = 1
    while step <= layer and layer % step == 0:
        links.append(layer - step)
        step *= 2
    return links


def round_even(width: float) -> int:
    """The reference code's rounding: int(int(w + 1) / 2) * 2 (nearest even integer, halves round up)."""
    return int(int(width + 1) / 2) * 2


def harmonic_width(layer: int, growth: int, multiplier: float) -> int:
    """Output width of harmonic layer ``layer``: growth times m once per link beyond the first."""
    width: float = growth
    for _ in harmonic_links(layer)[1:]:
        width *= multiplier  # repeated products, as the reference code, so rounding matches it bit for bit
    return round_even(width)


def harmonic_outputs(n_layers: int, *, keep_input: bool = False) -> list[int]:
    """Layers concatenated into a harmonic block's output: the odd ones and the last (and 0 if kept)."""
    return [i for i in range(n_layers + 1) if (i == 0 and keep_input) or i == n_layers or i % 2 == 1]


def conv_layer(act: type[nn.Module] = nn.ReLU, kernel: int = 3) -> LayerFactory:
    """Plain harmonic layer: one ConvBNAct."""
    return lambda cin, cout: ConvBNAct(cin, cout, kernel, act=act)


class DepthwiseBN(nn.Sequential):
    """Depthwise 3x3 conv + BN without activation (HarDNet-ds layers and downsampling)."""

    def __init__(self, channels: int, stride: int = 1):
        super().__init__(nn.Conv2d(channels, channels, 3, stride, 1, groups=channels, bias=False),
                         nn.BatchNorm2d(channels))


def separable_layer(act: type[nn.Module] = nn.ReLU6) -> LayerFactory:
    """Depthwise-separable harmonic layer: 1x1 ConvBNAct (in -> out), then depthwise 3x3 + BN."""
    return lambda cin, cout: nn.Sequential(ConvBNAct(cin, cout, 1, act=act), DepthwiseBN(cout))


class LinkedBlock(nn.Module):
    """A block whose layer L reads the concatenation of ``links[L-1]`` (indices into [input, layer 1, ...]).

    ``widths[L-1]`` is layer L's width; the output concatenates the layers in ``outputs``, in that order.
    """

    def __init__(self, in_channels: int, links: Sequence[Sequence[int]], widths: Sequence[int],
                 outputs: Sequence[int], make_layer: LayerFactory):
        super().__init__()
        if len(links) != len(widths):
            raise ValueError("one link list and one width per layer")
        channels = [in_channels, *widths]
        self.links = [list(lk) for lk in links]
        self.outputs = list(outputs)
        for layer, lk in enumerate(self.links, start=1):
            if not lk or any(not 0 <= j < layer for j in lk):
                raise ValueError(f"layer {layer} must read earlier layers, got {lk}")
        self.layers = nn.ModuleList(
            make_layer(sum(channels[j] for j in lk), w) for lk, w in zip(self.links, widths))
        self.in_channels = in_channels
        self.widths = list(widths)
        self.out_channels = sum(channels[j] for j in self.outputs)

    def layer_in_channels(self, layer: int) -> int:
        channels = [self.in_channels, *self.widths]
        return sum(channels[j] for j in self.links[layer - 1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for layer, lk in zip(self.layers, self.links):
            inp = feats[lk[0]] if len(lk) == 1 else torch.cat([feats[j] for j in lk], 1)
            feats.append(layer(inp))
        return torch.cat([feats[j] for j in self.outputs], 1)


class HarmonicBlock(LinkedBlock):
    """HarDNet block of ``n_layers`` harmonic layers (plain 3x3 ConvBNAct, or depthwise-separable)."""

    def __init__(self, in_channels: int, growth: int, multiplier: float, n_layers: int, *,
                 depthwise: bool = False, act: type[nn.Module] = nn.ReLU, keep_input: bool = False):
        links = [harmonic_links(L) for L in range(1, n_layers + 1)]
        widths = [harmonic_width(L, growth, multiplier) for L in range(1, n_layers + 1)]
        make_layer = separable_layer(act) if depthwise else conv_layer(act)
        outputs = harmonic_outputs(n_layers, keep_input=keep_input)
        super().__init__(in_channels, links, widths, outputs, make_layer)

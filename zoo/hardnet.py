"""HarDNet (Chao et al., ICCV 2019): harmonic blocks throughout; layer shapes as PingoLH/Pytorch-HarDNet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from zoo._compat import zip_equal
from zoo._registry import register_model
from zoo.card import ModelCard
from zoo.harmonic import DepthwiseBN, HarmonicBlock
from zoo.layers import ConvBNAct

PAPER = "Chao et al., HarDNet: A Low Memory Traffic Network (ICCV 2019)"
SOURCE = "PingoLH/Pytorch-HarDNet"


@dataclass(frozen=True)
class HarDNetSpec:
    stem: tuple[int, int]
    widths: tuple[int, ...]  # transition (1x1) widths, one per block
    growths: tuple[int, ...]
    layers: tuple[int, ...]
    downsample: tuple[bool, ...]  # after the transition of each block
    multiplier: float
    dropout: float
    depthwise: bool = False
    dropout_before_last_transition: float = 0.0  # HarDNet85 only


SPECS: dict[str, HarDNetSpec] = {
    "hardnet68": HarDNetSpec((32, 64), (128, 256, 320, 640, 1024), (14, 16, 20, 40, 160), (8, 16, 16, 16, 4),
                             (True, False, True, True, False), 1.7, 0.1),
    "hardnet85": HarDNetSpec((48, 96), (192, 256, 320, 480, 720, 1280), (24, 24, 28, 36, 48, 256),
                             (8, 16, 16, 16, 16, 4), (True, False, True, False, True, False), 1.7, 0.2,
                             dropout_before_last_transition=0.1),
    "hardnet68ds": HarDNetSpec((32, 64), (128, 256, 320, 640, 1024), (14, 16, 20, 40, 160),
                               (8, 16, 16, 16, 4), (True, False, True, True, False), 1.7, 0.05,
                               depthwise=True),
    "hardnet39ds": HarDNetSpec((24, 48), (96, 320, 640, 1024), (16, 20, 64, 160), (4, 16, 8, 4),
                               (True, True, True, False), 1.6, 0.05, depthwise=True),
}


class HarDNet(nn.Module):
    """Conv-BN-ReLU6 stem, harmonic blocks each followed by a 1x1 transition and optional downsampling."""

    def __init__(self, spec: HarDNetSpec, *, num_classes: int):
        super().__init__()
        act = nn.ReLU6
        w0, w1 = spec.stem
        # ds models: 1x1 second stem conv and depthwise stride-2 convs instead of max pools
        self.stem = nn.Sequential(
            ConvBNAct(3, w0, 3, 2, act=act), ConvBNAct(w0, w1, 1 if spec.depthwise else 3, act=act),
            DepthwiseBN(w1, 2) if spec.depthwise else nn.MaxPool2d(3, 2, 1))
        ch = w1
        stages: list[nn.Module] = []
        last = len(spec.layers) - 1
        for i, (width, growth, n, down) in enumerate(
                zip_equal(spec.widths, spec.growths, spec.layers, spec.downsample)):
            block = HarmonicBlock(ch, growth, spec.multiplier, n, depthwise=spec.depthwise, act=act)
            parts: list[nn.Module] = [block]
            if i == last and spec.dropout_before_last_transition:
                parts.append(nn.Dropout(spec.dropout_before_last_transition))
            parts.append(ConvBNAct(block.out_channels, width, 1, act=act))
            if down:
                parts.append(DepthwiseBN(width, 2) if spec.depthwise else nn.MaxPool2d(2, 2))
            stages.append(nn.Sequential(*parts))
            ch = width
        self.blocks = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()  # a module, as in the reference: torchstat counts its output in Memory
        self.dropout = nn.Dropout(spec.dropout)
        self.classifier = nn.Linear(ch, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.flatten(self.pool(self.blocks(self.stem(x))))
        return self.classifier(self.dropout(x))


def block_widths(spec: HarDNetSpec) -> Sequence[int]:
    """Output widths of the harmonic blocks (before their transitions)."""
    model = HarDNet(spec, num_classes=1)
    widths = []
    for stage in model.blocks:
        block = stage.get_submodule("0")
        assert isinstance(block, HarmonicBlock)
        widths.append(block.out_channels)
    return widths


_NOTES = {
    "hardnet68": "17,565,348 params at head 1000, 16,550,598 at head 10.",
    "hardnet85": "36,670,212 params at head 1000, 35,402,022 at head 10 (ThreshNet's 55 % claim mixes "
                 "heads).",
    "hardnet68ds": "Depthwise-separable HarDNet68: 4,180,602 params at head 1000.",
    "hardnet39ds": "Depthwise-separable HarDNet39: 3,488,228 params at head 1000.",
}


def _register(name: str, spec: HarDNetSpec) -> None:
    card = ModelCard(name=name, family="hardnet", paper=PAPER, num_classes=1000, origin="reference",
                     source=SOURCE, notes=_NOTES[name])

    @register_model(card)
    def build(*, num_classes: int) -> nn.Module:
        return HarDNet(spec, num_classes=num_classes)

    build.__name__ = f"build_{name}"


for _name, _spec in SPECS.items():
    _register(_name, _spec)

"""TripleNet (Ju et al., arXiv 2204.00943 / JRTIP 2023): dense, harmonic and residual layers in one network.

The three layer types give the name: ThreshNet's dense layers in block 1, HarDNet's harmonic blocks in blocks
2-4 and ResNet bottlenecks (expansion 3) in block 5. Layer shapes follow the authors' public code
(RuiyangJu/TripleNet); the model is written from those facts with the zoo's own blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from zoo._registry import register_model
from zoo.card import ModelCard
from zoo.harmonic import HarmonicBlock
from zoo.layers import ConvBNAct
from zoo.threshnet import DenseBlock

PAPER = ("Ju et al., Efficient Convolutional Neural Networks on Raspberry Pi for Image Classification "
         "(arXiv 2204.00943; J. Real-Time Image Processing 2023)")
SOURCE = "RuiyangJu/TripleNet"


@dataclass(frozen=True)
class TripleNetSpec:
    dense_layers: int  # block 1: ThreshNet dense layers (growth 32, 128-wide bottleneck)
    widths: tuple[int, int, int, int]  # 1x1 transition widths after blocks 1-4
    growths: tuple[int, int, int]  # harmonic blocks 2-4 (m = 1.7)
    harmonic_layers: tuple[int, int, int]
    pools: tuple[bool, bool, bool, bool]  # MaxPool2d(2, 2) after transitions 1-4
    bottlenecks: tuple[int, ...]  # block 5: bottleneck widths p (each outputs 3p)
    multiplier: float = 1.7
    dropout: float = 0.1


_POOLS = (True, False, True, True)
SPECS: dict[str, TripleNetSpec] = {
    "triplenet_s": TripleNetSpec(6, (128, 192, 256, 320), (16, 20, 40), (16, 16, 16), _POOLS, (160, 240)),
    "triplenet_b": TripleNetSpec(6, (128, 192, 256, 320), (16, 20, 40), (16, 16, 16), _POOLS, (160, 240, 360)),
    # The repository's TripleNet_B as of October 2022: wider transitions, deeper blocks, two bottlenecks.
    "triplenet_b_v2": TripleNetSpec(8, (160, 256, 320, 480), (16, 20, 40), (16, 18, 24), _POOLS, (240, 360)),
}


class ResidualBottleneck(nn.Module):
    """1x1 (in -> p) -> 3x3 (p -> p) -> 1x1 (p -> 3p), BN after each, plus a shortcut; ReLU after the sum.

    The shortcut is a 1x1 conv *with bias* + BN whenever the widths differ (always, in TripleNet). The ReLUs are
    functional, as in the reference, so torchstat's leaf-module convention sees the same layers.
    """

    EXPANSION = 3

    def __init__(self, in_ch: int, planes: int):
        super().__init__()
        out_ch = self.EXPANSION * planes
        self.conv1 = ConvBNAct(in_ch, planes, 1, act=None)
        self.conv2 = ConvBNAct(planes, planes, 3, act=None)
        self.conv3 = ConvBNAct(planes, out_ch, 1, act=None)
        self.shortcut: nn.Module = (nn.Identity() if in_ch == out_ch
                                    else ConvBNAct(in_ch, out_ch, 1, bias=True, act=None))
        self.out_channels = out_ch

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.conv1(x))
        out = F.relu(self.conv2(out))
        return F.relu(self.conv3(out) + self.shortcut(x))


class TripleNet(nn.Module):
    """Stem (3x3/2, 3x3, 3x3/2 max pool; ReLU6), dense block, three harmonic blocks, residual bottlenecks, head."""

    def __init__(self, spec: TripleNetSpec, *, num_classes: int):
        super().__init__()
        act = nn.ReLU6
        self.stem = nn.Sequential(ConvBNAct(3, 32, 3, 2, act=act), ConvBNAct(32, 64, 3, act=act),
                                  nn.MaxPool2d(3, 2, 1))
        ch = 64
        stages: list[nn.Module] = []
        for i, width in enumerate(spec.widths):
            block: DenseBlock | HarmonicBlock
            if i == 0:
                block = DenseBlock(ch, spec.dense_layers, 32, 128)
            else:
                block = HarmonicBlock(ch, spec.growths[i - 1], spec.multiplier, spec.harmonic_layers[i - 1],
                                      act=act)
            parts: list[nn.Module] = [block, ConvBNAct(block.out_channels, width, 1, act=act)]
            if spec.pools[i]:
                parts.append(nn.MaxPool2d(2, 2))
            stages.append(nn.Sequential(*parts))
            ch = width
        self.blocks = nn.Sequential(*stages)
        residual: list[ResidualBottleneck] = []
        for planes in spec.bottlenecks:
            residual.append(ResidualBottleneck(ch, planes))
            ch = residual[-1].out_channels
        self.residual = nn.Sequential(*residual)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()  # a module, as in the reference: torchstat counts its output in Memory
        self.dropout = nn.Dropout(spec.dropout)
        self.classifier = nn.Linear(ch, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.residual(self.blocks(self.stem(x)))
        return self.classifier(self.dropout(self.flatten(self.pool(x))))


_FIGURE_NOTE = ("The paper's architecture figure draws the max pools in other places than the code; the layer "
                "shapes and counts here follow the code.")
_CARDS: dict[str, ModelCard] = {
    "triplenet_s": ModelCard(
        name="triplenet_s", family="triplenet", paper=PAPER, num_classes=1000, origin="reference",
        source=f"{SOURCE} (TripleNet-S, code of April 2022)", trained_input_size=(3, 32, 32),
        notes="9,679,224 params at head 1000 (README 9.67 M, truncated), 8,965,434 at head 10. Blocks: 6 dense "
              "layers, harmonic k=16/20/40 with 16 layers each, bottlenecks 320->160->480 and 480->240->720. "
              + _FIGURE_NOTE),
    "triplenet_b": ModelCard(
        name="triplenet_b", family="triplenet", paper=PAPER, num_classes=1000, origin="reference",
        source=f"{SOURCE} (TripleNet-B, code of April 2022)", trained_input_size=(3, 32, 32),
        notes="12,638,064 params at head 1000 (README 12.63 M), 11,567,874 at head 10. TripleNet-S plus a third "
              "bottleneck 720->360->1080. " + _FIGURE_NOTE),
    "triplenet_b_v2": ModelCard(
        name="triplenet_b_v2", family="triplenet", paper=PAPER, num_classes=10, origin="reference",
        source=f"{SOURCE} (TripleNet_B.py as of October 2022)", trained_input_size=(3, 32, 32),
        notes="The repository's later TripleNet_B, a different and larger network that matches no published row: "
              "8 dense layers, transitions 160/256/320/480, harmonic k=16/20/40 with 16/18/24 layers, "
              "bottlenecks 480->240->720 and 720->360->1080. 14,142,526 params at head 10 (its code's head), "
              "15,212,716 at head 1000. For the published TripleNet-B use triplenet_b."),
}


def _register(name: str, spec: TripleNetSpec) -> None:
    @register_model(_CARDS[name])
    def build(*, num_classes: int) -> nn.Module:
        return TripleNet(spec, num_classes=num_classes)

    build.__name__ = f"build_{name}"


for _name, _spec in SPECS.items():
    _register(_name, _spec)

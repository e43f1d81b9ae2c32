"""ThreshNet (Ju et al., IEEE Access 2022): dense blocks below the threshold, harmonic blocks above it.

ThreshNet79/95 and the Table II ablations follow the released code (exact counts); ThreshNet28 has no public
code and is the configuration chosen by ``scripts/search_threshnet28.py`` (see its card).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from zoo._compat import zip_equal
from zoo._registry import register_model
from zoo.card import ModelCard
from zoo.harmonic import HarmonicBlock
from zoo.layers import ConvBNAct

PAPER = ("Ju et al., ThreshNet: An Efficient DenseNet Using Threshold Mechanism to Reduce Connections "
         "(IEEE Access 2022)")
SOURCE = "ThreshNet authors' released code (ThreshNet79/95, github.com/RuiyangJu)"


@dataclass(frozen=True)
class Stage:
    """One Thresh-Block and the transition after it."""

    kind: Literal["dense", "harmonic"]
    layers: int
    growth: int
    width: int  # transition (1x1 ConvBNAct) output width
    pool: bool  # MaxPool2d(2, 2) after the transition
    multiplier: float = 1.7  # harmonic blocks only
    bottleneck: int = 128  # dense blocks only: width of the 1x1 bottleneck


class DenseLayer(nn.Sequential):
    """Pre-activation bottleneck: BN-ReLU-Conv1x1(in -> bottleneck)-BN-ReLU-Conv3x3(bottleneck -> growth)."""

    def __init__(self, in_channels: int, growth: int, bottleneck: int):
        super().__init__(
            nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True),
            nn.Conv2d(in_channels, bottleneck, 1, bias=False),
            nn.BatchNorm2d(bottleneck), nn.ReLU(inplace=True),
            nn.Conv2d(bottleneck, growth, 3, padding=1, bias=False),
        )


class DenseBlock(nn.Module):
    """DenseNet block: each layer appends ``growth`` channels to everything before it (input included)."""

    def __init__(self, in_channels: int, n_layers: int, growth: int, bottleneck: int = 128):
        super().__init__()
        self.layers = nn.ModuleList(
            DenseLayer(in_channels + i * growth, growth, bottleneck) for i in range(n_layers))
        self.out_channels = in_channels + n_layers * growth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.cat([x, layer(x)], 1)
        return x


class ThreshNet(nn.Module):
    """Stem (two 3x3 ConvBNAct + 3x3/2 max pool), Thresh-Blocks with transitions, global pool, Linear."""

    def __init__(self, stages: Sequence[Stage], *, num_classes: int, stem: tuple[int, int] = (32, 64)):
        super().__init__()
        self.stem = nn.Sequential(ConvBNAct(3, stem[0], 3, 2), ConvBNAct(stem[0], stem[1], 3),
                                  nn.MaxPool2d(3, 2, 1))
        ch = stem[1]
        blocks: list[nn.Module] = []
        for s in stages:
            block: DenseBlock | HarmonicBlock
            if s.kind == "dense":
                block = DenseBlock(ch, s.layers, s.growth, s.bottleneck)
            else:
                block = HarmonicBlock(ch, s.growth, s.multiplier, s.layers)
            transition: list[nn.Module] = [ConvBNAct(block.out_channels, s.width, 1)]
            if s.pool:
                transition.append(nn.MaxPool2d(2, 2))
            blocks.append(nn.Sequential(block, *transition))
            ch = s.width
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)  # a module, as in the reference code: torchstat counts its output in Memory
        self.classifier = nn.Linear(ch, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.pool(self.blocks(self.stem(x)))))


_WIDTHS = (128, 192, 288, 480, 960)
_POOLS = (True, True, False, True, False)


def threshnet_stages(kinds: Sequence[str], layers: Sequence[int], growths: Sequence[int],
                     widths: Sequence[int] = _WIDTHS, pools: Sequence[bool] = _POOLS) -> list[Stage]:
    return [Stage(k, n, g, w, p) for k, n, g, w, p in zip_equal(kinds, layers, growths, widths, pools)]


def threshnet79_stages() -> list[Stage]:
    return threshnet_stages(["dense"] * 3 + ["harmonic"] * 2, (6, 8, 12, 16, 4), (32, 32, 32, 40, 160))


def threshnet95_stages() -> list[Stage]:
    return threshnet_stages(["dense"] * 3 + ["harmonic"] * 2, (6, 12, 16, 16, 4), (32, 32, 32, 40, 160),
                            widths=(128, 256, 384, 480, 960))


# Table II: the threshold moves; ThreshNet79's depths, widths and pools stay, growth rates per the table.
ABLATIONS: dict[str, tuple[int, tuple[int, ...]]] = {  # variant -> (number of dense blocks, growth rates)
    "a": (1, (32, 16, 20, 40, 160)),
    "b": (2, (32, 32, 20, 40, 160)),
    "c": (3, (32, 32, 32, 40, 160)),
    "d": (4, (32, 32, 32, 32, 160)),
}


def ablation_stages(variant: str) -> list[Stage]:
    n_dense, growths = ABLATIONS[variant]
    return threshnet_stages(["dense"] * n_dense + ["harmonic"] * (5 - n_dense), (6, 8, 12, 16, 4), growths)


@register_model(ModelCard(
    name="threshnet79", family="threshnet", paper=PAPER, num_classes=10, origin="reference", source=SOURCE,
    trained_input_size=(3, 32, 32),
    notes="14,371,858 params at head 10 (15,323,248 at 1000 = ThresholdNet v1). Table III's 14.31 M is a "
          "misprint.",
))
def build_threshnet79(*, num_classes: int) -> nn.Module:
    return ThreshNet(threshnet79_stages(), num_classes=num_classes)


@register_model(ModelCard(
    name="threshnet95", family="threshnet", paper=PAPER, num_classes=10, origin="reference", source=SOURCE,
    trained_input_size=(3, 32, 32),
    notes="16,189,202 params at head 10 (17,140,592 at 1000 = ThresholdNet v2).",
))
def build_threshnet95(*, num_classes: int) -> nn.Module:
    return ThreshNet(threshnet95_stages(), num_classes=num_classes)


def _register_ablation(variant: str, n_dense: int, growths: tuple[int, ...]) -> None:
    card = ModelCard(
        name=f"threshnet79_{variant}", family="threshnet", paper=PAPER, num_classes=10, origin="reference",
        source=SOURCE + "; Table II ablation: ThreshNet79 depths, widths and pools, threshold moved",
        trained_input_size=(3, 32, 32),
        notes=f"{n_dense} dense block(s) then harmonic (m=1.7); growth rates {growths}."
              + (" Same architecture as threshnet79." if variant == "c" else ""),
    )

    @register_model(card)
    def build(*, num_classes: int) -> nn.Module:
        return ThreshNet(ablation_stages(variant), num_classes=num_classes)

    build.__name__ = f"build_threshnet79_{variant}"


for _v, (_n, _g) in ABLATIONS.items():
    _register_ablation(_v, _n, _g)


# ThreshNet28: the winner of scripts/search_threshnet28.py (rerun it to reproduce; it prints this dict).
THRESHNET28: dict[str, Any] = {
    "kinds": ("dense", "dense", "harmonic", "harmonic", "harmonic"),
    "layers": (3, 3, 2, 2, 5),
    "growths": (32, 32, 32, 56, 160),
    "widths": "hardnet68",
    "pools": (False, True, True, True, False),
}
THRESHNET28_WIDTHS = (128, 256, 320, 640, 1024)  # the search's "hardnet68" transition widths
# Relative error against Table III (torchstat at 3x224x224, head 10), as the search script reports it.
THRESHNET28_RESIDUALS = {"params": -0.0031, "flops": -0.0121, "madd": -0.0133, "memory_mb": 0.0133,
                         "memrw_mb": -0.0115}


def threshnet28_stages() -> list[Stage]:
    c = THRESHNET28
    return threshnet_stages(c["kinds"], c["layers"], c["growths"], THRESHNET28_WIDTHS, c["pools"])


@register_model(ModelCard(
    name="threshnet28", family="threshnet", paper=PAPER, num_classes=10, origin="reconstructed",
    source="ThreshNet template (zoo.threshnet.ThreshNet) + scripts/search_threshnet28.py; no public code",
    trained_input_size=(3, 32, 32),
    choices=(
        "28 conv layers (FC excluded): 2 stem + 5 transitions + 21 in blocks (dense layer = 2 convs)",
        "searched: threshold position, layer counts (>= 2 per block), harmonic growth per block, "
        "transition widths among ThreshNet79/95/HarDNet68 sets, pooling after any of transitions 1-4; "
        "fixed: stem, dense growth 32 with 128 bottleneck, m = 1.7; objective: worst relative error over "
        "the five Table III figures",
        "blocks: dense 3, dense 3, harmonic 2 (k=32), harmonic 2 (k=56), harmonic 5 (k=160), m = 1.7",
        "transition widths 128, 256, 320, 640, 1024 (HarDNet68's)",
        "2x2 max pool after transitions 2, 3 and 4 (block 1 and 2 both at 56x56 for a 224 input)",
        "stem, dense layers, harmonic layers and head as ThreshNet79",
    ),
    residuals=THRESHNET28_RESIDUALS,
    notes="Reconstruction: the paper gives only Table III's complexity figures (10.18 M, 2.28 G FLOPs, "
          "4.55 G MAdd, 83.26 MB, 221.05 MB); with ThreshNet79's pooling pattern kept, the best template "
          "member is 18.8 % off (memory and FLOPs cannot both be met).",
))
def build_threshnet28(*, num_classes: int) -> nn.Module:
    return ThreshNet(threshnet28_stages(), num_classes=num_classes)

"""ThresholdNet (Ju et al., arXiv 2108.12604): the implemented block-threshold networks v1/v2 and the
never-implemented layer-threshold reconstructions ThresholdNet-ab / -bc.

v1 and v2 are ThreshNet79 / ThreshNet95 with a 1000-way head (Table VIII's figures). The layer-threshold block
copies the paper's connection Tables I-III as data (no simple rule reproduces all three: see ``CONNECTIONS``).
"""

from __future__ import annotations

from typing import Literal

from torch import nn

from zoo._registry import register_model
from zoo.card import ModelCard
from zoo.harmonic import LinkedBlock, conv_layer, round_even
from zoo.layers import ConvBNAct
from zoo.threshnet import ThreshNet, threshnet79_stages, threshnet95_stages

PAPER = "Ju et al., ThresholdNet: threshold-based pruning of DenseNet connections (arXiv 2108.12604)"


def _rows(text: str) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(j) for j in row.split("-")) for row in text.split())


# Paper Tables I-III: threshold -> inputs of layers 1..16 (0 = block input), in the tables' order.
# Below the threshold the "sparse-dense" rule keeps the nearest and farthest layers; for threshold 4 the table
# keeps layer 4 fully dense (0-1-2-3), one connection more than that rule, hence 39 connections against the
# 38 the text states. Tables II and III (51 and 74) agree with the text.
CONNECTIONS: dict[int, tuple[tuple[int, ...], ...]] = {
    4: _rows("0 0-1 0-1-2 0-1-2-3 4 4-5 6 0-4-6-7 8 2-6-8-9 10 4-8-10-11 12 6-10-12-13 14 0-8-12-14-15"),
    8: _rows("0 0-1 0-1-2 0-1-2-3 0-1-2-3-4 0-1-2-4-5 0-1-2-5-6 0-1-2-6-7 "
             "8 2-6-8-9 10 4-8-10-11 12 6-10-12-13 14 0-8-12-14-15"),
    12: _rows("0 0-1 0-1-2 0-1-2-3 0-1-2-3-4 0-1-2-3-4-5 0-1-2-3-4-5-6 0-1-2-3-5-6-7 0-1-2-3-6-7-8 "
              "0-1-2-3-7-8-9 0-1-2-3-8-9-10 0-1-2-3-9-10-11 12 6-10-12-13 14 0-8-12-14-15"),
}
TEXT_CONNECTION_COUNTS = {4: 38, 8: 51, 12: 74}  # as the paper's text states them


def threshold_links(threshold: int, below: Literal["sparse", "dense"] = "sparse") -> list[list[int]]:
    """Inputs of each layer of a 16-layer threshold block; ``below="dense"`` reads every earlier layer up to
    the threshold (ThresholdNet-ab) instead of the table's sparse-dense pattern (ThresholdNet-bc)."""
    links = [list(row) for row in CONNECTIONS[threshold]]
    if below == "dense":
        for layer in range(1, threshold + 1):
            links[layer - 1] = list(range(layer))
    return links


class LayerThresholdBlock(LinkedBlock):
    """16 ConvBNAct(3) layers; layers up to ``threshold`` have width k and all enter the block output; above
    it, even layers have width k*m (rounded even as HarDNet) and only odd layers and the last are output.
    The block input is not part of the output (as in the harmonic blocks it replaces)."""

    N_LAYERS = 16

    def __init__(self, in_channels: int, growth: int = 40, multiplier: float = 1.7, *, threshold: int = 8,
                 below: Literal["sparse", "dense"] = "sparse"):
        if threshold not in CONNECTIONS:
            raise ValueError(f"threshold must be one of {sorted(CONNECTIONS)}, got {threshold}")
        n = self.N_LAYERS
        wide = round_even(growth * multiplier)
        widths = [growth if L <= threshold or L % 2 else wide for L in range(1, n + 1)]
        outputs = [L for L in range(1, n + 1) if L <= threshold or L % 2 or L == n]
        super().__init__(in_channels, threshold_links(threshold, below), widths, outputs, conv_layer(nn.ReLU))
        self.threshold = threshold


def thresholdnet_layer_threshold(*, num_classes: int, below: Literal["sparse", "dense"]) -> ThreshNet:
    """ThresholdNet v1 with its 16-layer block 4 (k=40, m=1.7) replaced by a threshold-8 block."""
    model = ThreshNet(threshnet79_stages(), num_classes=num_classes)
    stage = model.blocks[3]  # swap block 4 and its transition's input width; everything else stays v1
    old, conv = stage.get_submodule("0"), stage.get_submodule("1.0")
    assert isinstance(stage, nn.Sequential) and isinstance(old, LinkedBlock) and isinstance(conv, nn.Conv2d)
    block = LayerThresholdBlock(old.in_channels, 40, 1.7, threshold=8, below=below)
    stage[0] = block
    stage[1] = ConvBNAct(block.out_channels, conv.out_channels, 1)
    return model


@register_model(ModelCard(
    name="thresholdnet_v1", family="thresholdnet", paper=PAPER, num_classes=1000, origin="reference",
    source="ThreshNet authors' released code: ThreshNet79 with a 1000-way head",
    trained_input_size=(3, 32, 32),
    notes="Same architecture as threshnet79; 15,323,248 params at head 1000.",
))
def build_thresholdnet_v1(*, num_classes: int) -> nn.Module:
    return ThreshNet(threshnet79_stages(), num_classes=num_classes)


@register_model(ModelCard(
    name="thresholdnet_v2", family="thresholdnet", paper=PAPER, num_classes=1000, origin="reference",
    source="ThreshNet authors' released code: ThreshNet95 with a 1000-way head",
    trained_input_size=(3, 32, 32),
    notes="Same architecture as threshnet95; 17,140,592 params at head 1000.",
))
def build_thresholdnet_v2(*, num_classes: int) -> nn.Module:
    return ThreshNet(threshnet95_stages(), num_classes=num_classes)


_COMMON_CHOICES = (
    "host network: ThresholdNet v1 (= ThreshNet79), its 16-layer block 4 (k=40, m=1.7) replaced, "
    "transition 4 still 1x1 ConvBNAct -> 480",
    "threshold 8 (the paper's choice for -ab and -bc); layers 1-8 are below it, 9-16 above",
    "every layer is ConvBNAct(3x3) with ReLU (the paper's Conv-BN-ReLU, no bottleneck)",
    "widths: k=40 up to the threshold; above it odd layers k, even layers k*m = 68 (rounded even)",
    "block output: all layers up to the threshold, then odd layers and the last; block input excluded",
    "concatenation order of a layer's inputs as listed in the paper's table (ascending)",
)
_RESIDUAL_NOTE = ("No complexity was published for these (never implemented by the authors); the residual "
                  "records that the connection pattern matches the paper's Table II exactly.")


@register_model(ModelCard(
    name="thresholdnet_ab", family="thresholdnet", paper=PAPER, num_classes=1000, origin="reconstructed",
    source="paper text (Sec. III.B, Fig. 3a) and Table II connections",
    choices=(*_COMMON_CHOICES, "below the threshold: fully dense (layer L reads 0..L-1), 57 connections"),
    residuals={"connections_vs_table": 0.0},
    notes=_RESIDUAL_NOTE + " Above the threshold the connections are Table II's rows 9-16. The text says 38 "
          "connections for threshold 4 while its Table I sums to 39 (layer 4 kept fully dense).",
))
def build_thresholdnet_ab(*, num_classes: int) -> nn.Module:
    return thresholdnet_layer_threshold(num_classes=num_classes, below="dense")


@register_model(ModelCard(
    name="thresholdnet_bc", family="thresholdnet", paper=PAPER, num_classes=1000, origin="reconstructed",
    source="paper text (Sec. III.B, Fig. 3b) and Table II connections",
    choices=(*_COMMON_CHOICES, "below the threshold: Table II's sparse-dense rows (nearest and farthest "
             "kept), 51 connections"),
    residuals={"connections_vs_table": 0.0},
    notes=_RESIDUAL_NOTE + " The text says 38 connections for threshold 4 while its Table I sums to 39 "
          "(layer 4 kept fully dense).",
))
def build_thresholdnet_bc(*, num_classes: int) -> nn.Module:
    return thresholdnet_layer_threshold(num_classes=num_classes, below="sparse")

"""DP-Net and its two ablations (Zhao and Wang, KSII TIIS 2022), reconstructed: no public code exists.

DP-Net is MobileNetV3-Large (paper Table 1) with two new blocks:

- DP-block A (Fig. 4) replaces every residual bottleneck: the input is split into two halves, one per path;
  inside a path one quarter of the input goes through 1x1 expand -> depthwise (3x3 in path 1, 5x5 in path 2)
  -> 1x1 project while the other quarter is passed on unchanged (partial residual); both paths are
  concatenated and a pointwise transition layer fuses them.
- DP-block B (Fig. 5) replaces the other bottlenecks: the same two paths on halves of the input, without the
  passed-on quarter, each projecting to half the output width; concatenation; transition.

D-MobileNetV3 keeps only the dual paths (B-style blocks everywhere, with MobileNetV3's residual additions) and
P-MobileNetV3 keeps only the partial residual (single-path MobileNetV3 bottlenecks, residual ones on half the
channels). The MobileNetV3 baseline is torchvision's ``mobilenet_v3_large``. Every choice the paper leaves
open is listed in the ``*_CHOICES`` tuples and in the cards; the residuals against the published figures are
measured by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from zoo._registry import register_model
from zoo.card import ModelCard
from zoo.layers import ConvBNAct, SqueezeExcitation

PAPER = "Zhao and Wang, A new lightweight network based on MobileNetV3 (KSII TIIS 16(1), 2022)"
PATH_KERNELS = (3, 5)  # path 1 and path 2 (padding 1 and 2)


def make_divisible(v: float, divisor: int = 8) -> int:
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


def _act(nl: str) -> type[nn.Module]:
    return {"RE": nn.ReLU, "HS": nn.Hardswish}[nl]


class InvertedBottleneck(nn.Module):
    """MobileNetV3 bottleneck body, no residual: [1x1 expand] -> depthwise -> [SE] -> 1x1 linear projection.

    The expand conv is left out when the expansion width equals the input width, as in MobileNetV3.
    """

    def __init__(self, in_ch: int, exp: int, out_ch: int, kernel: int, stride: int, *, se: bool, nl: str):
        super().__init__()
        act = _act(nl)
        layers: list[nn.Module] = []
        if exp != in_ch:
            layers.append(ConvBNAct(in_ch, exp, 1, act=act))
        layers.append(ConvBNAct(exp, exp, kernel, stride, groups=exp, act=act))
        if se:
            layers.append(SqueezeExcitation(exp, make_divisible(exp / 4), gate=nn.Hardsigmoid))
        layers.append(ConvBNAct(exp, out_ch, 1, act=None))
        self.body = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)


class PartialPath(nn.Module):
    """Partial residual: the first ``work`` channels go through ``body``, the rest are passed on unchanged."""

    def __init__(self, work: int, body: nn.Module):
        super().__init__()
        self.work = work
        self.body = body

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.body(x[:, :self.work]), x[:, self.work:]], 1)


class DualPath(nn.Module):
    """Split the input into two equal halves, one per path; concatenate the path outputs."""

    def __init__(self, in_ch: int, path1: nn.Module, path2: nn.Module):
        super().__init__()
        self.split = in_ch // 2  # not `half`: that would hide nn.Module.half()
        self.path1, self.path2 = path1, path2

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.path1(x[:, :self.split]), self.path2(x[:, self.split:])], 1)


class DPBlockA(nn.Module):
    """DP-block A (Fig. 4), stride 1, ``channels`` in and out.

    Each path transforms a quarter of the input with expansion ``exp / 4`` (so the expansion ratio of
    MobileNetV3 is kept and each depthwise conv has exp/4 channels, as in the paper's Eq. 3) and passes the
    other quarter on; a pointwise transition (conv + BN + activation) fuses the concatenated paths.
    """

    def __init__(self, channels: int, exp: int, *, se: bool, nl: str):
        super().__init__()
        if channels % 4 or exp % 4:
            raise ValueError(f"DP-block A needs channels and expansion divisible by 4, got {channels}, {exp}")
        q, e = channels // 4, exp // 4
        paths = [PartialPath(q, InvertedBottleneck(q, e, q, k, 1, se=se, nl=nl)) for k in PATH_KERNELS]
        self.paths = DualPath(channels, *paths)
        self.transition = ConvBNAct(channels, channels, 1, act=_act(nl))

    def forward(self, x: Tensor) -> Tensor:
        return self.transition(self.paths(x))


class DPBlockB(nn.Module):
    """DP-block B (Fig. 5): each path takes half the input, expansion ``exp / 2``, depthwise with the block's
    stride, projection to half the output; concatenation; pointwise transition.

    ``residual=True`` adds the block input after the transition (stride 1, equal widths only): that is
    D-MobileNetV3's block where MobileNetV3 has a residual bottleneck. DP-Net never uses it.
    """

    def __init__(self, in_ch: int, exp: int, out_ch: int, stride: int, *, se: bool, nl: str,
                 residual: bool = False):
        super().__init__()
        if in_ch % 2 or exp % 2 or out_ch % 2:
            raise ValueError(f"DP-block B needs even widths, got {in_ch}, {exp}, {out_ch}")
        if residual and (stride != 1 or in_ch != out_ch):
            raise ValueError("a residual addition needs stride 1 and equal input and output widths")
        paths = [InvertedBottleneck(in_ch // 2, exp // 2, out_ch // 2, k, stride, se=se, nl=nl)
                 for k in PATH_KERNELS]
        self.paths = DualPath(in_ch, *paths)
        self.transition = ConvBNAct(out_ch, out_ch, 1, act=_act(nl))
        self.residual = residual

    def forward(self, x: Tensor) -> Tensor:
        out = self.transition(self.paths(x))
        return out + x if self.residual else out


class PartialBottleneck(nn.Module):
    """P-MobileNetV3's residual block: half the channels through a MobileNetV3 bottleneck (expansion exp / 2,
    the row's own kernel), the other half passed on, then a pointwise transition."""

    def __init__(self, channels: int, exp: int, kernel: int, *, se: bool, nl: str):
        super().__init__()
        h = channels // 2
        self.path = PartialPath(h, InvertedBottleneck(h, exp // 2, h, kernel, 1, se=se, nl=nl))
        self.transition = ConvBNAct(channels, channels, 1, act=_act(nl))

    def forward(self, x: Tensor) -> Tensor:
        return self.transition(self.path(x))


@dataclass(frozen=True)
class Row:
    """One bottleneck row of MobileNetV3-Large / DP-Net Table 1."""

    in_ch: int
    kernel: int  # MobileNetV3's kernel (the dual paths use 3 and 5 instead)
    exp: int
    out: int
    se: bool
    nl: str
    stride: int

    @property
    def residual(self) -> bool:  # DP-block A in Table 1
        return self.stride == 1 and self.in_ch == self.out


ROWS = (
    Row(16, 3, 16, 16, False, "RE", 1),
    Row(16, 3, 64, 24, False, "RE", 2),
    Row(24, 3, 72, 24, False, "RE", 1),
    Row(24, 5, 72, 40, True, "RE", 2),
    Row(40, 5, 120, 40, True, "RE", 1),
    Row(40, 5, 120, 40, True, "RE", 1),
    Row(40, 3, 240, 80, False, "HS", 2),
    Row(80, 3, 200, 80, False, "HS", 1),
    Row(80, 3, 184, 80, False, "HS", 1),
    Row(80, 3, 184, 80, False, "HS", 1),
    Row(80, 3, 480, 112, True, "HS", 1),
    Row(112, 3, 672, 112, True, "HS", 1),
    Row(112, 5, 672, 160, True, "HS", 2),
    Row(160, 5, 960, 160, True, "HS", 1),
    Row(160, 5, 960, 160, True, "HS", 1),
)


def _dpnet_block(r: Row) -> nn.Module:
    if r.residual:
        return DPBlockA(r.in_ch, r.exp, se=r.se, nl=r.nl)
    return DPBlockB(r.in_ch, r.exp, r.out, r.stride, se=r.se, nl=r.nl)


def _d_block(r: Row) -> nn.Module:
    return DPBlockB(r.in_ch, r.exp, r.out, r.stride, se=r.se, nl=r.nl, residual=r.residual)


def _p_block(r: Row) -> nn.Module:
    if r.residual:
        return PartialBottleneck(r.in_ch, r.exp, r.kernel, se=r.se, nl=r.nl)
    return InvertedBottleneck(r.in_ch, r.exp, r.out, r.kernel, r.stride, se=r.se, nl=r.nl)


class MobileNetV3Like(nn.Module):
    """Table 1's stem and head around a sequence of blocks built from the MobileNetV3-Large rows."""

    def __init__(self, blocks: list[nn.Module], num_classes: int, dropout: float = 0.2, *,
                 cifar_stem: bool = False):
        super().__init__()
        # cifar_stem: stride-1 stem for 32x32 inputs (the ``_32`` variants, zoo.stem32)
        self.stem = ConvBNAct(3, 16, 3, 1 if cifar_stem else 2, act=nn.Hardswish)
        self.blocks = nn.Sequential(*blocks)
        self.last_conv = ConvBNAct(160, 960, 1, act=nn.Hardswish)
        self.pool = nn.AdaptiveAvgPool2d(1)
        # "Conv2d 1x1, NBN": no batch norm, so the convs keep their bias.
        self.head = nn.Sequential(nn.Conv2d(960, 1280, 1), nn.Hardswish(inplace=True), nn.Dropout(dropout))
        self.classifier = nn.Conv2d(1280, num_classes, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool(self.last_conv(self.blocks(self.stem(x))))
        return self.classifier(self.head(x)).flatten(1)


SHARED_CHOICES = (
    "stem and head as Table 1 / MobileNetV3-Large: 3x3 stride-2 conv + BN + h-swish (16), 1x1 conv "
    "160->960 + BN + h-swish, global average pool (adaptive instead of 7x7), 1x1 conv 960->1280 with bias "
    "and no BN + h-swish, dropout 0.2 (the paper's training setting), 1x1 conv 1280->k with bias as the "
    "classifier",
    "SE use and nonlinearity per row from Table 1; MobileNetV3-Large's own kernels where a single path "
    "remains (P-MobileNetV3)",
    "SE as in torchvision's MobileNetV3: on the expanded maps after the depthwise conv, squeeze width "
    "make_divisible(expansion / 4, 8), ReLU and hard-sigmoid, 1x1 convs with bias; every path of an SE "
    "row has its own SE",
    "inside a path: 1x1 expand + BN + NL, depthwise + BN + NL, [SE], 1x1 projection + BN without activation; "
    "the expand conv is omitted when the expansion equals the path input (first row)",
    "splits are equal halves (and quarters) by channel position: path 1 (3x3) takes the first half; inside a "
    "path the first part is transformed and the rest is passed on, concatenated after the transformed part",
    "transition layer = 1x1 conv (no bias) + BN + the row's NL, as P-ResNet's Conv-BN-ReLU transition "
    "(P-ResNet A style: one after every block)",
    "batch norm with PyTorch defaults (eps 1e-5, momentum 0.1); torchvision's MobileNetV3 uses 1e-3 / 0.01",
)
DPNET_CHOICES = SHARED_CHOICES + (
    "DP-block A (residual rows): each path transforms a quarter of the input with expansion exp/4 (keeps "
    "the row's expansion ratio; Eq. 3's depthwise width C_in/4) and projects back to a quarter; the other "
    "quarter of the path is passed on; no element-wise addition anywhere",
    "DP-block B (other rows): each path transforms half the input with expansion exp/2, both depthwise convs "
    "carry the row's stride, each projects to out/2",
)
D_CHOICES = SHARED_CHOICES + (
    "dual path only: every row is a DP-block B (halves, expansion exp/2 per path, projection to out/2, "
    "transition); rows where MobileNetV3 has a residual add the block input after the transition",
)
P_CHOICES = SHARED_CHOICES + (
    "partial residual only: rows where MobileNetV3 has a residual become half-width bottlenecks (expansion "
    "exp/2, the row's own kernel) on the first half of the channels, the second half passed on, "
    "concatenated, then a transition; the other rows are unchanged single-path MobileNetV3 bottlenecks",
)



def _card(name: str, choices: tuple[str, ...], residuals: dict[str, float],
          notes: str) -> ModelCard:
    return ModelCard(
        name=name, family="dpnet", paper=PAPER, num_classes=1000, origin="reconstructed",
        source="reconstructed from the DP-Net paper text (section 3.2, Figs. 4-5, Table 1); no public code. "
               "Baseline: torchvision mobilenet_v3_large",
        classifier="classifier", choices=choices, residuals=residuals, notes=notes,
    )


# Residuals (relative error against the published figures), measured by tests/test_dpnet.py: params at head
# 1000; flops_224 in torchstat 0.0.7's convention at 224x224 (it reproduces the paper's P-ResNet, MobileNetV2,
# GhostNet and ResNet FLOPs to the printed digit). The MobileNetV3 baseline (torchvision, 5,483,032) is 6.5 %
# above the printed 5.15 M; the relative savings are close to the paper's (see the notes).
@register_model(_card(
    "dpnet", DPNET_CHOICES, {"params": 0.0193, "flops_224": -0.0149},
    "Published: 3.41 M params, 118 M FLOPs at 224x224 (ImageNet). This model: 3,475,832 params, 116.2 M "
    "FLOPs (torchstat convention; 106.2 M conv and linear multiply-accumulates); 63.4 % of torchvision's "
    "MobileNetV3-Large params (paper: 66.2 % of 5.15 M)."))
def dpnet(*, num_classes: int, dropout: float = 0.2, cifar_stem: bool = False) -> nn.Module:
    return MobileNetV3Like([_dpnet_block(r) for r in ROWS], num_classes, dropout, cifar_stem=cifar_stem)


@register_model(_card(
    "d_mobilenetv3", D_CHOICES, {"params": 0.0438},
    "Published: 4.10 M params (Table 4). This model: 4,279,592, 78.1 % of torchvision's MobileNetV3-Large "
    "(paper: 79.6 % of 5.15 M)."))
def d_mobilenetv3(*, num_classes: int, dropout: float = 0.2, cifar_stem: bool = False) -> nn.Module:
    return MobileNetV3Like([_d_block(r) for r in ROWS], num_classes, dropout, cifar_stem=cifar_stem)


@register_model(_card(
    "p_mobilenetv3", P_CHOICES, {"params": -0.0122},
    "Published: 4.05 M params (Table 4). This model: 4,000,680, 73.0 % of torchvision's MobileNetV3-Large "
    "(paper: 78.6 % of 5.15 M)."))
def p_mobilenetv3(*, num_classes: int, dropout: float = 0.2, cifar_stem: bool = False) -> nn.Module:
    return MobileNetV3Like([_p_block(r) for r in ROWS], num_classes, dropout, cifar_stem=cifar_stem)

"""The CIFAR re-implementations the ThreshNet paper actually measured.

Five come from a popular CIFAR-100 training repository and keep its 100-way head; EfficientNet-B0 comes from a
CIFAR-10 repository (10-way head). Their stems keep full resolution (stride 1) because they were written for
32x32 images; the published complexity figures are torchstat at 224x224 with those heads. Quirks of the
reference code are kept on purpose, since they change the counts: see each builder.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from zoo._registry import register_model
from zoo.card import ModelCard
from zoo.layers import ConvBNAct

_SOURCE_100 = ("weiaicunzai/pytorch-cifar100 (the CIFAR-100 training repository the ThreshNet authors used), "
               "re-written from its layer description")
_SOURCE_10 = "kuangliu/pytorch-cifar models/efficientnet.py (CIFAR-10), re-written from its layer description"


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class ChannelShuffle(nn.Module):
    """Module form, as in the ShuffleNet v1 reference: torchstat counts its output in Memory."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x: Tensor) -> Tensor:
        return channel_shuffle(x, self.groups)


def _card(name: str, *, paper: str, head: int, classifier: str, source: str = _SOURCE_100,
          notes: str = "") -> ModelCard:
    trained = (f"Trained by the ThreshNet authors on 32x32 CIFAR-10 / SVHN with this {head}-way head "
               "left in place.")
    return ModelCard(
        name=name, family="cifar", paper=paper, num_classes=head, origin="reference", source=source,
        input_size=(3, 224, 224), trained_input_size=(3, 32, 32), classifier=classifier,
        notes=f"{trained} Published complexity: torchstat at 3x224x224 with head {head}. {notes}".strip(),
    )


# --- SqueezeNet ---------------------------------------------------------------------------------------------

class Fire(nn.Module):
    """1x1 squeeze, then 1x1 and 3x3 expands (half the output each), concatenated. Convs have bias + BN."""

    def __init__(self, in_ch: int, out_ch: int, squeeze: int):
        super().__init__()
        self.squeeze = ConvBNAct(in_ch, squeeze, 1, bias=True)
        self.expand1 = ConvBNAct(squeeze, out_ch // 2, 1, bias=True)
        self.expand3 = ConvBNAct(squeeze, out_ch // 2, 3, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        s = self.squeeze(x)
        return torch.cat([self.expand1(s), self.expand3(s)], 1)


class SqueezeNetCifar(nn.Module):
    def __init__(self, num_classes: int):
        super().__init__()
        self.stem = nn.Sequential(ConvBNAct(3, 96, 3, bias=True), nn.MaxPool2d(2, 2))
        specs = [(96, 128, 16), (128, 128, 16), (128, 256, 32), (256, 256, 32),
                 (256, 384, 48), (384, 384, 48), (384, 512, 64), (512, 512, 64)]
        self.fires = nn.ModuleList(Fire(*s) for s in specs)  # fire2 .. fire9
        self.pool = nn.MaxPool2d(2, 2)  # one module, used after fire4 and after fire8 as in the reference
        self.classifier = nn.Conv2d(512, num_classes, 1)
        self.avgpool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: Tensor) -> Tensor:
        f2, f3, f4, f5, f6, f7, f8, f9 = self.fires
        x = f2(self.stem(x))
        x = f3(x) + x
        x = self.pool(f4(x))
        x = f5(x) + x
        x = f6(x)
        x = f7(x) + x
        x = self.pool(f8(x))
        x = self.classifier(f9(x))
        return self.avgpool(x).flatten(1)


@register_model(_card(
    "squeezenet_cifar", paper="Iandola et al., SqueezeNet (2016)", head=100,
    classifier="classifier",
    notes="SqueezeNet with BN after every conv and simple bypasses (fire3, fire5, fire7); the classifier "
          "is a 1x1 conv followed by global average pooling, no dropout."))
def squeezenet_cifar(*, num_classes: int) -> nn.Module:
    return SqueezeNetCifar(num_classes)


class PooledLinear(nn.Module):
    """``features`` -> global average pool -> flatten -> Linear: the tail several CIFAR reference models share."""

    def __init__(self, layers: list[nn.Module], width: int, num_classes: int):
        super().__init__()
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


# --- MobileNet v1 -------------------------------------------------------------------------------------------

class MobileNetCifar(PooledLinear):
    # (output width, stride) of the depthwise-separable blocks
    _CFG = ([(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5
            + [(1024, 2), (1024, 1)])

    def __init__(self, num_classes: int):
        layers: list[nn.Module] = [ConvBNAct(3, 32, 3)]
        c = 32
        for out, stride in self._CFG:
            # The reference's depthwise conv has no bias but its pointwise conv keeps PyTorch's default bias.
            layers += [ConvBNAct(c, c, 3, stride, groups=c), ConvBNAct(c, out, 1, bias=True)]
            c = out
        super().__init__(layers, 1024, num_classes)


@register_model(_card(
    "mobilenet_cifar", paper="Howard et al., MobileNets (arXiv 1704.04861, 2017)", head=100,
    classifier="classifier",
    notes="MobileNet v1 1.0x with a stride-1 stem; the pointwise convs carry a bias (reference quirk)."))
def mobilenet_cifar(*, num_classes: int) -> nn.Module:
    return MobileNetCifar(num_classes)


# --- MobileNetV2 --------------------------------------------------------------------------------------------

class LinearBottleneck(nn.Module):
    """Inverted residual: 1x1 expand, 3x3 depthwise, 1x1 linear projection; every conv has bias."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, t: int):
        super().__init__()
        mid = in_ch * t
        self.block = nn.Sequential(
            ConvBNAct(in_ch, mid, 1, bias=True, act=nn.ReLU6),
            ConvBNAct(mid, mid, 3, stride, groups=mid, bias=True, act=nn.ReLU6),
            ConvBNAct(mid, out_ch, 1, bias=True, act=None),
        )
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: Tensor) -> Tensor:
        out = self.block(x)
        return out + x if self.residual else out


class MobileNetV2Cifar(nn.Module):
    _STAGES = [(1, 16, 1, 1), (2, 24, 2, 6), (3, 32, 2, 6), (4, 64, 2, 6), (3, 96, 1, 6), (3, 160, 1, 6),
               (1, 320, 1, 6)]  # (repeats, width, first stride, expansion)

    def __init__(self, num_classes: int):
        super().__init__()
        # Reference quirk: a 1x1 stem conv with padding 1, so a 32x32 image becomes 34x34.
        layers: list[nn.Module] = [ConvBNAct(3, 32, 1, bias=True, act=nn.ReLU6, padding=1)]
        c = 32
        for n, out, stride, t in self._STAGES:
            for i in range(n):
                layers.append(LinearBottleneck(c, out, stride if i == 0 else 1, t))
                c = out
        layers.append(ConvBNAct(320, 1280, 1, bias=True, act=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Conv2d(1280, num_classes, 1)

    def forward(self, x: Tensor) -> Tensor:
        # Functional pooling as in the reference (a pooling module would add to torchstat's Memory).
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1)).flatten(1)


@register_model(_card(
    "mobilenetv2_cifar", paper="Sandler et al., MobileNetV2 (CVPR 2018)", head=100,
    classifier="classifier",
    notes="Stem is a 1x1 conv with padding 1; strides (1,2,2,2,1,1,1); the classifier is a 1x1 conv "
          "after pooling."))
def mobilenetv2_cifar(*, num_classes: int) -> nn.Module:
    return MobileNetV2Cifar(num_classes)


# --- ShuffleNet v1 ------------------------------------------------------------------------------------------

class ShuffleUnitV1(nn.Module):
    """Grouped 1x1, shuffle, depthwise 3x3, grouped 1x1; add the input, or (stride 2) concat it pooled."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, groups: int):
        super().__init__()
        mid = out_ch // 4
        self.concat = stride != 1 or in_ch != out_ch
        # All convs keep PyTorch's default bias, as in the reference.
        self.reduce = ConvBNAct(in_ch, mid, 1, groups=groups, bias=True)
        self.shuffle = ChannelShuffle(groups)
        self.depthwise = ConvBNAct(mid, mid, 3, stride, groups=mid, bias=True, act=None)
        self.expand = ConvBNAct(mid, out_ch - in_ch if self.concat else out_ch, 1, groups=groups, bias=True,
                                act=None)
        self.shortcut = nn.AvgPool2d(3, 2, 1) if self.concat else nn.Identity()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        out = self.expand(self.depthwise(self.shuffle(self.reduce(x))))
        short = self.shortcut(x)
        return self.relu(torch.cat([short, out], 1) if self.concat else out + short)


class ShuffleNetCifar(PooledLinear):
    def __init__(self, num_classes: int, groups: int = 3):
        layers: list[nn.Module] = [ConvBNAct(3, 24, 3, bias=True)]  # no max pool: 32x32 inputs
        c = 24
        for repeats, out in ((4, 240), (8, 480), (4, 960)):
            for i in range(repeats):
                layers.append(ShuffleUnitV1(c, out, 2 if i == 0 else 1, groups))
                c = out
        super().__init__(layers, 960, num_classes)


@register_model(_card(
    "shufflenet_cifar", paper="Zhang et al., ShuffleNet (CVPR 2018)", head=100,
    classifier="classifier",
    notes="ShuffleNet v1, g=3, stages of 4/8/4 units (widths 240/480/960), stride-1 stem without max pool."))
def shufflenet_cifar(*, num_classes: int) -> nn.Module:
    return ShuffleNetCifar(num_classes, groups=3)


# --- ShuffleNetV2 -------------------------------------------------------------------------------------------

def _v2_branch(in_ch: int, out_ch: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        ConvBNAct(in_ch, in_ch, 1, bias=True),
        ConvBNAct(in_ch, in_ch, 3, stride, groups=in_ch, bias=True, act=None),
        ConvBNAct(in_ch, out_ch, 1, bias=True),
    )


class ShuffleUnitV2(nn.Module):
    """Stride 1: split channels, transform one half. Stride 2: both branches see the whole input."""

    def __init__(self, in_ch: int, out_ch: int, stride: int):
        super().__init__()
        self.split = stride == 1 and in_ch == out_ch
        if self.split:
            self.shortcut: nn.Module = nn.Identity()
            self.residual = _v2_branch(in_ch // 2, in_ch // 2, 1)
        else:
            self.residual = _v2_branch(in_ch, out_ch // 2, stride)
            self.shortcut = nn.Sequential(
                ConvBNAct(in_ch, in_ch, 3, stride, groups=in_ch, bias=True, act=None),
                ConvBNAct(in_ch, out_ch // 2, 1, bias=True),
            )

    def forward(self, x: Tensor) -> Tensor:
        if self.split:
            short, res = x.chunk(2, 1)
        else:
            short = res = x
        return channel_shuffle(torch.cat([self.shortcut(short), self.residual(res)], 1), 2)


class ShuffleNetV2Cifar(PooledLinear):
    def __init__(self, num_classes: int):
        layers: list[nn.Module] = [ConvBNAct(3, 24, 3, bias=True, act=None)]  # the reference stem has no ReLU
        c = 24
        for repeats, out in ((3, 116), (7, 232), (3, 464)):
            layers.append(ShuffleUnitV2(c, out, 2))
            layers += [ShuffleUnitV2(out, out, 1) for _ in range(repeats)]
            c = out
        layers.append(ConvBNAct(464, 1024, 1, bias=True))
        super().__init__(layers, 1024, num_classes)


@register_model(_card(
    "shufflenetv2_cifar", paper="Ma et al., ShuffleNet V2 (ECCV 2018)", head=100,
    classifier="classifier",
    notes="ShuffleNetV2 1x: stride-1 stem conv + BN without ReLU, stages of 1 + 3/7/3 units, 1024-wide "
          "head conv."))
def shufflenetv2_cifar(*, num_classes: int) -> nn.Module:
    return ShuffleNetV2Cifar(num_classes)


# --- EfficientNet-B0 ----------------------------------------------------------------------------------------
# Swish, sigmoid, pooling and dropout are functional here, as in the reference: torchstat does not see them,
# and the published Memory (203.74 MB) only reproduces without them.

class SqueezeExcite(nn.Module):
    """Global pool, 1x1 conv (bias) -> swish -> 1x1 conv (bias) -> sigmoid, rescale the input."""

    def __init__(self, ch: int, squeeze: int):
        super().__init__()
        self.reduce = nn.Conv2d(ch, squeeze, 1)
        self.expand = nn.Conv2d(squeeze, ch, 1)

    def forward(self, x: Tensor) -> Tensor:
        w = F.silu(self.reduce(F.adaptive_avg_pool2d(x, 1)))
        return x * self.expand(w).sigmoid()


class MBConv(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, expansion: int):
        super().__init__()
        mid = in_ch * expansion
        # The reference also builds an expand conv for expansion 1 but never calls it; it is left out here.
        self.expand = ConvBNAct(in_ch, mid, 1, act=None) if expansion != 1 else None
        self.depthwise = ConvBNAct(mid, mid, kernel, stride, groups=mid, act=None)
        self.se = SqueezeExcite(mid, int(in_ch * 0.25))  # squeeze width from the block *input*
        self.project = ConvBNAct(mid, out_ch, 1, act=None)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: Tensor) -> Tensor:
        out = x if self.expand is None else F.silu(self.expand(x))
        out = self.project(self.se(F.silu(self.depthwise(out))))
        return out + x if self.residual else out


class EfficientNetB0Cifar(nn.Module):
    # (expansion, width, repeats, kernel, first stride)
    _CFG = [(1, 16, 1, 3, 1), (6, 24, 2, 3, 2), (6, 40, 2, 5, 2), (6, 80, 3, 3, 2), (6, 112, 3, 5, 1),
            (6, 192, 4, 5, 2), (6, 320, 1, 3, 1)]

    def __init__(self, num_classes: int, dropout: float = 0.2):
        super().__init__()
        self.stem = ConvBNAct(3, 32, 3, act=None)
        blocks: list[nn.Module] = []
        c = 32
        for t, out, n, k, s in self._CFG:
            for i in range(n):
                blocks.append(MBConv(c, out, k, s if i == 0 else 1, t))
                c = out
        self.blocks = nn.Sequential(*blocks)  # no 1280-wide head conv in the reference
        self.dropout = dropout
        self.classifier = nn.Linear(320, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.blocks(F.silu(self.stem(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.classifier(F.dropout(x, self.dropout, self.training))


@register_model(_card(
    "efficientnet_b0_cifar", paper="Tan and Le, EfficientNet (ICML 2019)", head=10,
    classifier="classifier", source=_SOURCE_10,
    notes="Stride-1 stem, no 1280-wide head conv, SE squeeze width int(block input / 4), dropout 0.2 before "
          "the classifier. The reference's drop-connect rate evaluates to 0 (its block counter never "
          "advances), so there is no stochastic depth."))
def efficientnet_b0_cifar(*, num_classes: int) -> nn.Module:
    return EfficientNetB0Cifar(num_classes)

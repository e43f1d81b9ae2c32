"""HarDNet: exact counts and layer shapes of PingoLH/Pytorch-HarDNet."""

from __future__ import annotations

import pytest
from torch import nn

import zoo
from zoo.fingerprint import count_params
from zoo.hardnet import SPECS, block_widths


@pytest.mark.parametrize(("name", "params"), [
    ("hardnet68", 17_565_348), ("hardnet85", 36_670_212),
    ("hardnet68ds", 4_180_602), ("hardnet39ds", 3_488_228),
])
def test_exact_counts_head_1000(name, params):
    assert count_params(zoo.create_model(name)) == params


@pytest.mark.parametrize(("name", "params"), [("hardnet68", 16_550_598), ("hardnet85", 35_402_022)])
def test_exact_counts_head_10(name, params):
    assert count_params(zoo.create_model(name, num_classes=10)) == params


def test_block_widths():
    assert list(block_widths(SPECS["hardnet68"])) == [124, 262, 328, 654, 782]
    assert list(block_widths(SPECS["hardnet68ds"])) == [124, 262, 328, 654, 782]
    assert list(block_widths(SPECS["hardnet39ds"])) == [72, 292, 518, 730]  # m = 1.6


def test_hardnet68_layer_shapes():
    model = zoo.create_model("hardnet68")
    assert tuple(model.stem[1][0].weight.shape) == (64, 32, 3, 3)
    assert isinstance(model.stem[2], nn.MaxPool2d)
    assert isinstance(model.stem[0][2], nn.ReLU6)
    block1 = model.blocks[0][0]
    assert tuple(block1.layers[0][0].weight.shape) == (14, 64, 3, 3)
    assert tuple(block1.layers[7][0].weight.shape) == (68, 14 + 24 + 40 + 64, 3, 3)  # links 7, 6, 4, 0
    assert tuple(model.blocks[3][1][0].weight.shape) == (640, 654, 1, 1)
    assert tuple(model.classifier.weight.shape) == (1000, 1024)
    assert model.dropout.p == 0.1


def test_depthwise_variant_shapes():
    model = zoo.create_model("hardnet68ds")
    assert tuple(model.stem[1][0].weight.shape) == (64, 32, 1, 1)  # 1x1 second stem conv
    assert tuple(model.stem[2][0].weight.shape) == (64, 1, 3, 3)  # depthwise stride-2 instead of max pool
    assert model.stem[2][0].stride == (2, 2) and len(model.stem[2]) == 2  # conv + BN, no activation
    layer = model.blocks[0][0].layers[0]  # 1x1 ConvBNAct then depthwise 3x3 + BN
    assert tuple(layer[0][0].weight.shape) == (14, 64, 1, 1)
    assert tuple(layer[1][0].weight.shape) == (14, 1, 3, 3)
    assert model.dropout.p == 0.05
    assert not any(isinstance(m, nn.MaxPool2d) for m in model.modules())


def test_hardnet85_dropout_before_last_transition():
    model = zoo.create_model("hardnet85")
    last = model.blocks[5]
    assert isinstance(last[1], nn.Dropout) and last[1].p == 0.1
    assert tuple(last[2][0].weight.shape) == (1280, 1252, 1, 1)
    assert model.dropout.p == 0.2


@pytest.mark.slow
@pytest.mark.parametrize(("name", "published"), [
    ("hardnet68", (17.57, 4.26, 8.51, 49.28, 181.97)),  # ThreshNet Table III, head 1000
    ("hardnet85", (36.67, 9.10, 18.18, 74.65, 313.42)),
])
def test_torchstat_figures_reproduce_the_published_row(name, published):
    from suite import complexity
    r = complexity.profile(zoo.create_model(name), (3, 224, 224), convention="torchstat")
    measured = (r.params / 1e6, r.flops / 1e9, r.madd / 1e9, r.memory_mb, r.memrw_mb)
    assert [round(v, 2) for v in measured] == list(published)

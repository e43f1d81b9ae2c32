"""GhostNet 1.0x: exact count of the official model, its blocks, and ThreshNet Table III's figures."""

from __future__ import annotations

import pytest
import torch

import zoo
from suite.tables import published_rows
from zoo.fingerprint import count_params
from zoo.ghostnet import GhostBottleneck, GhostModule, make_divisible


def test_exact_params_head_1000():
    card = zoo.model_card("ghostnet")
    assert card.origin == "reference" and card.family == "ghostnet" and card.num_classes == 1000
    assert count_params(zoo.create_model("ghostnet")) == 5_182_508


def test_published_rows():
    tables = {r["table"] for r in published_rows("ghostnet")}
    assert {"threshnet_table3_cifar10", "threshnet_table4_svhn", "dpnet_table5_cifar10",
            "dpnet_table6_imagenet"} <= tables
    rows = {r["table"]: r for r in published_rows("ghostnet")}
    assert rows["threshnet_table3_cifar10"]["params_m"] == 5.18
    assert rows["dpnet_table6_imagenet"]["flops_m"] == 151


def test_make_divisible():
    assert make_divisible(16) == 16 and make_divisible(72 * 0.25) == 20 and make_divisible(120 * 0.25) == 32


def test_ghost_module_halves():
    m = GhostModule(16, 48, relu=True)
    assert m.primary_conv[0].out_channels == 24 and m.cheap_operation[0].groups == 24
    assert m(torch.randn(2, 16, 8, 8)).shape == (2, 48, 8, 8)


@pytest.mark.parametrize("stride", [1, 2])
def test_bottleneck_stride(stride):
    block = GhostBottleneck(24, 72, 40, 5, stride, 0.25)
    assert block(torch.randn(2, 24, 16, 16)).shape == (2, 40, 16 // stride, 16 // stride)


def test_32x32_input_reaches_1x1():
    model = zoo.create_model("ghostnet", num_classes=10).eval()
    with torch.no_grad():
        assert model.blocks(model.stem(torch.randn(1, 3, 32, 32))).shape == (1, 960, 1, 1)


@pytest.mark.slow
def test_torchstat_convention_reproduces_table_iii():
    from suite.complexity import profile

    r = profile(zoo.create_model("ghostnet"), (3, 224, 224), convention="torchstat")
    # Table III: 0.15 G FLOPs, 0.29 G MAdd, 40.05 MB, 5.18 M, 98.84 MB MemR+W.
    assert round(r.flops / 1e9, 2) == 0.15
    assert round(r.memory_mb, 2) == 40.05 and round(r.memrw_mb, 2) == 98.84
    assert round(r.params / 1e6, 2) == 5.18
    # torchstat prints 295.36 M MAdd; the table truncates it to 0.29 G.
    assert int(r.madd / 1e7) / 100 == 0.29
    assert r.madd == 295_358_244

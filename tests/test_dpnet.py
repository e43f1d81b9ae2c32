"""DP-Net, D-MobileNetV3, P-MobileNetV3 (reconstructed) and DP-blocks A and B as modules."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import zoo
from suite.tables import published_rows
from zoo.dpnet import ROWS, DPBlockA, DPBlockB, InvertedBottleneck, PartialBottleneck
from zoo.fingerprint import count_params
from zoo.layers import SqueezeExcitation  # the zoo's own (torchvision-free) SE

# Published parameter counts (DP-Net Tables 4/5, 1000-class models) and this reconstruction's exact counts.
PUBLISHED_PARAMS = {"dpnet": 3.41e6, "d_mobilenetv3": 4.10e6, "p_mobilenetv3": 4.05e6}
EXACT = {"dpnet": 3_475_832, "d_mobilenetv3": 4_279_592, "p_mobilenetv3": 4_000_680}
PUBLISHED_FLOPS_DPNET = 118e6  # Table 6, ImageNet 224x224
TOLERANCE = 0.05


def _dw_convs(module: nn.Module) -> list[nn.Conv2d]:
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    return [m for m in convs if m.groups > 1 and m.groups == m.in_channels]


@pytest.mark.parametrize("name", sorted(EXACT))
def test_params_within_tolerance_of_published(name):
    card = zoo.model_card(name)
    assert card.origin == "reconstructed" and card.family == "dpnet" and card.num_classes == 1000
    n = count_params(zoo.create_model(name))
    assert n == EXACT[name]
    residual = n / PUBLISHED_PARAMS[name] - 1
    assert abs(residual) <= TOLERANCE
    assert card.residuals["params"] == pytest.approx(residual, abs=1e-4)
    assert len(card.choices) >= 8
    assert any(r["table"] == "dpnet_table4_cifar100" for r in published_rows(name))


@pytest.mark.slow
def test_dpnet_flops_within_tolerance_of_published():
    from suite.complexity import profile

    r = profile(zoo.create_model("dpnet"), (3, 224, 224), convention="torchstat")
    residual = r.flops / PUBLISHED_FLOPS_DPNET - 1
    assert abs(residual) <= TOLERANCE
    assert zoo.model_card("dpnet").residuals["flops_224"] == pytest.approx(residual, abs=1e-4)


def test_dpnet_plain_macs_at_224():
    # Conv and linear multiply-accumulates only (no BN / activation terms): 106.2 M, 10 % under 118 M.
    from suite.complexity import profile

    macs = profile(zoo.create_model("dpnet"), (3, 224, 224), convention="complete").macs
    assert macs == 106_165_072
    assert abs(macs / PUBLISHED_FLOPS_DPNET - 1) < 0.11


def test_claim_d1_parameter_reduction_against_printed_baseline():
    # D1: 33.8 % fewer parameters than MobileNetV3 (printed 5.15 M); against torchvision's 5,483,032: 36.6 %.
    saving_vs_printed = 1 - EXACT["dpnet"] / 5.15e6
    assert abs(saving_vs_printed - 0.338) < 0.02
    assert count_params(zoo.create_model("mobilenet_v3_large")) == 5_483_032


def test_dpnet_follows_table_1():
    model = zoo.create_model("dpnet")
    kinds = ["A" if isinstance(b, DPBlockA) else "B" for b in model.blocks]
    assert "".join(kinds) == "ABABAABAAABABAA"
    for block, row in zip(model.blocks, ROWS, strict=True):
        assert any(isinstance(m, SqueezeExcitation) for m in block.modules()) == row.se
        act = nn.ReLU if row.nl == "RE" else nn.Hardswish
        assert isinstance(block.transition[2], act)
    x = torch.randn(1, 3, 224, 224)
    sizes = []
    with torch.no_grad():
        x = model.stem(x)
        for block in model.blocks:
            x = block(x)
            sizes.append((x.shape[1], x.shape[2]))
    assert sizes[0] == (16, 112) and sizes[2] == (24, 56) and sizes[5] == (40, 28)
    assert sizes[11] == (112, 14) and sizes[-1] == (160, 7)


def test_d_and_p_block_layout():
    d = zoo.create_model("d_mobilenetv3")
    assert all(isinstance(b, DPBlockB) for b in d.blocks)
    assert [b.residual for b in d.blocks] == [r.residual for r in ROWS]
    p = zoo.create_model("p_mobilenetv3")
    assert [isinstance(b, PartialBottleneck) for b in p.blocks] == [r.residual for r in ROWS]
    # single-path rows keep MobileNetV3-Large's kernels
    kernels = [_dw_convs(b)[0].kernel_size[0] for b in p.blocks]
    assert kernels == [r.kernel for r in ROWS]


@pytest.mark.parametrize("name", sorted(EXACT))
def test_32x32_forward(name):
    model = zoo.create_model(name, num_classes=100).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 100)


# --- DP-block A ---------------------------------------------------------------------------------------------

def test_block_a_shapes_and_paths():
    block = DPBlockA(40, 120, se=True, nl="RE")
    assert block(torch.randn(2, 40, 14, 14)).shape == (2, 40, 14, 14)
    dws = _dw_convs(block)
    assert [(c.kernel_size[0], c.padding[0], c.in_channels) for c in dws] == [(3, 1, 30), (5, 2, 30)]
    assert block.transition[0].kernel_size == (1, 1) and block.transition[0].in_channels == 40


def test_block_a_identity_quarters_bypass_the_branches():
    torch.manual_seed(0)
    block = DPBlockA(80, 200, se=False, nl="HS").eval()
    x = torch.randn(2, 80, 8, 8)
    keep = torch.cat([x[:, 20:40], x[:, 60:80]], 1)  # second quarter of each path's half
    with torch.no_grad():
        before = block.paths(x)
        for body in (block.paths.path1.body, block.paths.path2.body):
            for p in body.parameters():
                p.zero_()  # a dead branch must not touch the passed quarters
        after = block.paths(x)
    for out in (before, after):
        assert torch.equal(torch.cat([out[:, 20:40], out[:, 60:80]], 1), keep)
    assert not torch.allclose(before[:, :20], after[:, :20])


def test_block_a_gradient_of_identity_quarters():
    block = DPBlockA(24, 72, se=False, nl="RE").train()
    x = torch.randn(2, 24, 8, 8, requires_grad=True)
    out = block.paths(x)
    torch.cat([out[:, 6:12], out[:, 18:24]], 1).sum().backward()
    assert all(p.grad is None or not p.grad.any() for p in block.paths.parameters())
    assert x.grad[:, 6:12].eq(1).all() and x.grad[:, 18:24].eq(1).all()
    assert not x.grad[:, 0:6].any() and not x.grad[:, 12:18].any()


def test_block_a_depthwise_cost_matches_eq_3():
    # Eq. 3: the two depthwise convs together cost C/4 * H * W * (3^2 + 5^2) MACs, C = expansion width.
    block = DPBlockA(160, 960, se=True, nl="HS").eval()
    macs = 0

    def hook(m, args, out):
        nonlocal macs
        macs += out[0].numel() * m.kernel_size[0] * m.kernel_size[1]

    for conv in _dw_convs(block):
        conv.register_forward_hook(hook)
    with torch.no_grad():
        block(torch.randn(1, 160, 7, 7))
    assert macs == 960 // 4 * 7 * 7 * (9 + 25)


def test_block_a_first_row_has_no_expand_conv():
    block = DPBlockA(16, 16, se=False, nl="RE")
    path = block.paths.path1.body
    assert isinstance(path, InvertedBottleneck) and len(path.body) == 2  # depthwise + projection


def test_block_a_rejects_widths_not_divisible_by_4():
    with pytest.raises(ValueError, match="divisible by 4"):
        DPBlockA(18, 72, se=False, nl="RE")


# --- DP-block B ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stride", [1, 2])
def test_block_b_stride_and_paths(stride):
    block = DPBlockB(24, 72, 40, stride, se=True, nl="RE")
    assert block(torch.randn(2, 24, 28, 28)).shape == (2, 40, 28 // stride, 28 // stride)
    dws = _dw_convs(block)
    assert [(c.kernel_size[0], c.padding[0], c.stride[0], c.in_channels) for c in dws] == \
        [(3, 1, stride, 36), (5, 2, stride, 36)]
    proj = [m for m in block.paths.modules() if isinstance(m, nn.Conv2d) and m.out_channels == 20]
    assert len(proj) == 2  # each path projects to half the output


def test_block_b_paths_see_disjoint_halves():
    block = DPBlockB(16, 64, 24, 2, se=False, nl="RE").train()
    x = torch.randn(2, 16, 8, 8, requires_grad=True)
    block.paths(x)[:, :12].sum().backward()  # path 1's output
    assert x.grad[:, :8].any() and not x.grad[:, 8:].any()


def test_block_b_residual_only_when_shapes_allow():
    with pytest.raises(ValueError, match="residual"):
        DPBlockB(40, 120, 40, 2, se=False, nl="RE", residual=True)
    block = DPBlockB(40, 120, 40, 1, se=False, nl="RE", residual=True).eval()
    x = torch.randn(1, 40, 8, 8)
    with torch.no_grad():
        assert torch.allclose(block(x) - block.transition(block.paths(x)), x)


def test_partial_bottleneck_passes_half():
    block = PartialBottleneck(80, 200, 3, se=False, nl="HS").eval()
    x = torch.randn(1, 80, 8, 8)
    with torch.no_grad():
        assert torch.equal(block.path(x)[:, 40:], x[:, 40:])
    assert _dw_convs(block)[0].in_channels == 100

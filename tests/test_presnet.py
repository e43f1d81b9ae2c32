"""P-ResNet18/34 A/B (DP-Net Tables 2-3): exact counts, FLOPs residuals, the partial residual block."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import zoo
from suite.tables import published_rows
from zoo.fingerprint import count_params
from zoo.presnet import PartialBasicBlock

# name -> (exact params at head 1000 of the reading in zoo/presnet.py, published params M, published FLOPs G)
EXPECTED = {
    "presnet18a": (4_016_808, 4.02, 0.65),
    "presnet18b": (3_666_728, 3.67, 0.60),
    "presnet34a": (7_110_568, 7.11, 1.22),
    "presnet34b": (6_195_624, 6.20, 1.06),
}


def conv_linear_macs(model: nn.Module, size: int = 224) -> int:
    """Multiply-accumulates of every conv and linear call for one image (the paper's "FLOPs")."""
    from suite.complexity import profile

    return profile(model, (3, size, size), convention="complete").macs


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exact_params_and_residuals(name):
    exact, params_m, flops_g = EXPECTED[name]
    model = zoo.create_model(name)
    card = zoo.model_card(name)
    assert card.origin == "reconstructed" and card.family == "presnet" and card.num_classes == 1000
    assert count_params(model) == exact
    assert abs(exact / (params_m * 1e6) - 1) < 0.001
    assert card.residuals["params"] == pytest.approx(exact / (params_m * 1e6) - 1, abs=1e-4)
    assert abs(conv_linear_macs(model) / (flops_g * 1e9) - 1) < 0.02  # plain multiply-accumulates
    assert {r["table"] for r in published_rows(name)} == {"dpnet_table2_presnet_cifar100",
                                                              "dpnet_table3_presnet_imagenet"}
    assert len(card.choices) >= 4


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_flops_reproduce_table_3_in_torchstat_convention(name):
    from suite.complexity import profile

    _, params_m, flops_g = EXPECTED[name]
    r = profile(zoo.create_model(name), (3, 224, 224), convention="torchstat")
    assert round(r.flops / 1e9, 2) == flops_g  # to the printed digit
    assert round(r.params / 1e6, 2) == params_m
    residual = r.flops / (flops_g * 1e9) - 1
    assert zoo.model_card(name).residuals["flops_224"] == pytest.approx(residual, abs=1e-4)


def test_claim_d4_parameter_reduction_vs_resnet18():
    base = count_params(zoo.create_model("resnet18"))
    assert base == 11_689_512
    assert round(100 * (1 - EXPECTED["presnet18a"][0] / base), 1) == 65.6
    assert round(100 * (1 - EXPECTED["presnet18b"][0] / base), 1) == 68.6


def test_transition_placement():
    def transitions(name):
        return [b.transition is not None for b in zoo.create_model(name).modules()
                if isinstance(b, PartialBasicBlock)]

    assert transitions("presnet18a") == [True] * 8
    assert transitions("presnet18b") == [False, True] * 4
    assert transitions("presnet34b") == [False, False, True] + [False] * 3 + [True] + [False] * 5 + [True] + \
        [False, False, True]


def test_stride1_block_passes_half_unchanged():
    torch.manual_seed(0)
    block = PartialBasicBlock(64, 64, transition=False).eval()
    x = torch.randn(2, 64, 8, 8)
    before = block(x)
    for p in block.residual.parameters():  # perturb the body: the passed half must not move
        p.data.add_(torch.randn_like(p))
    after = block(x)
    assert torch.equal(after[:, 32:], x[:, 32:]) and torch.equal(before[:, 32:], x[:, 32:])
    assert not torch.allclose(after[:, :32], before[:, :32])


def test_passed_half_gets_no_gradient_from_body():
    block = PartialBasicBlock(64, 64, transition=False).train()
    x = torch.randn(2, 64, 8, 8, requires_grad=True)
    block(x)[:, 32:].sum().backward()
    assert all(p.grad is None or not p.grad.any() for p in block.residual.parameters())
    assert torch.equal(x.grad[:, 32:], torch.ones_like(x.grad[:, 32:])) and not x.grad[:, :32].any()


@pytest.mark.parametrize("transition", [False, True])
def test_downsampling_block(transition):
    block = PartialBasicBlock(64, 128, 2, transition=transition)
    assert block(torch.randn(2, 64, 16, 16)).shape == (2, 128, 8, 8)
    assert block.passthrough[0].kernel_size == (1, 1) and block.passthrough[0].stride == (2, 2)
    assert block.residual[0][0].stride == (2, 2) and block.residual[0][0].in_channels == 32


def test_variant_checked():
    from zoo.presnet import PResNet

    with pytest.raises(ValueError, match="variant"):
        PResNet((2, 2, 2, 2), "C", 10)

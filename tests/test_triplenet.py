"""TripleNet: exact counts and layer shapes of RuiyangJu/TripleNet, the README table and its references."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from torch import nn

import zoo
from suite.tables import published_rows
from zoo.fingerprint import count_params
from zoo.harmonic import HarmonicBlock
from zoo.published import load_table
from zoo.threshnet import DenseBlock
from zoo.triplenet import ResidualBottleneck

REPO = Path(__file__).resolve().parents[1]
SHARED_README = REPO.parent / "shared" / "reference" / "triplenet_readme_rpi4_cifar10.csv"
README = "triplenet_readme_cifar10"


@pytest.mark.parametrize(("name", "params"), [
    ("triplenet_s", 9_679_224), ("triplenet_b", 12_638_064), ("triplenet_b_v2", 15_212_716),
])
def test_exact_counts_head_1000(name, params):
    assert count_params(zoo.create_model(name, num_classes=1000)) == params


@pytest.mark.parametrize(("name", "params"), [
    ("triplenet_s", 8_965_434), ("triplenet_b", 11_567_874), ("triplenet_b_v2", 14_142_526),
])
def test_exact_counts_head_10(name, params):
    assert count_params(zoo.create_model(name, num_classes=10)) == params


@pytest.mark.parametrize(("name", "head"), [("triplenet_s", 1000), ("triplenet_b", 1000), ("triplenet_b_v2", 10)])
def test_default_head_is_the_codes(name, head):
    card = zoo.model_card(name)
    assert card.num_classes == head and zoo.create_model(name).classifier.out_features == head
    assert card.origin == "reference" and card.family == "triplenet" and "RuiyangJu/TripleNet" in card.source
    assert card.trained_input_size == (3, 32, 32) and "2204.00943" in card.paper


@pytest.mark.parametrize(("name", "blocks", "widths"), [
    ("triplenet_s", [256, 262, 328, 654], [128, 192, 256, 320]),
    ("triplenet_b", [256, 262, 328, 654], [128, 192, 256, 320]),
    ("triplenet_b_v2", [320, 262, 214, 676], [160, 256, 320, 480]),
])
def test_block_and_transition_widths(name, blocks, widths):
    model = zoo.create_model(name)
    assert [stage[0].out_channels for stage in model.blocks] == blocks
    assert [stage[1][0].out_channels for stage in model.blocks] == widths
    pools = [isinstance(stage[-1], nn.MaxPool2d) for stage in model.blocks]
    assert pools == [True, False, True, True]  # as the code (the paper's figure draws them elsewhere)


def test_triplenet_s_layer_shapes():
    model = zoo.create_model("triplenet_s")
    assert tuple(model.stem[0][0].weight.shape) == (32, 3, 3, 3) and model.stem[0][0].stride == (2, 2)
    assert isinstance(model.stem[0][2], nn.ReLU6) and isinstance(model.stem[2], nn.MaxPool2d)
    dense = model.blocks[0][0]
    assert isinstance(dense, DenseBlock) and len(dense.layers) == 6
    assert tuple(dense.layers[5][2].weight.shape) == (128, 224, 1, 1)  # 64 + 5 * 32 in, 128-wide bottleneck
    assert isinstance(dense.layers[0][1], nn.ReLU)  # dense layers keep ThreshNet's ReLU
    harmonic = [stage[0] for stage in model.blocks[1:]]
    assert all(isinstance(b, HarmonicBlock) and len(b.layers) == 16 for b in harmonic)
    assert tuple(harmonic[0].layers[0][0].weight.shape) == (16, 128, 3, 3)
    assert isinstance(harmonic[0].layers[0][2], nn.ReLU6)
    assert harmonic[2].layers[15][0].out_channels == 334  # layer 16 has 5 links: 40 * 1.7^4 rounded even
    assert len(model.residual) == 2
    assert model.dropout.p == 0.1 and tuple(model.classifier.weight.shape) == (1000, 720)


def test_residual_bottleneck():
    block = ResidualBottleneck(320, 160)
    assert [tuple(c[0].weight.shape) for c in (block.conv1, block.conv2, block.conv3)] == [
        (160, 320, 1, 1), (160, 160, 3, 3), (480, 160, 1, 1)]
    assert block.conv1[0].bias is None and block.shortcut[0].bias is not None  # projection conv has a bias
    assert not any(isinstance(m, nn.ReLU) for m in block.modules())  # functional ReLUs, as the reference
    assert isinstance(ResidualBottleneck(480, 160).shortcut, nn.Identity)
    x = torch.randn(2, 320, 4, 4)
    assert block(x).shape == (2, 480, 4, 4) and block(x).min() >= 0


def test_triplenet_b_adds_a_third_bottleneck():
    s, b = zoo.create_model("triplenet_s"), zoo.create_model("triplenet_b")
    assert [r.out_channels for r in b.residual] == [480, 720, 1080]
    assert count_params(b) - count_params(s) == count_params(b.residual[2]) + 360 * 1000  # + the wider head


@pytest.mark.parametrize(("size", "spatial"), [(32, [4, 4, 2, 1]), (224, [28, 28, 14, 7])])
def test_forward_at_32_and_224(size, spatial):
    model = zoo.create_model("triplenet_s", num_classes=10).eval()
    x = torch.randn(1, 3, size, size)
    sizes = []
    with torch.no_grad():
        x = model.stem(x)
        for stage in model.blocks:
            x = stage(x)
            sizes.append(x.shape[-1])
        assert model.classifier(model.flatten(model.pool(model.residual(x)))).shape == (1, 10)
    assert sizes == spatial


def test_readme_table_is_copied_verbatim():
    rows = load_table(README)
    assert [r["model"] for r in rows] == ["TripleNet-S", "ShuffleNet", "ThreshNet28", "TripleNet-B", "MobileNetV2",
                                          "MobileNet", "ThreshNet95", "EfficientNetB0", "HarDNet85"]
    if not SHARED_README.is_file():
        pytest.skip(f"shared reference not found at {SHARED_README}")
    ours = (REPO / "zoo" / "data" / "published" / f"{README}.csv").read_text()
    assert ours == SHARED_README.read_text()
    with SHARED_README.open(newline="") as fh:
        assert list(csv.DictReader(fh))[0]["params_m"] == "9.67"


# Each README row, its zoo model and the head of the published figures (TripleNet's code: 1000; the baselines
# keep the heads of ThreshNet Table III).
README_MODELS = {
    "TripleNet-S": ("triplenet_s", 1000), "TripleNet-B": ("triplenet_b", 1000),
    "ShuffleNet": ("shufflenet_cifar", 100), "ThreshNet28": ("threshnet28", 10),
    "MobileNetV2": ("mobilenetv2_cifar", 100), "MobileNet": ("mobilenet_cifar", 100),
    "ThreshNet95": ("threshnet95", 10), "EfficientNetB0": ("efficientnet_b0_cifar", 10),
    "HarDNet85": ("hardnet85", 1000),
}


@pytest.mark.parametrize("row", sorted(README_MODELS))
def test_every_readme_row_is_referenced_with_its_head(row):
    name, head = README_MODELS[row]
    refs = [r for r in published_rows(name) if r["table"] == README]
    assert [(r["model"], r["published_num_classes"]) for r in refs] == [(row, head)]
    owners = [n for n in zoo.list_models() if any(r["table"] == README for r in published_rows(n))]
    assert sorted(owners) == sorted(m for m, _ in README_MODELS.values())


def _table3_rows():
    from suite.tables import get_table

    return get_table("threshnet-3").rows


def test_baseline_heads_agree_with_threshnet_table_3():
    heads = {spec.row: spec.published_head for spec in _table3_rows()}
    for row, (_, head) in README_MODELS.items():
        if not row.startswith("TripleNet"):
            assert heads[row] == head, row


def test_v2_matches_no_published_row():
    card = zoo.model_card("triplenet_b_v2")
    assert published_rows("triplenet_b_v2") == [] and "matches no published row" in card.notes


@pytest.mark.slow
@pytest.mark.parametrize(("name", "published"), [
    ("triplenet_s", (4.17, 8.32, 90.25)),  # README: FLOPs G, MAdd G, Memory MB at 224, head 1000
    ("triplenet_b", (4.29, 8.57, 91.33)),
])
def test_torchstat_figures_reproduce_the_readme_row(name, published):
    from suite import complexity
    r = complexity.profile(zoo.create_model(name), (3, 224, 224), convention="torchstat")
    assert [round(r.flops / 1e9, 2), round(r.madd / 1e9, 2), round(r.memory_mb, 2)] == list(published)
    assert int(r.params / 1e4) / 100 == load_table(README)[0 if name == "triplenet_s" else 3]["params_m"]  # truncated

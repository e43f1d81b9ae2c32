"""Every registered model: exact parameter count and layer shapes (recorded as data), uniform interface."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

import zoo
from zoo.fingerprint import count_params, shape_fingerprint

DATA = Path(__file__).parent / "data" / "params"
ALL = zoo.list_models()


def _recorded() -> dict[str, dict]:
    rows = {}
    for path in sorted(DATA.glob("*.csv")):
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                assert row["name"] not in rows, f"{row['name']} recorded twice"
                rows[row["name"]] = row
    return rows


RECORDED = _recorded()


def test_every_model_has_a_recorded_count():
    assert sorted(RECORDED) == ALL


@pytest.mark.parametrize("name", ALL)
def test_param_count_and_shapes_at_reference_head(name):
    model = zoo.create_model(name)
    row = RECORDED[name]
    assert model.num_classes == int(row["num_classes"]) == zoo.model_card(name).num_classes
    assert count_params(model) == int(row["params"])
    assert shape_fingerprint(model) == row["shapes"]


@pytest.mark.parametrize("name", ALL)
def test_uniform_interface_forward_and_backward(name):
    torch.manual_seed(0)
    model = zoo.create_model(name, num_classes=7).train()
    assert model.num_classes == 7
    head = zoo.get_classifier(model)
    assert head.weight.shape[0] == 7
    for size in (32, 224):
        out = model(torch.randn(2, 3, size, size))
        assert out.shape == (2, 7), f"input {size}x{size}"
    out.square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"no gradient reaches {missing[:5]}"


@pytest.mark.parametrize("name", ALL)
def test_card_is_complete(name):
    card = zoo.model_card(name)
    assert card.name == name and card.family and card.paper and card.source
    assert card.origin in ("reference", "reconstructed", "torchvision")
    if card.origin == "reconstructed":
        assert card.choices, "a reconstruction must state the choices its paper leaves open"
        assert card.residuals, "a reconstruction must state its residual error against published figures"
    for row in card.published_numbers():  # every reference resolves to a real published row
        assert row["table"] and row["model"]


def test_unknown_name_suggests_closest():
    with pytest.raises(zoo.UnknownModelError, match="did you mean.*resnet50"):
        zoo.create_model("resnet05")
    with pytest.raises(zoo.UnknownModelError, match="did you mean.*mobilenet_v2"):
        zoo.model_card("mobilenetv2")


def test_registering_a_name_twice_fails():
    card = zoo.model_card("resnet18")
    with pytest.raises(ValueError, match="already registered"):
        zoo.register_model(card)(lambda *, num_classes: None)


def test_bad_head_is_rejected():
    with pytest.raises(ValueError, match="num_classes"):
        zoo.create_model("resnet18", num_classes=0)


def test_list_models_filters():
    assert zoo.list_models("resnet*") == ["resnet18", "resnet34", "resnet50"]
    assert set(zoo.list_models(family="torchvision")) <= set(ALL)
    assert zoo.list_models("no_such_*") == []

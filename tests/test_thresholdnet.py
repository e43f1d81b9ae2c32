"""ThresholdNet: v1/v2 are ThreshNet79/95 at head 1000; the layer-threshold block copies the tables."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import zoo
from zoo.fingerprint import count_params, shape_fingerprint
from zoo.published import load_table
from zoo.thresholdnet import CONNECTIONS, TEXT_CONNECTION_COUNTS, LayerThresholdBlock, threshold_links

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFERENCE_TABLE = SHARED / "reference" / "thresholdnet_connections.csv"


def _table_rows(rows) -> dict[int, dict[int, list[int]]]:
    table: dict[int, dict[int, list[int]]] = {}
    for row in rows:
        inputs = [int(j) for j in str(row["inputs"]).split("-")]
        table.setdefault(int(row["threshold"]), {})[int(row["layer"])] = inputs
    return table


def _check_block_against(table: dict[int, dict[int, list[int]]]) -> None:
    assert sorted(table) == [4, 8, 12]
    for threshold, layers in table.items():
        block = LayerThresholdBlock(16, 8, 1.7, threshold=threshold)
        assert len(block.links) == len(layers) == 16
        for layer, inputs in layers.items():
            assert block.links[layer - 1] == inputs, (threshold, layer)


def test_connections_match_the_reference_table():
    if not REFERENCE_TABLE.is_file():
        pytest.skip(f"shared reference not found at {REFERENCE_TABLE}")
    with REFERENCE_TABLE.open(newline="") as fh:
        _check_block_against(_table_rows(csv.DictReader(fh)))


def test_connections_match_the_packaged_table():
    _check_block_against(_table_rows(load_table("thresholdnet_connections")))


def test_connection_counts_and_the_text_discrepancy():
    assert {t: sum(map(len, rows)) for t, rows in CONNECTIONS.items()} == {4: 39, 8: 51, 12: 74}
    assert TEXT_CONNECTION_COUNTS == {4: 38, 8: 51, 12: 74}
    assert sum(map(len, threshold_links(8, "dense"))) == 57
    assert "38" in zoo.model_card("thresholdnet_bc").notes and "39" in zoo.model_card("thresholdnet_bc").notes


def test_ab_is_dense_below_the_threshold():
    dense, sparse = threshold_links(8, "dense"), threshold_links(8, "sparse")
    assert [dense[L - 1] for L in range(1, 9)] == [list(range(L)) for L in range(1, 9)]
    assert dense[8:] == sparse[8:]
    assert sparse[5] == [0, 1, 2, 4, 5]  # layer 6 of Table II: nearest and farthest kept


def test_layer_threshold_widths_and_output():
    block = LayerThresholdBlock(288, 40, 1.7, threshold=8)
    assert block.widths == [40] * 9 + [68, 40, 68, 40, 68, 40, 68]
    assert block.outputs == [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 15, 16]
    assert block.out_channels == 8 * 40 + 4 * 40 + 68
    assert block.layer_in_channels(16) == 288 + 40 + 68 + 68 + 40  # inputs 0, 8, 12, 14, 15
    with pytest.raises(ValueError):
        LayerThresholdBlock(16, threshold=6)


@pytest.mark.parametrize(("name", "same_as", "params"), [
    ("thresholdnet_v1", "threshnet79", 15_323_248), ("thresholdnet_v2", "threshnet95", 17_140_592),
])
def test_v1_v2_are_threshnet_at_head_1000(name, same_as, params):
    built = zoo.build_model(name)
    model = built.module
    assert built.num_classes == 1000 and count_params(model) == params
    assert shape_fingerprint(model) == shape_fingerprint(zoo.create_model(same_as, num_classes=1000))


@pytest.mark.parametrize(("name", "params"), [
    ("thresholdnet_ab", 12_591_252), ("thresholdnet_bc", 12_504_852),
])
def test_layer_threshold_networks(name, params):
    model = zoo.create_model(name)
    assert count_params(model) == params
    block = model.blocks[3][0]
    assert isinstance(block, LayerThresholdBlock) and block.threshold == 8
    assert tuple(block.layers[0][0].weight.shape) == (40, 288, 3, 3)
    assert tuple(model.blocks[3][1][0].weight.shape) == (480, 548, 1, 1)
    card = zoo.model_card(name)
    assert card.origin == "reconstructed" and card.residuals == {"connections_vs_table": 0.0}

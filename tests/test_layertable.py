"""The Layer arithmetic table as a lesson: presets, the table's text, the "same" with stride note, cells."""

import pytest

from cnnviz.lessons import layertable
from cnnviz.lessons.layer_rows import layer_to_row
from cnnviz.lessons.layers import PRESETS, Conv, Flatten, Linear, Pool, ReLU, analyse
from cnnviz.lessons.netspec import NET_PRESETS, NetSpec

LENET = PRESETS["LeNet-5 (32x32 digits)"]


def test_the_lectures_presets_come_first_then_the_trainable_ones():
    assert list(layertable.ALL_PRESETS)[: len(PRESETS)] == list(PRESETS)
    assert list(layertable.ALL_PRESETS)[len(PRESETS) :] == [f"To train: {t}" for t in NET_PRESETS]
    trainable = layertable.ALL_PRESETS["To train: LeNet-5"]
    assert trainable.layers == NET_PRESETS["LeNet-5"].layers and trainable.input_shape == (1, 28, 28)


def test_the_table_writes_lenet_as_on_the_slide():
    records = layertable.table_records(analyse(LENET.input_shape, LENET.layers).rows)
    assert [r["Name"] for r in records][:3] == ["input", "C1", "S2"]
    c3 = records[3]
    assert (c3["Output C@HxW"], c3["Values"], c3["Parameters"]) == ("16@10x10", "1,600", "2,416")
    assert c3["Parameter formula"] == "16×(6×5×5 + 1) = 2,416"
    assert (c3["Receptive field"], c3["Jump"], c3["Start"]) == ("14", "2", "6.5")
    assert records[-1]["Receptive field"] == "whole input" and records[-1]["Jump"] == ""
    assert layertable.slide_math("2*(3 + 1)") == "2×(3 + 1)"


def test_total_padding_and_unequal_axes():
    analysis = analyse((1, 100, 60), (Conv(2, (5, 3), stride=2, padding=2),))
    row = layertable.table_records(analysis.rows)[1]
    assert row["Output C@HxW"] == "2@50x31" and row["Receptive field"] == "5 x 3"
    total = layertable.table_records(analysis.rows, total_padding=True)[1]["Output size"]
    assert total.startswith("H = floor((100 - 5 + 4 + 2) / 2) = floor(101/2) = 50")


@pytest.mark.parametrize(
    ("layer", "n", "expected"),
    [
        (
            Conv(32, 5, stride=2, padding=2),
            100,
            ("floor((100 + 2×2 - 5)/2) + 1 = 50", "ceil(100/2) = 50", "1 before and 2 after"),
        ),
        (
            Conv(8, 3, stride=3, padding=1),
            10,
            ("floor((10 + 2×1 - 3)/3) + 1 = 4", "ceil(10/3) = 4", "1 before and 1 after"),
        ),
        (
            Conv(8, 4, stride=2, padding="same"),
            9,
            ("floor((9 + 2×1 - 4)/2) + 1 = 4", "ceil(9/2) = 5", "1 before and 2 after"),
        ),
    ],
)
def test_same_with_a_stride_is_explained_with_both_frameworks_numbers(layer, n, expected):
    layers = (Conv(1, 1), layer)
    note = layertable.same_with_stride_note(analyse((1, n, n), layers), layers)
    assert "(layer 2)" in note and "PyTorch refuses `padding='same'`" in note
    for text in expected:
        assert text in note


def test_no_note_without_a_stride_or_without_same():
    for layers in [
        (Conv(8, 3, padding=1),),
        (Conv(8, 3, stride=2),),
        (Conv(8, 4, stride=2, padding=1),),
        (Pool(),),
    ]:
        assert layertable.same_with_stride_note(analyse((1, 16, 16), layers), layers) is None


def test_a_table_is_the_presets_own_only_with_the_same_layers():
    rows = [layer_to_row(layer) for layer in LENET.layers]
    assert layertable.is_preset_table([dict(r) for r in rows], rows)
    assert not layertable.is_preset_table(rows[:-1], rows)
    assert not layertable.is_preset_table([{**rows[0], "kernel": 3}, *rows[1:]], rows)


def test_training_refusal_names_what_stops_it():
    spec = NET_PRESETS["LeNet-5"]
    assert layertable.training_refusal(spec) is None
    assert (
        layertable.training_refusal(spec, "Layer 1 (conv): padding must be a number")
        == "Layer 1 (conv): padding must be a number"
    )
    assert "shipped digits are 1@28x28" in layertable.training_refusal(NetSpec((1, 32, 32), spec.layers))
    assert "10 class scores" in layertable.training_refusal(NetSpec((1, 28, 28), (Flatten(), Linear(5))))


def test_the_field_view_lists_its_layers_and_cells():
    analysis = analyse(LENET.input_shape, LENET.layers)
    assert layertable.field_layers(analysis) == [1, 2, 3, 4, 5]
    assert layertable.layer_choice_label(analysis, 3) == "3: C3, conv 5x5, 16 filters -> 16@10x10"
    relu = analyse((1, 8, 8), (Conv(2, 3), ReLU()))
    assert (
        layertable.field_layers(relu) == [1, 2]
        and layertable.layer_choice_label(relu, 2) == "2: ReLU -> 2@6x6"
    )
    assert layertable.centre_cell((16, 10, 7)) == (5, 3)
    assert layertable.link_cell("3_4", (16, 10, 10)) == (3, 4)
    for bad in ("x", "3", "10_0", "1_2_3", "-1_0"):
        with pytest.raises(ValueError, match=r"not a cell of the 10x10 output \(it should look like 3_4\)"):
            layertable.link_cell(bad, (10, 10))


def test_the_field_formula_fills_in_the_recurrence():
    analysis = analyse((1, 16, 16), (Conv(8, 3, padding=1), Conv(8, 3, padding=1)))
    assert (
        layertable.field_formula(analysis, 2)
        == "Layer 2: `r = 3 + (3 - 1)*1 = 5;  jump = 1*1 = 1;  start = 0 + ((3 - 1)/2 - 1)*1 = 0`"
    )
    uneven = analyse((1, 16, 16), (Conv(1, (3, 1)),))
    assert layertable.field_formula(uneven, 1).startswith("Layer 1, rows: `r = 1 + (3 - 1)*1 = 3;")
    assert layertable.field_formula(analyse((1, 4, 4), (ReLU(),)), 1) is None

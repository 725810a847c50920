"""The Layer arithmetic page under AppTest: presets, edits through the table, errors, the receptive field view."""

import numpy as np
import pytest
from conftest import app_test, decode, error_texts, plotly_figures, shown_tables

PAGE = "pages/5_Layer_arithmetic.py"


def table(at):
    return shown_tables(at)[0]


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def editor_drawn(at) -> bool:
    """Whether the last run drew the layer editor (a widget's state is kept only while it is drawn)."""
    return f"layers_editor_{at.session_state['layers_version']}" in at.session_state


def open_editor(at):
    if not editor_drawn(at):
        at.session_state["layers_edit"] = True
        at.run()
    return at


def edit(at, edited_rows=None, added_rows=(), deleted_rows=()):
    """Apply cell edits to the builder's table the way the browser sends them, then rerun (the editor's fold
    is opened first: the editor is drawn only while it is open)."""
    open_editor(at)
    key = f"layers_editor_{at.session_state['layers_version']}"
    at.session_state[key] = {
        "edited_rows": edited_rows or {},
        "added_rows": list(added_rows),
        "deleted_rows": list(deleted_rows),
    }
    return at.run()


@pytest.fixture
def at():
    at = app_test(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_lenet_is_the_default_with_its_counts(at):
    t = table(at)
    assert list(t["Name"]) == ["input", "C1", "S2", "C3", "S4", "C5", "", "F6", "output"]
    assert list(t["Output C@HxW"])[:6] == ["1@32x32", "6@28x28", "6@14x14", "16@10x10", "16@5x5", "120@1x1"]
    assert [t["Parameters"][k] for k in (1, 3, 5, 7, 8)] == ["156", "2,416", "48,120", "10,164", "850"]
    assert t["Parameter formula"][3] == "16×(6×5×5 + 1) = 2,416"
    assert t["Output size"][1] == "H = W = floor((32 + 2×0 - 5) / 1) + 1 = floor(27/1) + 1 = 28"
    assert list(t["Receptive field"])[:6] == ["1", "5", "6", "14", "16", "32"]
    assert metrics(at)["Parameters in all"] == "61,706"
    assert not error_texts(at)
    assert not at.code  # the PyTorch is drawn only when its fold is opened
    at.session_state["layers_torch"] = True
    code = at.run().code[0].value
    assert "nn.Conv2d(6, 16, kernel_size=5)" in code and "nn.Linear(120, 84)" in code


@pytest.mark.parametrize(
    ("preset", "shape", "values", "params"),
    [
        ("AlexNet's first layer (227x227x3)", "96@55x55", "290,400", "34,944"),
        ("100x100x3, 32 filters 5x5, same, stride 1", "32@100x100", "320,000", "2,432"),
        ("100x100x3, 32 filters 5x5, same padding, stride 2", "32@50x50", "80,000", "2,432"),
        ("100x100x3, 32 filters 5x5, valid", "32@96x96", "294,912", "2,432"),
        ("Fully connected on a 64x64x3 image", "1", "1", "12,290,001"),
    ],
)
def test_presets_load_their_input_and_layers(at, preset, shape, values, params):
    at.selectbox(key="layers_preset").set_value(preset).run()
    assert not at.exception and not error_texts(at)
    m = metrics(at)
    assert (m["Output shape"], m["Output values"], m["Parameters in all"]) == (shape, values, params)


def test_alexnet_input_and_formula(at):
    at.selectbox(key="layers_preset").set_value("AlexNet's first layer (227x227x3)").run()
    assert [at.number_input(key=k).value for k in ("layers_C", "layers_H", "layers_W")] == [3, 227, 227]
    assert "floor(216/4) + 1 = 55" in table(at)["Output size"][1]
    assert table(at)["Parameter formula"][1] == "96×(3×11×11 + 1) = 34,944"
    assert "96×(363 + 1) = 34,944 parameters" in " ".join(c.value for c in at.caption)  # the preset's note


def test_the_total_padding_convention_gives_the_same_sizes(at):
    at.selectbox(key="layers_preset").set_value("100x100x3, 32 filters 5x5, same padding, stride 2").run()
    assert (
        table(at)["Output size"][1]
        == "H = W = floor((100 + 2×2 - 5) / 2) + 1 = floor(99/2) + 1 = floor(49.5) + 1 = 50"
    )
    at.toggle(key="layers_total_padding").set_value(True).run()
    assert table(at)["Output size"][1] == "H = W = floor((100 - 5 + 4 + 2) / 2) = floor(101/2) = 50"


def test_the_notes_slip_is_pointed_out(at):
    at.selectbox(key="layers_preset").set_value("100x100x3, 32 filters 5x5, same, stride 1").run()
    note = " ".join(c.value for c in at.caption)
    assert "5×5×3×32 + 32 = 2,400 + 32 = 2,432 (the notes print 2,430" in note
    assert table(at)["Parameters"][1] == "2,432"


def test_a_kernel_too_large_shows_an_error_and_keeps_the_rows_before(at):
    edit(at, {2: {"kernel": 15}})  # C3 becomes 15x15 over 14x14 maps
    assert not at.exception
    assert error_texts(at) == [
        "Layer 3 (C3, conv 15x15, 16 filters): kernel 15x15 is larger than the padded input 14x14; "
        "add padding or shrink the kernel"
    ]
    assert list(table(at)["Name"]) == ["input", "C1", "S2"]
    assert metrics(at)["Output shape (before the error)"] == "6@14x14"


def test_a_smaller_input_breaks_c5(at):
    at.number_input(key="layers_H").set_value(28).run()
    at.number_input(key="layers_W").set_value(28).run()
    assert (
        "Layer 5 (C5, conv 5x5, 120 filters): kernel 5x5 is larger than the padded input 4x4"
        in error_texts(at)[0]
    )
    assert list(table(at)["Output C@HxW"]) == ["1@28x28", "6@24x24", "6@12x12", "16@8x8", "16@4x4"]


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ({0: {"padding": "abc"}}, 'Layer 1 (conv): padding must be a number, "same" or "valid", got \'abc\''),
        ({0: {"stride": 2, "padding": "same"}}, 'padding="same" only works with stride 1 (got stride 2)'),
        ({7: {"in": 100}}, "this linear layer expects 100 inputs but the layer before gives 84"),
        ({1: {"padding": "2"}}, "padding 2 is more than half the 2x2 window"),
    ],
)
def test_bad_cells_name_the_layer_and_say_what_to_do(at, edits, message):
    edit(at, edits)
    assert not at.exception
    assert any(message in e for e in error_texts(at)), error_texts(at)


def test_deleting_the_flatten_asks_for_it_back(at):
    edit(at, deleted_rows=[5])
    assert "add a flatten layer before it (120*1*1 = 120 features)" in error_texts(at)[0]
    assert len(table(at)) == 6  # the input and C1..C5


def test_adding_and_editing_layers_updates_every_figure(at):
    at.selectbox(key="layers_preset").set_value("Stacked 3x3 convolutions (receptive field 3, 5, 7)").run()
    assert list(table(at)["Receptive field"]) == ["1", "3", "3", "5", "5", "7"]
    edit(at, added_rows=[{"layer": "max pool", "kernel": 2}, {"layer": "conv", "out": 4, "kernel": 3}])
    t = table(at)
    assert list(t["Output C@HxW"])[-2:] == ["8@8x8", "4@6x6"]
    assert list(t["Receptive field"])[-2:] == ["8", "12"]  # the pool doubles the jump: 7 + 1, then 8 + 2*2
    assert t["Parameter formula"][7] == "4×(8×3×3 + 1) = 292"
    assert metrics(at)["Parameters in all"] == f"{80 + 584 + 584 + 292:,}"


def test_the_editor_opens_on_demand_and_closing_it_keeps_the_edits(at):
    assert not editor_drawn(at)  # folded at first: its grid costs a first render
    edit(at, {0: {"kernel": 3}}, added_rows=[{"layer": "ReLU"}])  # C1 3x3, and a ReLU at the end
    shown = list(table(at)["Layer"])
    assert shown[1] == "conv 3x3, 6 filters" and shown[-1] == "ReLU", shown
    at.session_state["layers_edit"] = False  # closed: the table still shows the edited network
    at.run()
    assert not at.exception and list(table(at)["Layer"]) == shown
    assert "net" in at.query_params  # and the link still holds it
    edit(at, {2: {"out": 8}})  # reopened: it starts from the edited rows, and a new edit adds to them
    shown = list(table(at)["Layer"])
    assert shown[1:4:2] == ["conv 3x3, 6 filters", "conv 5x5, 8 filters"] and shown[-1] == "ReLU", shown


def test_reset_brings_the_preset_back(at):
    edit(at, {2: {"kernel": 15}})
    assert error_texts(at)
    at.button(key="layers_reset").click().run()
    assert not error_texts(at) and metrics(at)["Parameters in all"] == "61,706"


def field_figures(at):
    figs = plotly_figures(at)
    assert len(figs) == 2
    return figs[0], figs[1]  # the layer's output grid, the input with the field


def test_receptive_field_of_a_corner_cell_reaches_into_the_padding(at):
    at.selectbox(key="layers_preset").set_value("Stacked 3x3 convolutions (receptive field 3, 5, 7)").run()
    at.number_input(key="layers_cell_row").set_value(0).run()
    at.number_input(key="layers_cell_col").set_value(0).run()
    text = " ".join(m.value for m in at.markdown)
    assert "Output cell (0, 0) of layer 5 has a 7x7 receptive field: input rows -3..3, columns -3..3." in text
    assert "Inside the picture that is rows 0..3, columns 0..3; the rest is padding (zeros)." in text
    assert "`r = 5 + (3 - 1)*1 = 7;  jump = 1*1 = 1;  start = 0 + ((3 - 1)/2 - 1)*1 = 0`" in text
    out, field = field_figures(at)
    seen = decode(out["data"][0]["z"])
    assert seen.shape == (16, 16) and seen[0, 0] == 16 and seen[8, 8] == 49  # a corner sees 4x4 pixels
    assert out["layout"]["shapes"][0]["x0"] == -0.5 and out["layout"]["shapes"][0]["y0"] == -0.5
    counts = decode(field["data"][0]["z"])
    assert counts.shape == (19, 19)  # input rows -3..15: three rows of padding drawn above
    assert field["data"][0]["y0"] == -3
    assert np.count_nonzero(counts) == 16 and counts[3:7, 3:7].min() > 0
    # Input (0, 0) is the field's centre: reached by more paths than (3, 3) at the field's edge.
    assert counts[3, 3] > counts[6, 6]
    grey = decode(field["data"][1]["z"])
    assert np.isfinite(grey[:3]).all() and np.isnan(grey[3:, 3:]).all()  # padding shaded, the picture not


def test_choosing_an_earlier_layer_and_zooming(at):
    at.selectbox(key="layers_preset").set_value("AlexNet's first layer (227x227x3)").run()
    assert at.toggle(key="layers_zoom").value is True  # a 227x227 input starts zoomed to the field
    assert [at.number_input(key=k).value for k in ("layers_cell_row", "layers_cell_col")] == [27, 27]
    _, field = field_figures(at)
    counts = decode(field["data"][0]["z"])
    assert counts.shape == (15, 15) and field["data"][0]["y0"] == 27 * 4 - 2  # 11x11 field, 2-cell margin
    assert np.count_nonzero(counts) == 121
    at.toggle(key="layers_zoom").set_value(False).run()
    assert decode(plotly_figures(at)[1]["data"][0]["z"]).shape == (227, 227)
    at.selectbox(key="layers_preset").set_value("LeNet-5 (32x32 digits)").run()
    at.selectbox(key="layers_rf_layer").set_value(3).run()  # C3: 16@10x10, field 14
    assert [at.number_input(key=k).value for k in ("layers_cell_row", "layers_cell_col")] == [5, 5]
    text = " ".join(m.value for m in at.markdown)
    assert (
        "Output cell (5, 5) of layer 3 has a 14x14 receptive field: input rows 10..23, columns 10..23."
        in text
    )


def test_a_click_on_the_output_grid_chooses_the_cell(at):
    at.selectbox(key="layers_preset").set_value("Stacked 5x5 convolutions (receptive field 5, 9, 13)").run()
    # What st.plotly_chart(on_select="rerun") stores when a cell's marker is clicked (AppTest cannot click).
    at.session_state["layers_out_chart"] = {
        "selection": {"points": [{"x": 6, "y": 1}], "point_indices": [14]}
    }
    at.run()
    assert not at.exception
    assert [at.number_input(key=k).value for k in ("layers_cell_row", "layers_cell_col")] == [1, 6]
    text = " ".join(m.value for m in at.markdown)
    assert (
        "Output cell (1, 6) of layer 3 has a 13x13 receptive field: input rows 1..13, columns 6..18." in text
    )


def test_a_photo_sized_input_keeps_the_table_and_skips_the_picture(at):
    at.selectbox(key="layers_preset").set_value("Fully connected on a 64x64x3 image").run()
    at.number_input(key="layers_H").set_value(1632).run()
    at.number_input(key="layers_W").set_value(2912).run()
    assert table(at)["Values"][1] == "14,257,152"  # 1632 x 2912 x 3 features, flattened
    assert metrics(at)["Parameters in all"] == f"{(14_257_152 + 1) * 1000 + 1001:,}"
    at.selectbox(key="layers_preset").set_value("100x100x3, 32 filters 5x5, valid").run()
    at.number_input(key="layers_H").set_value(600).run()
    assert not at.exception
    assert "drawn for inputs up to 512x512; this one is 600x100" in at.info[0].value
    assert metrics(at)["Output shape"] == "32@596x96"
    assert not plotly_figures(at)

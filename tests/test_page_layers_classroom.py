"""Layer arithmetic in classroom mode: the whole screen from a link, bad links, "same" with stride 2 explained."""

from conftest import app_test, error_texts, plotly_figures, shown_tables

from cnnviz.lessons.layer_rows import layer_to_row, layers_from_rows
from cnnviz.lessons.layers import Conv, Pool, ReLU
from cnnviz.lessons.netcode import decode_rows, encode_rows

PAGE = "pages/5_Layer_arithmetic.py"
SAME_2 = "100x100x3, 32 filters 5x5, same padding, stride 2"


def shapes(at) -> list[str]:
    return list(shown_tables(at)[0]["Output C@HxW"])


def test_an_edited_network_round_trips_through_its_link_code():
    rows = [layer_to_row(layer) for layer in (Conv(8, 3, padding="same", name="c1"), ReLU(), Pool("avg", 2))]
    assert layers_from_rows(decode_rows(encode_rows(rows)))[0] == layers_from_rows(rows)[0]


def test_the_whole_screen_comes_from_the_link():
    net = encode_rows([layer_to_row(layer) for layer in (Conv(4, 3, name="a"), Pool("max", 2), Conv(2, 3))])
    at = app_test(PAGE)
    at.query_params.update(
        {"layers_preset": "Stacked 5x5 convolutions (receptive field 5, 9, 13)", "layers_H": "12", "net": net}
    )
    at.query_params.update({"rf": "2", "cell": "1_3"})
    at.run()
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    assert shapes(at) == ["1@12x20", "4@10x18", "4@5x9", "2@3x7"]
    assert at.selectbox(key="layers_rf_layer").value == 2
    assert (at.number_input(key="layers_cell_row").value, at.number_input(key="layers_cell_col").value) == (
        1,
        3,
    )


def test_a_first_run_cut_short_still_opens_the_links_field_and_cell(monkeypatch):
    """A browser's rerun request can stop a run anywhere (Streamlit raises RerunException at the next st call).
    The session's first run is cut short here just before the field is drawn; the run that follows must
    still apply the link's layer (`rf`) and cell, and keep them in the link."""
    from urllib.parse import urlencode

    import streamlit as st
    from streamlit.runtime.scriptrunner_utils.exceptions import RerunException
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

    import cnnviz.lessons.layertable as layertable

    field_layers, cut = layertable.field_layers, []

    def first_run_cut_short(analysis):
        if not cut:  # the browser's request carries the page's address, as the browser shows it
            cut.append(True)
            raise RerunException(RerunData(query_string=urlencode(st.query_params.to_dict())))
        return field_layers(analysis)

    monkeypatch.setattr(layertable, "field_layers", first_run_cut_short)
    at = app_test(PAGE)
    at.query_params.update({"rf": "2", "cell": "1_3"})
    at.run()
    assert cut and not at.exception
    assert at.selectbox(key="layers_rf_layer").value == 2
    cell = (at.number_input(key="layers_cell_row").value, at.number_input(key="layers_cell_col").value)
    assert cell == (1, 3)
    assert at.query_params["rf"] == "2" and at.query_params["cell"] == "1_3"
    at.selectbox(key="layers_rf_layer").set_value(1).run()  # applied once: later choices are the student's
    assert at.selectbox(key="layers_rf_layer").value == 1


def test_a_bad_link_warns_and_shows_the_preset():
    at = app_test(PAGE)
    at.query_params.update({"net": "not-a-table", "layers_H": "0", "rf": "99", "cell": "x"})
    at.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "table of layers could not be read" in warnings
    assert "layers_H" in warnings and "from 1 to 4096" in warnings
    assert "**rf** to `99`" in warnings
    assert "**cell** to `x`" in warnings
    assert shapes(at)[:2] == ["1@32x32", "6@28x28"]  # LeNet, the default preset


def test_same_padding_with_stride_2_is_explained_with_both_frameworks_numbers():
    at = app_test(PAGE)
    at.query_params["layers_preset"] = SAME_2
    at.run()
    assert shapes(at) == ["3@100x100", "32@50x50"]
    note = " ".join(i.value for i in at.info)
    assert "PyTorch refuses `padding='same'`" in note
    assert "floor((100 + 2×2 - 5)/2) + 1 = 50" in note
    assert "ceil(100/2) = 50 outputs and pads 1 before and 2 after" in note


def test_same_with_stride_2_in_the_table_names_the_padding_that_would_work():
    at = app_test(PAGE).run()
    at.session_state["layers_edit"] = True  # the editor is drawn while its fold is open
    at.run()
    key = f"layers_editor_{at.session_state['layers_version']}"
    at.session_state[key] = {
        "edited_rows": {0: {"stride": 2, "padding": "same"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert any('TensorFlow\'s "same" means ceil(32/2) = 16 outputs' in e for e in error_texts(at))
    assert any("PyTorch refuses" in i.value for i in at.info)


def test_projector_mode_enlarges_the_output_grid_and_hides_the_explanations():
    at = app_test(PAGE)
    at.query_params.update(
        {"projector": "true", "layers_preset": "Stacked 3x3 convolutions (receptive field 3, 5, 7)"}
    )
    at.run()
    out = next(f for f in plotly_figures(at) if f["data"] and f["data"][0].get("type") == "heatmap")
    assert out["layout"]["font"]["size"] >= 18
    assert not any("updates three numbers" in m.value for m in at.markdown)


def test_the_table_downloads_as_csv():
    at = app_test(PAGE).run()
    assert [b.proto.label for b in at.get("download_button")] == ["This table (CSV)", "This network (JSON)"]

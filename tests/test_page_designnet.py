"""Design your own network under AppTest: Layer arithmetic sends a network to the Train page, which refuses a
bad one naming the layer, trains a good one (tiny) with the live view, explains a conv activation, and takes
network and weight files."""

from conftest import app_test, shown_tables

from cnnviz.lenet.netbuild import build, weights_bytes
from cnnviz.lessons.layer_rows import layer_to_row
from cnnviz.lessons.layers import Conv, Flatten, Linear, ReLU
from cnnviz.lessons.netcode import encode_rows
from cnnviz.lessons.netspec import INPUT_SHAPE, NET_PRESETS, NetSpec, spec_json

LAYERS = "pages/5_Layer_arithmetic.py"
TRAIN = "pages/6_Train_LeNet.py"
NO_POOL = "No pooling (stride-2 convolutions)"


def errors(at) -> str:
    return " | ".join(e.value for e in at.error)


def train_page_with(spec: NetSpec):
    at = app_test(TRAIN)
    at.query_params["net"] = encode_rows([layer_to_row(x) for x in spec.layers])
    return at.run()


def stop_run(at) -> None:
    if "designnet_job" in at.session_state:
        job = at.session_state["designnet_job"][1]
        job.stop()
        job.join(10)


def test_layer_arithmetic_sends_a_trainable_network_to_the_train_page():
    at = app_test().run()
    at.switch_page(LAYERS).run()
    at.selectbox(key="layers_preset").set_value(f"To train: {NO_POOL}").run()
    at.button(key="layers_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="train_network").value == "yours"
    assert "nn.Conv2d(1, 8, kernel_size=3, stride=2, padding=1)" in " ".join(c.value for c in at.code)
    assert at.button(key="designnet_start") is not None


def test_layer_arithmetic_refuses_a_network_the_digits_cannot_train_and_keeps_the_table():
    at = app_test(LAYERS).run()  # the first preset: LeNet-5 on 32x32 inputs
    at.button(key="layers_train").click().run()
    assert "Not sent to training: the input is 1@32x32 but the shipped digits are 1@28x28" in errors(at)
    assert at.session_state["layers_loaded"] == at.selectbox(key="layers_preset").value
    assert len(shown_tables(at)) == 1 and "train_network" not in at.session_state


def test_the_train_page_refuses_a_bad_network_naming_the_layer():
    at = train_page_with(NetSpec(INPUT_SHAPE, (Conv(4, 3), Flatten(), Linear(5, name="head"))))
    assert "cannot be trained here: Layer 3 (head, linear, 5 outputs) gives 5" in errors(at)
    assert (
        not at.button(key="designnet_start") if False else "designnet_start" not in [b.key for b in at.button]
    )


def test_a_designed_network_trains_live_and_explains_a_conv_activation():
    at = train_page_with(NET_PRESETS[NO_POOL])
    assert at.radio(key="train_network").value == "yours"
    at.number_input(key="designnet_epochs").set_value(1)
    at.select_slider(key="designnet_n_train").set_value(500)
    at.select_slider(key="designnet_batch").set_value(64).run()
    try:
        at.button(key="designnet_start").click().run()
        job = at.session_state["designnet_job"][1]
        assert job.join(60), "the tiny run did not finish"
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        view = job.view()
        assert view.state == "finished" and view.step == 8  # 500 images in batches of 64
        assert "Download the trained weights (.pt)" in [b.proto.label for b in at.get("download_button")]
        at.selectbox(key="designnet_layer").set_value(3)
        at.number_input(key="designnet_map").set_value(5)
        at.number_input(key="designnet_row").set_value(2)
        at.number_input(key="designnet_col").set_value(4).run()
        expected = view.live.activations[3][5, 2, 4]  # conv2's output before its ReLU
        text = " ".join(m.value for m in at.markdown)
        assert "Layer 3 map 5, cell (2, 4)" in text and f"= {expected:.4g}, which is the value" in text
    finally:
        stop_run(at)


def test_weights_of_another_network_are_refused_naming_the_tensor():
    at = train_page_with(NET_PRESETS[NO_POOL])
    other = NetSpec(INPUT_SHAPE, (Conv(8, 5, stride=2, padding=1), ReLU(), Flatten(), Linear(10)))
    data = weights_bytes(other, build(other.analysis()))
    at.get("file_uploader")[1].upload("other.pt", data, "application/octet-stream").run() if False else None
    uploader = next(
        u
        for u in at.get("file_uploader")
        if u.proto.id.endswith("designnet_weights") or "weights" in u.proto.label.lower()
    )
    uploader.upload("other.pt", data, "application/octet-stream").run()
    assert (
        "other.pt: tensor 0.weight: the file has shape (8, 1, 5, 5), this network needs (8, 1, 3, 3)"
        in errors(at)
    )
    good = weights_bytes(NET_PRESETS[NO_POOL], build(NET_PRESETS[NO_POOL].analysis(), seed=9))
    uploader = next(u for u in at.get("file_uploader") if "weights" in u.proto.label.lower())
    uploader.upload("good.pt", good, "application/octet-stream").run()
    assert "Starting from your uploaded weights: good.pt." in [s.value for s in at.success]


def test_a_network_file_loads_and_a_bad_one_is_refused():
    at = train_page_with(NET_PRESETS[NO_POOL])
    uploader = next(u for u in at.get("file_uploader") if ".json" in u.proto.label)
    uploader.upload(
        "gap.json",
        spec_json(NET_PRESETS["Global average pooling (no flatten + big linear)"]).encode(),
        "application/json",
    ).run()
    assert "nn.AvgPool2d(kernel_size=7, stride=7)" in " ".join(c.value for c in at.code)
    uploader = next(u for u in at.get("file_uploader") if ".json" in u.proto.label)
    uploader.upload("bad.json", b"{}", "application/json").run()
    assert "bad.json: this JSON is not a cnnviz network" in errors(at)
    assert "nn.AvgPool2d(kernel_size=7, stride=7)" in " ".join(
        c.value for c in at.code
    )  # the last good one stays


def test_the_train_pages_edit_link_opens_the_network_on_layer_arithmetic_in_the_same_session():
    at = app_test(LAYERS).run()  # this session has seen Layer arithmetic already
    rows = [layer_to_row(x) for x in NET_PRESETS["1x1 convolutions (mix channels, keep the size)"].layers]
    at.query_params.update({"net": encode_rows(rows), "layers_preset": "To train: LeNet-5"})  # the edit link
    at.run()
    shown = shown_tables(at)[0]
    assert "squeeze 1x1" in " ".join(map(str, shown["Name"])) and shown["Output C@HxW"].iloc[-1] == "10"
    assert not at.error

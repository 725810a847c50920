"""The Train LeNet page under AppTest: a short live run, pause/resume/stop, a typed grid, weights upload,
the shipped weights at once, a run found again from its URL token, explaining a clicked activation."""

import re
import time

import numpy as np
from conftest import app_test, decode, plotly_figures

from cnnviz.inputs import format_grid
from cnnviz.lenet.data import load_digits, load_mnist5k, read_idx, to_model_input
from cnnviz.lenet.model import LeNet5, weights_bytes

PAGE = "pages/6_Train_LeNet.py"


def progress_text(at) -> str:
    bars = at.get("progress")
    return bars[0].proto.text if bars else ""


def step_of(at) -> int:
    match = re.search(r"step (\d+) of", progress_text(at))
    return int(match.group(1)) if match else -1


def curves(at) -> dict:
    """What the curves chart was sent: its train and test lists (the chart is drawn by the browser)."""
    view = at.session_state["train_holder"].job.view()
    return {"train": view.train_curve, "test": view.test_curve}


def stop_training(*apptests) -> None:
    """Stop any run these sessions started, without a page run (cleanup for a failed test). `release()` only
    detaches a run that has a URL token (a refresh may reattach), so stop the job itself and wait for it."""
    for at in apptests:
        if "train_holder" in at.session_state and at.session_state["train_holder"].job is not None:
            job = at.session_state["train_holder"].job
            job.stop()
            job.join(10)


def run_until(at, condition, timeout: float = 30.0, pause: float = 0.3):
    """Rerun the page (what the 1 s fragment timer does in a browser) until `condition(at)`."""
    start = time.monotonic()
    while True:
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        if condition(at):
            return at
        assert time.monotonic() - start < timeout, progress_text(at)
        time.sleep(pause)


def test_a_short_run_updates_the_plots_and_finishes():
    at = app_test(PAGE).run()
    assert not at.exception
    assert "Press **Start training**" in at.info[0].value
    at.number_input(key="train_epochs").set_value(2).run()
    at.select_slider(key="train_batch").set_value(64).run()  # fewer, larger steps: a quicker test
    at.button(key="train_start").click().run()
    assert not at.exception
    try:
        watch_a_short_run(at)
    finally:
        stop_training(at)


def live_snapshot(at):
    return at.session_state["train_holder"].job.view().live


def view_caption(at) -> str:
    return next(c.value for c in at.caption if "Click a cell of a C1 or C3 map" in c.value)


def watch_a_short_run(at):
    run_until(at, lambda at: step_of(at) > 0 and len(curves(at)["train"]["epoch"]) >= 1, pause=0.1)
    first_points = len(curves(at)["train"]["epoch"])
    first_c1 = live_snapshot(at).c1
    run_until(at, lambda at: any(h.value == "3. After training" for h in at.header), timeout=60, pause=1.0)
    assert "finished" in progress_text(at)
    data = curves(at)
    assert len(data["train"]["epoch"]) > first_points  # the train curve grew while we watched
    test_accuracy = data["test"]["accuracy"]
    assert len(test_accuracy) == 2 and test_accuracy[-1] > 0.5  # chance is 0.1
    last_c1 = live_snapshot(at).c1
    assert not np.allclose(first_c1, last_c1)  # the filters moved
    confusion = next(
        f for f in plotly_figures(at) if f["data"] and "true %{y}" in f["data"][0].get("hovertemplate", "")
    )
    assert decode(confusion["data"][0]["z"]).sum() == 1000  # every test image counted once
    # The replay scrubber drives the same view: back to the first snapshot.
    replay = at.slider(key="train_replay")
    assert replay.value == replay.max > 5
    replay.set_value(0).run()
    assert at.radio(key="train_view_source").value == "replay"
    assert view_caption(at).startswith(f"Replay snapshot 0 of {int(replay.max)}: step 0")
    assert at.get("download_button")
    at.button(key="train_reset").click().run()
    assert "Press **Start training**" in at.info[0].value


def test_pause_resume_and_stop():
    at = app_test(PAGE).run()
    at.number_input(key="train_epochs").set_value(100).run()
    at.button(key="train_start").click().run()
    try:
        pause_resume_stop(at)
    finally:
        stop_training(at)


def pause_resume_stop(at):
    run_until(at, lambda at: step_of(at) > 5, pause=0.1)
    at.button(key="train_pause").click().run()
    run_until(at, lambda at: "**paused**" in progress_text(at), pause=0.1)
    paused_at = step_of(at)
    time.sleep(0.5)
    at.run()
    assert step_of(at) == paused_at  # nothing trains while paused
    assert "s left" not in progress_text(at)  # no countdown while nothing trains
    assert at.button(key="train_resume").disabled is False
    at.button(key="train_resume").click().run()
    run_until(at, lambda at: step_of(at) > paused_at + 5, pause=0.1)
    at.button(key="train_stop").click().run()
    run_until(at, lambda at: "**stopped**" in progress_text(at), pause=0.1)
    stopped_at = step_of(at)
    time.sleep(0.3)
    at.run()
    assert step_of(at) == stopped_at
    assert not at.session_state["train_holder"].job.alive  # no thread left behind
    assert at.button(key="train_start").disabled is False
    at.button(key="train_reset").click().run()


def test_two_sessions_do_not_share_a_run():
    first = app_test(PAGE).run()
    first.number_input(key="train_epochs").set_value(100).run()
    first.button(key="train_start").click().run()
    try:
        second = app_test(PAGE).run()
        assert not second.exception
        assert "Press **Start training**" in second.info[0].value and not second.get("progress")
        first.run()
        assert first.get("progress")  # the first session still sees its own run
    finally:
        stop_training(first)


def test_the_shipped_weights_read_a_typed_mnist_digit_at_once():
    """No training: "Try it" uses the pretrained weights, and the view can show the input's activations."""
    at = app_test(PAGE).run()
    assert at.radio(key="train_start_from").value == "pretrained"
    assert at.selectbox(key="train_activation").disabled  # the weights fix relu + max pooling
    mnist = load_mnist5k()
    for index in (0, 1, 2, 3):
        grid = format_grid(mnist.X_test[index])
        at.text_area(key="train_try_grid").set_value(grid).run()
        assert not at.exception and not at.error
        prediction = [s.value for s in at.subheader if s.value.startswith("Prediction")]
        assert prediction[0].startswith(f"Prediction: {mnist.y_test[index]} ("), (index, prediction)
    assert at.radio(key="train_view_source").value == "try"  # a new input is shown in the one view
    assert view_caption(at).startswith("Your input from Try it.")


def test_a_typed_grid_gets_a_prediction_and_a_typo_keeps_it():
    at = app_test(PAGE).run()
    digits = load_digits()
    grid = format_grid(np.round(digits.X_test[5] * (16 / 255)))  # the digits' ink counts 0..16
    at.text_area(key="train_try_grid").set_value(grid).run()
    assert not at.exception and not at.error
    prediction = [s.value for s in at.subheader if s.value.startswith("Prediction")]
    assert len(prediction) == 1 and re.match(r"Prediction: \d \(\d+\.\d%\)", prediction[0])
    captions = [caption for img in at.image for caption in img.captions]
    assert "your 8x8 grid" in captions and "model input 1@32x32" in captions
    at.text_area(key="train_try_grid").set_value(grid + "\n" + "0 " * 8).run()
    assert not at.exception
    assert any("the grid is 9x8" in e.value for e in at.error)
    assert any(s.value.startswith("Prediction") for s in at.subheader)  # the last good input stays


def test_a_bad_weights_upload_shows_an_error_and_a_good_one_is_used():
    at = app_test(PAGE).run()
    assert not at.file_uploader  # the uploader is drawn when its fold is opened
    at.session_state["train_weights_fold"] = True
    at.run()
    at.file_uploader(key="train_weights_upload").upload(
        "w.pt", b"not a weights file", "application/octet-stream"
    )
    at.run()
    assert not at.exception
    assert any("corrupt or truncated" in e.value for e in at.error)
    good = weights_bytes(LeNet5("tanh", "avg", seed=1))
    at.file_uploader(key="train_weights_upload").upload("good.pt", good, "application/octet-stream").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="train_activation").value == "tanh"
    assert at.selectbox(key="train_pooling").value == "avg"
    assert any("Uploaded: good.pt" in s.value for s in at.success)
    assert at.radio(key="train_start_from").value == "uploaded"
    at.session_state["train_weights_fold"] = False
    at.run()
    assert not at.file_uploader and not at.exception  # a closed fold keeps the weights read
    assert at.radio(key="train_start_from").value == "uploaded"
    assert at.selectbox(key="train_activation").value == "tanh"


def test_an_uploaded_picture_is_preprocessed_and_predicted():
    import io

    from PIL import Image, ImageDraw

    picture = Image.new("L", (100, 140), 255)  # a dark stroke on white paper, like a photo of a "1"
    ImageDraw.Draw(picture).line([(50, 20), (50, 120)], fill=0, width=12)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    at = app_test(PAGE).run()
    at.radio(key="train_try_source").set_value("Upload a picture").run()
    at.file_uploader(key="train_try_upload").upload("one.png", buffer.getvalue(), "image/png").run()
    assert not at.exception and not at.error
    captions = [caption for img in at.image for caption in img.captions]
    assert "inverted: ink bright on dark" in captions and "model input 1@32x32" in captions
    assert any(s.value.startswith("Prediction") for s in at.subheader)
    at.file_uploader(key="train_try_upload").upload("notes.png", b"not a picture", "image/png").run()
    assert any("could not read this file as an image" in e.value for e in at.error)
    assert any(s.value.startswith("Prediction") for s in at.subheader)  # the last good picture stays


def fake_idx_files(folder) -> dict[str, bytes]:
    """Four small gzipped IDX files shaped like Fashion-MNIST (30 train, 12 test images)."""
    from cnnviz.lenet.data import IDX_FILES, write_idx

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for role, stem in IDX_FILES.items():
        n = 30 if role.startswith("train") else 12
        array = rng.integers(0, 255, (n, 28, 28)) if role.endswith("images") else rng.integers(0, 10, n)
        files[stem + ".gz"] = write_idx(folder / (stem + ".gz"), array.astype(np.uint8)).read_bytes()
    return files


def test_mnist_comes_from_an_upload_never_from_a_path_a_student_types(tmp_path, monkeypatch):
    files = fake_idx_files(tmp_path / "fashion-mnist")
    monkeypatch.delenv("CNNVIZ_DATA_DIR", raising=False)
    at = app_test(PAGE).run()
    at.selectbox(key="train_dataset").set_value("fashion-mnist").run()
    assert not at.exception
    assert not at.text_input and not at.checkbox  # no path box, no download switch
    assert any("Fashion-MNIST is not on this server. Upload its four IDX files" in e.value for e in at.error)
    assert any("**mnist5k**" in c.value for c in at.caption)  # falls back to the shipped digits
    uploader = at.file_uploader(key="train_idx_upload_fashion-mnist")
    for file_name, raw in list(files.items())[:3]:
        uploader.upload(file_name, raw)
    at.run()
    assert any("still missing: t10k-labels-idx1-ubyte" in e.value for e in at.error)
    uploader = at.file_uploader(key="train_idx_upload_fashion-mnist")  # a new upload replaces the three
    for file_name, raw in files.items():
        uploader.upload(file_name, raw)
    at.run()
    assert not at.exception and not at.error
    assert any("**fashion-mnist**: 30 training and 12 test images, 28x28" in c.value for c in at.caption)


def test_an_uploaded_data_set_keeps_the_uint8_images_the_files_hold(tmp_path):
    """No float copy of an upload: the images stay the bytes `read_idx` decoded (a quarter of float32's size)."""
    from ui.train_session import _read_uploaded

    files = fake_idx_files(tmp_path / "mnist")
    data = _read_uploaded("mnist", tuple(files.items()))
    assert data.X_train.dtype == data.X_test.dtype == np.uint8 and data.X_train.nbytes == 30 * 28 * 28
    np.testing.assert_array_equal(data.X_test, read_idx(files["t10k-images-idx3-ubyte.gz"]))


def test_a_second_page_with_the_runs_token_reattaches_and_one_without_does_not():
    """What a refresh or a second tab does: a new session opened on the URL that holds the run's token."""
    first = app_test(PAGE).run()
    first.number_input(key="train_epochs").set_value(100).run()
    first.button(key="train_start").click().run()
    try:
        token = first.query_params["run"]
        token = token[0] if isinstance(token, list) else token
        assert len(token) >= 20
        job = first.session_state["train_holder"].job
        again = app_test(PAGE)
        again.query_params["run"] = token
        again.run()
        assert not again.exception
        assert again.session_state["train_holder"].job is job  # the same run, live
        run_until(again, lambda at: step_of(at) > 0, pause=0.2)
        stranger = app_test(PAGE)
        stranger.query_params["run"] = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        stranger.run()
        assert stranger.session_state["train_holder"].job is None and not stranger.get("progress")
        plain = app_test(PAGE).run()
        assert plain.session_state["train_holder"].job is None
    finally:
        stop_training(first)


def test_a_clicked_c1_and_c3_cell_is_explained_with_the_stepper():
    """The click itself is a browser event (see test_browser_train_explain.py); here the page draws what it
    stores for a click: the numbers add up to the activation PyTorch computed."""
    at = app_test(PAGE).run()
    holder = at.session_state["train_holder"]
    assert holder.job is None
    from cnnviz.lenet.model import SHIPPED_WEIGHTS, load_weights
    from cnnviz.lenet.training import take_snapshot

    model = load_weights(SHIPPED_WEIGHTS)
    X = to_model_input(load_mnist5k().X_test[0])
    snap = take_snapshot(model, X, 0)
    for layer, k, i, j in (("C1", 4, 12, 9), ("C3", 7, 3, 6)):
        at.session_state["train_explain"] = {
            "at": (layer, k, i, j),
            "snapshot": snap,
            "activation": "relu",
            "pooling": "max",
            "caption": "test image 0",
        }
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert any(s.value == f"Explain {layer} map {k}, row {i}, column {j}" for s in at.subheader)
        text = "\n".join(m.value for m in at.markdown)
        value = float(snap.activations[layer][k, i, j])
        assert f"**{value:.4g}**: the value on {layer} map {k}" in text
        assert at.session_state["train_explain_step"] == {"cell": [i, j]}  # the stepper opens on it
        assert f"Selected: output cell ({i}, {j})" in text
    assert at.selectbox(key="train_explain_channel").options == [str(c) for c in range(6)]


def test_a_damaged_upload_is_explained_in_the_apps_words(tmp_path, monkeypatch):
    files = fake_idx_files(tmp_path / "mnist")
    files["train-images-idx3-ubyte.gz"] = files["train-images-idx3-ubyte.gz"][:40]
    monkeypatch.delenv("CNNVIZ_DATA_DIR", raising=False)
    at = app_test(PAGE).run()
    at.selectbox(key="train_dataset").set_value("mnist").run()
    uploader = at.file_uploader(key="train_idx_upload_mnist")
    for file_name, raw in files.items():
        uploader.upload(file_name, raw)
    at.run()
    assert not at.exception
    assert any(
        "train-images-idx3-ubyte.gz is a damaged gzip file" in e.value or "damaged gzip" in e.value
        for e in at.error
    )


def test_the_lecturers_folder_serves_mnist_and_its_path_is_never_shown(tmp_path, monkeypatch):
    fake_idx_files(tmp_path / "mnist")
    monkeypatch.setenv("CNNVIZ_DATA_DIR", str(tmp_path))
    at = app_test(PAGE).run()
    at.selectbox(key="train_dataset").set_value("mnist").run()
    assert not at.exception and not at.error
    assert any("**mnist**: 30 training and 12 test images" in c.value for c in at.caption)
    assert any("from the lecturer's copy" in c.value for c in at.caption)
    (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b broken")
    at.run()  # the cached copy stays in use; a fresh server would read the damaged file:
    from ui.train_session import shared_dataset

    shared_dataset.cache_clear()
    at.run()
    assert not at.exception
    assert any("the lecturer's copy of MNIST could not be read" in e.value for e in at.error)
    assert not any(str(tmp_path) in e.value for e in at.error)


def test_a_run_beyond_the_cap_says_its_place_in_line_and_starts_when_a_slot_frees(monkeypatch):
    from ui import train_session

    monkeypatch.setattr(train_session.JOBS, "limit", 1)
    first, second = app_test(PAGE).run(), app_test(PAGE).run()
    try:
        for at in (first, second):
            at.number_input(key="train_epochs").set_value(100).run()
            at.button(key="train_start").click().run()
        run_until(second, lambda at: "**queued**" in progress_text(at))
        assert any("queued: 1st in line (1 of 1 runs are training" in w.value for w in second.warning)
        assert any("1 of 1, 1 waiting in line" in c.value for c in second.caption)
        first.button(key="train_stop").click().run()
        run_until(second, lambda at: "**training**" in progress_text(at))
    finally:
        stop_training(first, second)


def test_clearing_the_caches_neither_stops_a_run_nor_resets_the_cap():
    from streamlit.runtime import caching

    from ui import train_session

    at = app_test(PAGE).run()
    at.number_input(key="train_epochs").set_value(100).run()
    at.button(key="train_start").click().run()
    try:
        run_until(at, lambda at: step_of(at) > 3)
        queue, job = train_session.JOBS, at.session_state["train_holder"].job
        caching.cache_data.clear()  # what Streamlit does for any client's clear-cache message
        caching.cache_resource.clear()
        step = step_of(at)
        run_until(at, lambda at: step_of(at) > step + 3)
        assert "**training**" in progress_text(at) and job.alive
        assert train_session.JOBS is queue and queue.training >= 1
        assert not any("images changed" in w.value for w in at.warning)  # the same data set object
    finally:
        stop_training(at)


def test_following_a_test_image_the_smaller_digits_set_lacks_moves_to_its_last_image():
    """Test image 900 of the MNIST digits, then the 8x8 digits (fewer test images): the field's range shrinks."""
    at = app_test(PAGE).run()
    at.number_input(key="train_probe").set_value(len(load_mnist5k().X_test) - 1).run()
    at.selectbox(key="train_dataset").set_value("digits").run()
    assert not at.exception, at.exception
    assert at.number_input(key="train_probe").value == len(load_digits().X_test) - 1

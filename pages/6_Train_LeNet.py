"""Train LeNet-5 live on real handwriting: one view of curves, filters and activations, click any activation
to see how it was computed, replay the run, try your own digit."""

import hashlib
from typing import NamedTuple

import numpy as np
import streamlit as st

import ui.page as ui
from cnnviz.draw.export import curves_csv
from cnnviz.draw.lenet import filters_picture, window_picture
from cnnviz.inputs import format_grid, load_image, parse_grid
from cnnviz.lenet.data import DATASETS, Dataset, grid_to_image, prepare_picture, to_model_input
from cnnviz.lenet.job import TrainingJob, model_in_view, model_to_train
from cnnviz.lenet.model import LeNet5, load_weights, weights_bytes
from cnnviz.lenet.recorder import TRAINED_STATES, JobState, JobView
from cnnviz.lenet.training import OPTIMIZERS, TrainConfig, confusion_matrix, predict
from cnnviz.lessons.explain import EXPLAINABLE, explain
from ui.click_image import click_image
from ui.curves_svg import curves_chart
from ui.designnet import network_choice, your_network_page
from ui.stepper import render_stepper
from ui.train_figures import (
    activations_png,
    architecture_figure,
    confusion_figure,
    filters_png,
    snapshot_of,
    stage_picture,
    symmetric_limit,
)
from ui.train_session import BUNDLED as SHIPPED
from ui.train_session import (
    JobHolder,
    attach_from_url,
    dataset_or_error,
    forget_run,
    keep_alive,
    queue_message,
    session_holder,
    shared_dataset,
    shipped_model,
    slots_caption,
    submit,
)

# The live view redraws every 2 s while a run is live (never faster than once a second). The run trains in a
# child process (cnnviz.lenet.job), so a redraw no longer takes the GIL from it; on 2 cores a redraw still
# takes CPU time from it (benchmarks/bench_train_browser.py measures the page against the CLI).
REDRAW_SECONDS = 2.0
DATA_LABELS = {  # short: the link holds the label
    "mnist5k": "MNIST 5k (shipped)",
    "digits": "Small digits 8x8",
    "mnist": "MNIST full (IDX)",
    "fashion-mnist": "Fashion-MNIST (IDX)",
}
START_LABELS = {"pretrained": "Pretrained", "random": "Random", "uploaded": "Uploaded"}
START_FROM = {
    "pretrained": "the shipped pretrained weights",
    "random": "fresh random weights",
    "uploaded": "your uploaded weights",
}
SOURCES_SHOWN = {"probe": "the followed test image", "replay": "a replay snapshot", "try": "your input"}
WORDS = {
    JobState.CREATED: "starting",
    JobState.RUNNING: "training",
    JobState.PAUSED: "paused",
    JobState.QUEUED: "queued",
}


class Setup(NamedTuple):
    """What the data, starting weights and architecture section chose (the live view reads it)."""

    data: Dataset
    start_from: str  # "pretrained", "random" or "uploaded"
    fixed: LeNet5 | None  # the chosen start weights, None for random ones
    activation: str
    pooling: str


class Run(NamedTuple):
    """This session's run and the live view's settings, as the settings row left them."""

    job: TrainingJob | None
    probe: int  # the test image followed
    seed: int
    detail: bool  # redraw the pictures while training


# ---------------------------------------------------------------------------------------------------------
# Data, starting weights and architecture (drawn below the live view, which reads them)


def fit_probe() -> None:
    """The data set's callback: a smaller test set shrinks the range of the test image to follow. An IDX set
    is not read yet (its files arrive by upload, in the run): `settings_row` keeps the image inside it."""
    name = st.session_state["train_dataset"]
    if name in SHIPPED:
        ui.fit_widgets({"train_probe": len(shared_dataset(name).X_test) - 1})


def data_choice() -> Dataset:
    name = ui.url_select(
        "Images",
        DATASETS,
        format_func=DATA_LABELS.get,
        key="train_dataset",
        on_change=fit_probe,
        help="MNIST 5k: 5,000 real digits shipped with the app (28x28); small digits: 1,797 images (8x8); "
        "MNIST full and Fashion-MNIST: IDX files on this computer or uploaded.",
    )
    data, data_error = dataset_or_error(name)
    if data is None:
        st.error(f"{data_error}", icon="⚠️")
        st.caption("Using the shipped MNIST digits meanwhile.")
        data, _ = dataset_or_error("mnist5k")
    size = data.image_size
    st.caption(
        f"**{data.name}**: {len(data.X_train):,} training and {len(data.X_test):,} test images, "
        f"{size}x{size}; " + ("upscaled 4x to 32x32." if size == 8 else "padded by 2 to 32x32.")
    )
    return data


def uploaded_weights(holder: JobHolder) -> None:
    """Saved weights by upload, in a fold drawn when opened (so a first visit to the page does not load the
    uploader's JavaScript): once read, the weights live in `holder`, so closing the fold keeps them."""
    with ui.folded(
        "Upload saved weights (to try or to continue training)", key="train_weights_fold", projector=True
    ) as open_:
        if open_:
            _weights_upload(holder)


def _weights_upload(holder: JobHolder) -> None:
    upload = st.file_uploader("LeNet-5 weights (.pt) saved by this page", key="train_weights_upload")
    if upload is not None and st.session_state.get("train_weights_seen") != upload.file_id:
        st.session_state["train_weights_seen"] = upload.file_id
        try:
            holder.base, holder.base_name = load_weights(upload.getvalue()), upload.name
            st.session_state.pop("train_weights_error", None)
            st.session_state["train_start_from"] = "uploaded"
        except ValueError as error:
            st.session_state["train_weights_error"] = f"{upload.name}: {error}"
    if "train_weights_error" in st.session_state:
        st.error(st.session_state["train_weights_error"], icon="⚠️")
    if holder.base is not None:
        st.success(f"Uploaded: {holder.base_name}.")
        if st.button("Forget the uploaded weights", key="train_forget_weights"):
            holder.base = None
            st.session_state["train_start_from"] = "pretrained"
            st.rerun()


def start_choice(holder: JobHolder) -> tuple[str, LeNet5 | None]:
    """Where training starts from, and those weights (None: fresh random ones)."""
    choices = ["pretrained", "random"] + (["uploaded"] if holder.base is not None else [])
    if "train_start_from" in st.session_state and st.session_state["train_start_from"] not in choices:
        st.session_state["train_start_from"] = "pretrained"
    start_from = ui.url_select(
        "Start from",
        choices,
        widget=st.radio,
        format_func=START_LABELS.get,
        key="train_start_from",
        help="Pretrained: the shipped weights, trained on the shipped MNIST digits (97% of their test images "
        "right); training continues from them. Random: learn from scratch. Uploaded: your saved weights.",
    )
    fixed = {"pretrained": shipped_model(), "uploaded": holder.base}.get(start_from)
    if fixed is not None:  # the weights fix the architecture's choices
        st.session_state["train_activation"] = fixed.activation
        st.session_state["train_pooling"] = fixed.pooling
    return start_from, fixed


def architecture(fixed: LeNet5 | None) -> tuple[str, str]:
    """Activation and pooling (fixed by start weights), and the layer table."""
    a_col, p_col = st.columns(2)
    with a_col:
        activation = ui.url_select(
            "Activation", ["relu", "tanh", "sigmoid"], key="train_activation", disabled=fixed is not None
        )
    with p_col:
        pooling = ui.url_select(
            "Pooling (S2, S4)",
            ["max", "avg"],
            key="train_pooling",
            disabled=fixed is not None,
            help="avg = LeCun's subsampling",
        )
    rows = LeNet5(activation, pooling).describe()
    # A static table: st.dataframe's grid (its JavaScript and canvas) added about 100 ms to the first render.
    ui.table(
        [
            {
                "layer": r.name,
                "what it does": r.kind,
                "output shape": "x".join(map(str, r.output_shape)),
                "parameters": f"{r.params:,}",
            }
            for r in rows
        ],
        right=("parameters",),
    )
    st.caption(f"{sum(r.params for r in rows):,} parameters in all (full C3 connectivity).")
    return activation, pooling


def setup_section(holder: JobHolder) -> Setup:
    st.header("Data, starting weights and architecture")
    data_col, arch_col = st.columns([1, 2], gap="large")
    with data_col:
        data = data_choice()
        uploaded_weights(holder)
        start_from, fixed = start_choice(holder)
    with arch_col:
        activation, pooling = architecture(fixed)
    with ui.folded("The architecture drawn", key="train_architecture_fold") as open_:
        if open_:
            rows = LeNet5(activation, pooling).describe()
            ui.show(architecture_figure(rows), key="train_architecture", width="stretch")
    return Setup(data, start_from, fixed, activation, pooling)


# ---------------------------------------------------------------------------------------------------------
# The live view's settings and Start/Pause/Stop (first on the screen: the lesson)


def settings_row(data: Dataset) -> tuple[TrainConfig, int]:
    """The run's settings and the test image to follow."""
    defaults = TrainConfig()
    h = st.columns([1.1, 1.3, 1.3, 0.8, 0.8, 1.2])
    with h[0]:
        optimizer = ui.url_select(
            "Optimiser", OPTIMIZERS, key="train_optimizer", format_func={"adam": "Adam", "sgd": "SGD"}.get
        )
    lr_choices = sorted({1e-4, 3e-4, 1e-3, 2e-3, 5e-3, 1e-2, 3e-2, 0.05, 0.1, defaults.lr})
    with h[1]:
        lr = ui.url_select_slider(
            "Learning rate",
            lr_choices,
            value=defaults.lr,
            key="train_lr",
            help="At the start; it falls smoothly to 0 by the last step. Adam: 0.001 to 0.002; SGD + momentum: 0.05",
        )
    batches = [8, 16, 32, 64, 128, 256]
    with h[2]:
        batch_size = ui.url_select_slider("Batch size", batches, value=defaults.batch_size, key="train_batch")
    with h[3]:
        epochs = ui.url_number("Epochs", 1, 100, defaults.epochs, key="train_epochs")
    with h[4]:
        seed = ui.url_number("Seed", 0, 10_000, defaults.seed, key="train_seed")
    with h[5]:
        last = len(data.X_test) - 1
        # An uploaded IDX set is read in the run, with no callback of ours (a shipped set: `fit_probe`).
        ui.keep_within("train_probe", last)
        probe = ui.url_number(f"Test image to follow (0..{last})", 0, last, 0, key="train_probe")
    config = TrainConfig(
        optimizer=optimizer, lr=lr, batch_size=int(batch_size), epochs=int(epochs), seed=int(seed)
    )
    return config, int(probe)


def act_now(action: str) -> None:
    """Pause, Resume and Stop act in a callback, at the very start of the rerun their click causes, before
    the page redraws its settings: under a class's load that is the difference between 0.1 s and seconds."""
    if (run := session_holder().job) is not None:
        getattr(run, action)()


def buttons_row(job: TrainingJob | None) -> tuple[dict[str, bool], bool]:
    """Start, Pause, Resume, Stop and Reset (which were clicked), and the redraw switch."""
    live = job is not None and job.view().state.active
    # The buttons follow what was asked: right after "Pause" the run may still finish its batch.
    paused = job is not None and job.pause_requested
    b = st.columns([1.25, 1.25, 1.4, 1.2, 0.75, 2.15], vertical_alignment="center")
    clicks = {
        "start": b[0].button("Start training", key="train_start", type="primary", disabled=live),
        "pause": b[1].button(
            "Pause training",
            key="train_pause",
            on_click=act_now,
            args=("pause",),
            disabled=not live or paused,
        ),
        "resume": b[2].button(
            "Resume training",
            key="train_resume",
            on_click=act_now,
            args=("resume",),
            disabled=not live or not paused,
        ),
        "stop": b[3].button(
            "Stop training", key="train_stop", on_click=act_now, args=("stop",), disabled=not live
        ),
        "reset": b[4].button("Reset", key="train_reset", disabled=job is None),
    }
    detail = b[5].toggle(
        "Redraw pictures every 2 s",
        value=True,
        key="train_live_detail",
        help="The filters and activations, redrawn while training. Drawing takes a little CPU time from training: turn it off to train a bit faster (curves stay live).",
    )
    return clicks, detail


def act(holder: JobHolder, clicks: dict[str, bool], setup: Setup, config: TrainConfig, probe: int) -> None:
    """What a click asks for; any click reruns the page."""
    job = holder.job
    if clicks["start"]:
        model = model_to_train(job, setup.data, setup.activation, setup.pooling, setup.fixed, config.seed)
        submit(holder, TrainingJob(model, setup.data, config, probe_index=probe, live_every=1.0))
        st.session_state["train_view_source"] = "probe"
    elif job is not None and (clicks["stop"] or clicks["reset"]):
        job.stop()
        job.join(2)
        if clicks["reset"]:
            forget_run(holder)
            holder.analysis.clear()
    elif job is not None and clicks["pause"]:
        job.pause()
    elif job is not None and clicks["resume"]:
        job.resume()
    if any(clicks.values()):
        st.rerun()


def controls_section(holder: JobHolder, setup: Setup, projector: bool):
    """Settings and buttons; returns this session's `Run` and the place the view is drawn in."""
    config, probe = settings_row(setup.data)
    job = holder.job
    if job is not None and job.data is not setup.data:
        st.warning("The images changed since this run started; Reset to train on the new ones.")
    clicks, detail = buttons_row(job)
    act(holder, clicks, setup, config, probe)
    if job is not None and job.data is setup.data and job.view().state.active and job.probe_index != probe:
        job.set_probe(probe)
    view_box = st.container()  # the one view: filled at the end of the script, once "Try it" has been read
    if not projector:  # said aloud in class
        st.caption(
            "Start after a run ends continues from its weights; Reset goes back to the starting weights chosen "
            f"above. {slots_caption()} "
            "This page's address holds the run: reload it, or open it in a second tab, and you find the run again."
        )
    return Run(job, probe, config.seed, detail), view_box


# ---------------------------------------------------------------------------------------------------------
# 3. After training


def confusion_and_misses(holder: JobHolder, job: TrainingJob, model: LeNet5) -> None:
    trained_on = job.data  # the run's own images, even if the choice changed
    key = id(job)
    if key not in holder.analysis:
        logits = predict(model, trained_on.X_test, prepare=to_model_input)
        holder.analysis.clear()
        holder.analysis[key] = logits.argmax(1).numpy()
    predicted = holder.analysis[key]
    y_test, names, side = trained_on.y_test, trained_on.class_names, trained_on.image_size
    wrong = np.flatnonzero(predicted != y_test)
    cm_col, miss_col = st.columns([1, 1])
    with cm_col:
        st.subheader("Confusion matrix (test images)")
        M = confusion_matrix(y_test, predicted, len(names))
        ui.show(confusion_figure(M, names), key="train_confusion")
    with miss_col:
        st.subheader(f"Misclassified: {len(wrong)} of {len(y_test)}")
        shown = wrong[:24]
        if len(shown):
            cols = st.columns(6)
            for i, idx in enumerate(shown):
                img = trained_on.X_test[idx]  # uint8 0..255, as a picture wants it
                with cols[i % 6]:
                    ui.picture(
                        np.kron(img, np.ones((96 // side, 96 // side), np.uint8)),
                        caption=f"#{idx}: {names[y_test[idx]]} → {names[predicted[idx]]}",
                    )
        else:
            st.success("Every test image is classified correctly.")


def after_training_section(holder: JobHolder, job: TrainingJob) -> None:
    st.header("3. After training")
    model = job.current_model()
    confusion_and_misses(holder, job, model)
    st.subheader("Replay: how the filters and activations evolved")
    snaps = job.snapshots()
    if st.session_state.get("train_replay_of") != id(job):  # a new run: start the scrubber at its end
        st.session_state["train_replay_of"] = id(job)
        st.session_state.pop("train_replay", None)
    if len(snaps) > 1:
        st.slider(
            "Snapshot (shown in the view of section 2)",
            0,
            len(snaps) - 1,
            len(snaps) - 1,
            key="train_replay",
            on_change=lambda: st.session_state.update(train_view_source="replay"),
        )
        st.caption("Moving the scrubber shows that snapshot in the view above, on scales fixed over the run.")
    st.download_button(
        "Download the trained weights",
        data=weights_bytes(model),
        file_name=f"lenet5_{job.data.name}_{model.activation}_{model.pooling}.pt",
        mime="application/octet-stream",
        key="train_download_weights",
    )


# ---------------------------------------------------------------------------------------------------------
# 4. Try it


def drawn_digit(size: int):
    """The digit drawn on the canvas, prepared for the model (None while the canvas is empty)."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as error:  # the component may be missing or fail to register
        raise ValueError(
            f"the drawing canvas is not available here ({error}); type or upload instead"
        ) from None
    st.caption("Draw one digit, large, in the middle of the box.")
    drawing = st_canvas(
        stroke_width=18,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=280,
        width=280,
        drawing_mode="freedraw",
        key="train_canvas",
        return_image_data=True,
    )
    pixels = getattr(drawing, "image_data", None)
    if pixels is not None and np.asarray(pixels)[..., :3].max() > 0:
        return prepare_picture(np.asarray(pixels, dtype=float)[..., :3].mean(axis=2), size)
    return None


def try_input(data: Dataset, probe: int):
    """(image, preprocessing steps) from the chosen input; after a bad input, the last valid one."""
    source = st.radio(
        "Input", ["Type a grid", "Draw", "Upload a picture"], horizontal=True, key="train_try_source"
    )
    size = data.image_size
    image, steps, try_error, prepared = None, (), "", None
    try:
        if source == "Type a grid":
            example = data.X_test[probe] * (16 / 255 if size == 8 else 1)  # the 8x8 digits' counts are 0..16
            text = st.text_area(
                "8 rows of 8 numbers (0..16, like the small digits) or 28 rows of 28 (0..255, like MNIST)",
                format_grid(np.round(example)),
                height=220 if size == 8 else 400,
                key=ui.kept_key("train_try_grid"),
            )
            image = grid_to_image(parse_grid(text))
        elif source == "Draw":
            prepared = drawn_digit(size)
        else:
            picture = st.file_uploader("A picture of one digit (PNG, JPEG...)", key="train_try_upload")
            if picture is not None:
                prepared = prepare_picture(load_image(picture.getvalue(), mode="L", max_side=512), size)
        if prepared is not None:
            image, steps = prepared.image, prepared.steps
    except ValueError as error:
        try_error = str(error)
    if try_error:
        st.error(try_error, icon="⚠️")
        if "train_try_last" in st.session_state:
            st.caption("Still showing your last valid input.")
            image, steps = st.session_state["train_try_last"]
    elif image is not None:
        st.session_state["train_try_last"] = (image, steps)
    return image, steps


def prediction(holder: JobHolder, setup: Setup, run: Run, image, steps) -> None:
    """The network's guess for the input, and the preprocessing that led to its 1@32x32 input."""
    X = to_model_input(image)  # (1, 1, 32, 32)
    holder.try_input = X
    digest = hashlib.blake2b(X.numpy().tobytes(), digest_size=8).hexdigest()
    # A new input the student gave (not the grid the page opens with) is shown in the one view.
    if st.session_state.get("train_try_digest") not in (None, digest):
        st.session_state["train_view_source"] = "try"
    st.session_state["train_try_digest"] = digest
    model = model_in_view(run.job, setup.activation, setup.pooling, setup.fixed, run.seed)
    p = model.probabilities(X)[0]  # (10,)
    guess = int(np.argmax(p))
    st.subheader(f"Prediction: {setup.data.class_names[guess]} ({p[guess]:.1%})")
    stages = [*(steps or [(f"your {image.shape[0]}x{image.shape[1]} grid", image)])]
    stages.append(("model input 1@32x32", X[0, 0].numpy()))
    pictures = [stage_picture(stage) for _, stage in stages]
    padded = " (grey: outside a picture that is not square)" if any(grey for _, grey in pictures) else ""
    st.markdown(
        f"**Preprocessing**, step by step, to the model's 1@32x32 input{padded}. Its activations, layer by "
        "layer, are in the view of section 2 (**Show: your input**)."
    )
    for col, (caption, _), (picture, _) in zip(st.columns(len(stages)), stages, pictures, strict=True):
        with col:
            ui.picture(picture, caption=caption)


def try_it_section(holder: JobHolder, setup: Setup, run: Run) -> None:
    st.header("4. Try it")
    if run.job is not None:
        live = run.job.view().state.active
        st.caption("Using the network " + ("as of the last snapshot." if live else "as trained."))
    elif setup.fixed is not None:
        uploaded = f" ({holder.base_name})." if setup.start_from == "uploaded" else "."
        st.caption(f"Using {START_FROM[setup.start_from]}" + uploaded)
    else:
        st.caption("The network is untrained: its guesses are random until you train it.")
    image, steps = try_input(setup.data, run.probe)
    holder.try_input = None
    if image is not None:
        prediction(holder, setup, run, image, steps)
    else:
        st.session_state["train_try_digest"] = ""  # nothing to show; the next input is new


# ---------------------------------------------------------------------------------------------------------
# The one view (section 2): curves, filters, activations. Redrawn every REDRAW_SECONDS while a run is live.


def shown_snapshot(source: str, holder: JobHolder, setup: Setup, run: Run):
    """(Snapshot, caption, colour limits for the filters) of what the view shows."""
    job = run.job
    if source == "replay" and job is not None:
        snaps = job.snapshots()
        i = min(int(st.session_state.get("train_replay", len(snaps) - 1)), len(snaps) - 1)
        limits = (symmetric_limit(*(s.c1 for s in snaps)), symmetric_limit(*(s.c3 for s in snaps)))
        s = snaps[i]
        return s, f"Replay snapshot {i} of {len(snaps) - 1}: step {s.step} (epoch {s.epoch:.2f}).", limits
    v = job.view() if job else None
    yours = source == "try" and holder.try_input is not None
    if not yours and v is not None and v.live is not None:
        s = v.live
        caption = f"Test image {s.probe_index}, snapshot at step {s.step} (epoch {s.epoch:.2f})."
        return s, caption, (None, None)
    model = model_in_view(job, setup.activation, setup.pooling, setup.fixed, run.seed)
    if yours:
        return snapshot_of(model, holder.try_input, -1), "Your input from Try it.", (None, None)
    X = to_model_input(setup.data.X_test[run.probe])
    weights = (
        START_FROM[setup.start_from] if setup.fixed is not None else "fresh random weights, before training"
    )
    return snapshot_of(model, X, run.probe), f"Test image {run.probe}, {weights}.", (None, None)


def view_source(holder: JobHolder, v: JobView | None) -> str:
    """What the view shows: the followed test image, a replay snapshot or the input from Try it."""
    options = ["probe"]
    if v is not None and not v.state.active and v.n_snapshots > 1:
        options.append("replay")
    if holder.try_input is not None:
        options.append("try")
    if st.session_state.get("train_view_source") not in options:
        st.session_state["train_view_source"] = "probe"
    return st.radio("Show", options, format_func=SOURCES_SHOWN.get, horizontal=True, key="train_view_source")


def run_status(holder: JobHolder, job: TrainingJob, v: JobView) -> None:
    """The progress bar, the queue or failure, the curves and their CSV."""
    running = v.state is JobState.RUNNING  # a paused or queued run has no time left to count down
    left_s = f", about {v.seconds_left:.0f} s left" if running and v.seconds_left is not None else ""
    accuracy = f", test accuracy {v.test_curve['accuracy'][-1]:.2%}" if v.test_curve["accuracy"] else ""
    st.progress(
        v.step / v.total_steps if v.total_steps else 0.0,
        text=f"**{WORDS.get(v.state, v.state)}**: epoch {v.epoch:.2f} of {job.config.epochs}, step "
        f"{v.step} of {v.total_steps}, {v.samples_per_s:,.0f} samples/s{left_s}{accuracy}",
    )
    if v.state is JobState.QUEUED:
        st.warning(queue_message(holder))
    if v.state is JobState.FAILED:
        st.error(f"Training failed: {v.message}. Press Reset and try other settings.", icon="⚠️")
    elif v.message:
        st.caption(v.message)
    curves_chart(v.train_curve, v.test_curve, job.config.epochs, key="live_curves")
    st.download_button(
        "Curves as CSV",
        lambda: curves_csv(job.view().train_curve, job.view().test_curve),
        file_name="lenet_curves.csv",
        mime="text/csv",
        key="train_curves_csv",
        on_click="ignore",
        help="Epoch, train loss and accuracy, test loss and accuracy, as the curves show them",
    )


def filters_panel(snap, limits) -> None:
    png, layout = filters_png(snap.c1, snap.c3, limits)
    click_image(
        png,
        key="train_filters",
        name="filters",
        alt="the C1 and C3 filters",
        layout=layout,
        clickable=False,
    )
    st.caption("The filters: one diverging scale per group, centred on 0")
    st.download_button(
        "C1 and C3 filters as PNG",
        lambda: filters_picture(snap.c1, snap.c3, limits)[0],  # with its names; made on the click
        file_name="lenet_filters.png",
        mime="image/png",
        key="train_filters_png",
        on_click="ignore",
    )


def activations_panel(snap, caption: str, setup: Setup, run: Run) -> None:
    """The image's activations; a click on a C1 or C3 cell asks for its explanation."""
    png, layout = activations_png(snap.activations, setup.data.class_names)
    at = click_image(
        png,
        key="train_maps",
        name="activations",
        alt="the image's activations, layer by layer",
        title="click a C1 or C3 cell",
        layout=layout,
    )
    st.caption(caption + " Click a cell of a C1 or C3 map to see how it was computed.")
    hit = layout.hit(*at) if at else None
    if hit and hit[0] in EXPLAINABLE:
        model = model_in_view(run.job, setup.activation, setup.pooling, setup.fixed, run.seed)
        st.session_state["train_explain"] = {
            "at": hit,
            "snapshot": snap,
            "activation": model.activation,
            "pooling": model.pooling,
            "caption": caption,
        }
        st.rerun(scope="app")  # the explanation is drawn outside this fragment, once
    elif hit:
        st.caption(f"{hit[0]} is not computed by a filter: click a C1 or C3 map.")


def model_view(holder: JobHolder, setup: Setup, run: Run, projector: bool) -> None:
    """Curves, filters and activations (a fragment, redrawn on a timer while the run is live)."""
    job, v = run.job, None
    if job is not None:
        keep_alive(holder)
        v = job.view()
    live = v is not None and v.state.active
    # Projector mode: one figure under the other, each the page's full width.
    # At the desk: curves, filters and activations side by side, so the whole view fits a laptop's first screen.
    if projector:
        left, middle, right = st.container(), st.container(), st.container()
    else:
        left, middle, right = st.columns([1, 0.9, 1.15], gap="small")
    with left:
        source = view_source(holder, v)
        if v is None:
            st.info(
                "Press **Start training**. Meanwhile: the starting network's filters and the followed test "
                "image's activations. Click a C1 or C3 cell to see how it was computed."
            )
        else:
            run_status(holder, job, v)
    if not live or run.detail or source != "probe":
        snap, caption, limits = shown_snapshot(source, holder, setup, run)
        with middle:
            filters_panel(snap, limits)
        with right:
            activations_panel(snap, caption, setup, run)
    elif v is not None:
        with right:
            st.caption("Filters and activations are drawn again when the run ends (or switch the redraw on).")
    if v is not None and not live and st.session_state.get("train_seen_end") != id(job):
        st.session_state["train_seen_end"] = id(job)
        st.rerun(scope="app")  # once, so the whole page shows the results and the timer stops


def explain_panel() -> None:
    """How the clicked activation was computed: window, filter, products, sum + bias, activation, pooling."""
    target = st.session_state.get("train_explain")
    if not target:
        return
    layer, k, i, j = target["at"]
    snap = target["snapshot"]
    st.subheader(f"Explain {layer} map {k}, row {i}, column {j}")
    channel = 0
    if layer == "C3":
        channel = st.selectbox(
            "The S2 map the stepper slides over (C3 reads all 6)", range(6), key="train_explain_channel"
        )
    e = explain(
        snap, layer, k, i, j, activation=target["activation"], pooling=target["pooling"], channel=channel
    )
    fn = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "sigmoid"}[e.activation_name]
    pic_col, text_col = st.columns([1, 2])
    with pic_col:
        X = snap.activations["input"].reshape(32, 32) if layer == "C1" else snap.activations["S2"][channel]
        scale = 6 if layer == "C1" else 12
        ui.picture(
            window_picture(X, i, j, 5, scale=scale),
            caption=f"The 5x5 window on {e.input_name} that this activation reads ({target['caption']})",
        )
    with text_col:
        lines = []
        if layer == "C3":
            lines.append("| S2 map | sum of its 25 products |\n|---|---|")
            lines += [f"| {c} | {s:.4g} |" for c, s in enumerate(e.channel_sums)]
            lines.append("")
        lines.append(f"- **sum of products** + **bias**: {e.sum_expression()}")
        lines.append(
            f"- **{fn}**({e.pre_activation:.4g}) = **{e.activation:.4g}**: the value on {layer} map {k}"
        )
        pool = "max" if e.pooling == "max" else "mean"
        window = ", ".join(f"{x:.4g}" for x in e.pool_window.ravel())
        lines.append(
            f"- it feeds **{e.pooled_layer}** map {k}, cell {e.pooled_cell}: {pool}({window}) = **{e.pooled:.4g}**"
        )
        st.markdown("\n".join(lines))
    step_key = "train_explain_step"
    if st.session_state.get("train_explain_cell") != (layer, k, i, j, channel):
        st.session_state["train_explain_cell"] = (layer, k, i, j, channel)
        st.session_state[step_key] = {"cell": [i, j]}  # the stepper starts at this cell
    render_stepper(
        e.trace,
        key=step_key,
        titles={
            "input": e.input_name,
            "kernel": f"{layer} filter {k}" + (f", slice {channel}" if layer == "C3" else ""),
        },
        caption=f"Cell ({i}, {j}) is this activation's sum of products before the bias.",
    )


def main() -> None:
    projector = ui.page_setup(
        "Train LeNet-5",
        "🧠",
        intro="LeNet-5 (LeCun et al. 1998) reads a 32x32 image through two convolution + pooling stages and three "
        "fully connected layers. It comes trained on real handwriting: try it on your own digit at once, "
        "or train it here on this computer's CPU and watch its loss, its filters and the activations of one "
        "test image change while it learns. Click any C1 or C3 activation to see how it was computed.",
    )
    holder = session_holder()
    attach_from_url(holder)  # after a refresh or in a second tab: the run named in the URL
    if network_choice() == "yours":  # a network designed on Layer arithmetic: its own part, ui/designnet.py
        your_network_page(dataset_or_error("mnist5k")[0])
        return
    # The live view with its settings and Start/Pause/Stop come first on the screen (the lesson); the data, the
    # starting weights and the architecture, which the live view reads, are chosen below it.
    train_box = st.container()
    setup = setup_section(holder)
    with train_box:
        run, view_box = controls_section(holder, setup, projector)
    explain_box = st.container()
    view = run.job.view() if run.job else None
    if view is not None and view.state in TRAINED_STATES:
        after_training_section(holder, run.job)
    try_it_section(holder, setup, run)
    live = view is not None and view.state.active
    with view_box:
        st.fragment(model_view, run_every=REDRAW_SECONDS if live else None)(holder, setup, run, projector)
    with explain_box:
        explain_panel()


main()

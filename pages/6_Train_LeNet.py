"""Train LeNet-5 live: the architecture, a background training run, its filters and activations, then try it."""

import copy

import numpy as np
import streamlit as st
import torch

from cnnviz.data import DATASETS, grid_to_image, prepare_picture, to_model_input
from cnnviz.inputs import format_grid, load_image, parse_grid
from cnnviz.lenet import LeNet5, load_weights, weights_bytes
from cnnviz.training import OPTIMIZERS, TrainConfig, TrainingJob, confusion_matrix, predict
from ui.common import page_setup, plot
from ui.train_figures import (
    architecture_figure,
    c1_figure,
    c3_figure,
    confusion_figure,
    curves_figure,
    maps_figures,
    stage_picture,
    symmetric_limit,
    vectors_figure,
)
from ui.train_session import (
    dataset_or_error,
    keep_alive,
    queue_message,
    session_holder,
    slots_caption,
    submit,
)

page_setup(
    "Train LeNet-5",
    "🧠",
    intro=(
        "LeNet-5 (LeCun et al. 1998) reads a 32x32 image through two convolution + pooling stages and three "
        "fully connected layers. Train it here, on this computer's CPU, and watch its loss, its filters and "
        "the activations of one test image change while it learns."
    ),
)
holder = session_holder()
LIVE = {"created", "queued", "running", "paused"}
DATA_LABELS = {
    "digits": "Embedded digits (8x8, 1,797 images)",
    "mnist": "MNIST",
    "fashion-mnist": "Fashion-MNIST",
}

# ---------------------------------------------------------------------------------------------------------
st.header("1. Data and architecture")
data_col, arch_col = st.columns([1, 2], gap="large")
with data_col:
    name = st.selectbox("Images", DATASETS, format_func=DATA_LABELS.get, key="train_dataset")
    data, data_error = dataset_or_error(name)
    if data is None:
        st.error(f"{data_error}", icon="⚠️")
        st.caption("Using the embedded digits meanwhile.")
        data, _ = dataset_or_error("digits")
    size = data.image_size
    st.caption(
        f"**{data.name}**: {len(data.X_train):,} training and {len(data.X_test):,} test images, "
        f"{size}x{size}; " + ("upscaled 4x to 32x32." if size == 8 else "padded by 2 to 32x32.")
    )

    with st.expander("Start from saved weights (continue training)"):
        upload = st.file_uploader("LeNet-5 weights (.pt) saved by this page", key="train_weights_upload")
        if upload is not None and st.session_state.get("train_weights_seen") != upload.file_id:
            st.session_state["train_weights_seen"] = upload.file_id
            try:
                holder.base, holder.base_name = load_weights(upload.getvalue()), upload.name
                st.session_state.pop("train_weights_error", None)
                st.session_state["train_activation"] = holder.base.activation
                st.session_state["train_pooling"] = holder.base.pooling
            except ValueError as error:
                st.session_state["train_weights_error"] = f"{upload.name}: {error}"
        if "train_weights_error" in st.session_state:
            st.error(st.session_state["train_weights_error"], icon="⚠️")
        if holder.base is not None:
            st.success(f"Training will continue from {holder.base_name}.")
            if st.button("Forget the uploaded weights", key="train_forget_weights"):
                holder.base = None
                st.rerun()

locked = holder.base is not None
with arch_col:
    a_col, p_col = st.columns(2)
    activation = a_col.selectbox(
        "Activation", ["relu", "tanh", "sigmoid"], key="train_activation", disabled=locked
    )
    pooling = p_col.selectbox(
        "Pooling (S2, S4)",
        ["max", "avg"],
        key="train_pooling",
        disabled=locked,
        help="avg = LeCun's subsampling",
    )
    rows = LeNet5(activation, pooling).describe()
    st.dataframe(
        {
            "layer": [r.name for r in rows],
            "what it does": [r.kind for r in rows],
            "output shape": ["x".join(map(str, r.output_shape)) for r in rows],
            "parameters": [f"{r.params:,}" for r in rows],
        },
        hide_index=True,
    )
    st.caption(f"{sum(r.params for r in rows):,} parameters in all (full C3 connectivity).")
plot(architecture_figure(rows), key="train_architecture", width="stretch")

# ---------------------------------------------------------------------------------------------------------
st.header("2. Hyperparameters and training")
defaults = TrainConfig()
h = st.columns(5)
optimizer = h[0].selectbox(
    "Optimiser", OPTIMIZERS, key="train_optimizer", format_func={"adam": "Adam", "sgd": "SGD + momentum"}.get
)
lr_choices = sorted({1e-4, 3e-4, 1e-3, 2e-3, 5e-3, 1e-2, 3e-2, 0.05, 0.1, defaults.lr})
lr = h[1].select_slider(
    "Learning rate",
    lr_choices,
    value=defaults.lr,
    key="train_lr",
    help="Adam: 0.001 to 0.002 work; SGD with momentum: try 0.05",
)
batch_size = h[2].select_slider(
    "Batch size", [8, 16, 32, 64, 128, 256], defaults.batch_size, key="train_batch"
)
epochs = h[3].number_input("Epochs", 1, 100, defaults.epochs, key="train_epochs")
seed = h[4].number_input("Seed", 0, 10_000, defaults.seed, key="train_seed")
probe = st.number_input(
    f"Test image to follow through the layers (0..{len(data.X_test) - 1})",
    0,
    len(data.X_test) - 1,
    0,
    key="train_probe",
)

job: TrainingJob | None = holder.job
if job is not None and job.data is not data:
    st.warning("The images changed since this run started; Reset to train on the new ones.")
state = job.view().state if job else "none"
# The buttons follow what was asked: right after "Pause" the thread may still finish its batch.
paused = job is not None and job.pause_requested
b = st.columns(5)
start = b[0].button("Start training", key="train_start", type="primary", disabled=state in LIVE)
pause = b[1].button("Pause training", key="train_pause", disabled=state not in LIVE or paused)
resume = b[2].button("Resume training", key="train_resume", disabled=state not in LIVE or not paused)
stop = b[3].button("Stop training", key="train_stop", disabled=state not in LIVE)
reset = b[4].button("Reset", key="train_reset", disabled=job is None)
detail = st.toggle(
    "Redraw the filters and activations every second",
    value=True,
    key="train_live_detail",
    help="Drawing costs CPU time that training could use: turn it off to train faster (curves stay live).",
)
st.caption(
    "Start after a run ends continues from its weights; Reset starts from fresh random weights. "
    + slots_caption()
)

if start:
    config = TrainConfig(
        optimizer=optimizer, lr=lr, batch_size=int(batch_size), epochs=int(epochs), seed=int(seed)
    )
    if holder.base is not None:
        model = copy.deepcopy(holder.base)
    elif (
        job is not None
        and job.data is data
        and (job.model.activation, job.model.pooling) == (activation, pooling)
    ):
        model = job.current_model()  # Start after Stop/finish: keep training the same network
    else:
        model = LeNet5(activation, pooling, seed=int(seed))
    job = TrainingJob(model, data, config, probe_index=int(probe))
    submit(holder, job)
elif pause and job:
    job.pause()
elif resume and job:
    job.resume()
elif stop and job:
    job.stop()
    job.join(2)
elif reset and job:
    job.stop()
    job.join(2)
    holder.job = job = None
    holder.analysis.clear()
if job is not None and job.data is data and job.view().state in LIVE and job.probe_index != probe:
    job.set_probe(int(probe))
if start or pause or resume or stop or reset:
    st.rerun()


def probe_activations() -> dict[str, np.ndarray]:
    """The followed test image's activations in the current (or untrained) model."""
    model = job.current_model() if job else (holder.base or LeNet5(activation, pooling, seed=int(seed)))
    with torch.no_grad():
        A = model.eval().activations(to_model_input(data.X_test[int(probe)]))
    return {k: v[0].numpy() for k, v in A.items()}


def draw_model_view(c1, c3, activations, *, key: str, limits=(None, None)) -> None:
    """Filters, kernels and the followed image's activations: the body of the live view and the replay."""
    f_col, k_col = st.columns([3, 2])
    with f_col:
        plot(c1_figure(c1, limits[0]), key=f"{key}_c1")
        st.caption("One diverging scale per figure, centred on 0: red positive, blue negative weights.")
        for i, fig in enumerate(maps_figures(activations)):
            plot(fig, key=f"{key}_maps_{i}")
    with k_col:
        plot(c3_figure(c3, limits[1]), key=f"{key}_c3")
    plot(vectors_figure(activations, data.class_names), key=f"{key}_vectors", width="stretch")


# ---------------------------------------------------------------------------------------------------------
st.header("3. Live view")
view = job.view() if job else None


@st.fragment(run_every=1.0 if view is not None and view.state in LIVE else None)
def live_view() -> None:
    if job is None:
        st.info("Press **Start training**. Meanwhile: the untrained network's filters and activations.")
        model = holder.base or LeNet5(activation, pooling, seed=int(seed))
        A = probe_activations()
        draw_model_view(
            model.c1.weight[:, 0].detach().numpy(), model.c3.weight.detach().numpy(), A, key="live"
        )
        return
    keep_alive(holder)
    v = job.view()
    if v.state == "queued":
        st.warning(queue_message(holder))
    words = {
        "created": "starting",
        "running": "training",
        "paused": "paused",
        "finished": "finished",
        "stopped": "stopped",
        "failed": "failed",
        "queued": "queued",
    }
    left = f", about {v.seconds_left:.0f} s left" if v.seconds_left is not None else ""
    st.progress(
        v.step / v.total_steps if v.total_steps else 0.0,
        text=f"**{words[v.state]}**: epoch {v.epoch:.2f} of {job.config.epochs}, step {v.step} of "
        f"{v.total_steps}, {v.samples_per_s:,.0f} samples/s{left}",
    )
    if v.state == "failed":
        st.error(f"Training failed: {v.message}. Press Reset and try other settings.", icon="⚠️")
    elif v.message:
        st.caption(v.message)
    if v.test_curve["accuracy"]:
        st.metric("Test accuracy", f"{v.test_curve['accuracy'][-1]:.2%}")
    plot(curves_figure(v.train_curve, v.test_curve, job.config.epochs), key="live_curves", width="stretch")
    if v.live is not None and (detail or v.state not in LIVE):
        st.caption(
            f"Snapshot at step {v.live.step} (epoch {v.live.epoch:.2f}), test image {v.live.probe_index}."
        )
        draw_model_view(v.live.c1, v.live.c3, v.live.activations, key="live")
    elif v.live is not None:
        st.caption("Filters and activations are drawn again when the run ends (or switch the redraw on).")
    if v.state not in LIVE and st.session_state.get("train_seen_end") != id(job):
        st.session_state["train_seen_end"] = id(job)
        st.rerun(scope="app")  # once, so the whole page shows the results and the timer stops


live_view()

# ---------------------------------------------------------------------------------------------------------
if view is not None and view.state in ("finished", "stopped"):
    st.header("4. After training")
    model, trained_on = job.current_model(), job.data  # the run's own images, even if the choice changed
    key = id(job)
    if key not in holder.analysis:
        logits = predict(model, to_model_input(trained_on.X_test))
        holder.analysis.clear()
        holder.analysis[key] = logits.argmax(1).numpy()
    predicted = holder.analysis[key]
    y_test, names, side = trained_on.y_test, trained_on.class_names, trained_on.image_size
    wrong = np.flatnonzero(predicted != y_test)
    cm_col, miss_col = st.columns([1, 1])
    with cm_col:
        st.subheader("Confusion matrix (test images)")
        M = confusion_matrix(y_test, predicted, len(names))
        plot(confusion_figure(M, names), key="train_confusion")
    with miss_col:
        st.subheader(f"Misclassified: {len(wrong)} of {len(y_test)}")
        shown = wrong[:24]
        if len(shown):
            cols = st.columns(6)
            for i, idx in enumerate(shown):
                img = (trained_on.X_test[idx] * 255).astype(np.uint8)
                cols[i % 6].image(
                    np.kron(img, np.ones((96 // side, 96 // side), np.uint8)),
                    caption=f"#{idx}: {names[y_test[idx]]} → {names[predicted[idx]]}",
                )
        else:
            st.success("Every test image is classified correctly.")

    st.subheader("Replay: how the filters and activations evolved")
    snaps = job.snapshots()
    if st.session_state.get("train_replay_of") != key:  # a new run: start the scrubber at its end
        st.session_state["train_replay_of"] = key
        st.session_state.pop("train_replay", None)
    if len(snaps) > 1:
        i = st.slider("Snapshot", 0, len(snaps) - 1, len(snaps) - 1, key="train_replay")
        snap = snaps[i]
        st.caption(
            f"Step {snap.step} of {view.total_steps} (epoch {snap.epoch:.2f}), test image {snap.probe_index}. "
            "The colour scales are fixed over the whole replay, so you see the weights grow."
        )
        limits = (symmetric_limit(*(s.c1 for s in snaps)), symmetric_limit(*(s.c3 for s in snaps)))
        draw_model_view(snap.c1, snap.c3, snap.activations, key="replay", limits=limits)

    st.download_button(
        "Download the trained weights",
        data=weights_bytes(model),
        file_name=f"lenet5_{trained_on.name}_{model.activation}_{model.pooling}.pt",
        mime="application/octet-stream",
        key="train_download_weights",
    )

# ---------------------------------------------------------------------------------------------------------
st.header("5. Try it")
if job is not None:
    model = job.current_model()
    st.caption(
        "Using the network " + ("as trained." if view.state not in LIVE else "as of the last snapshot.")
    )
elif holder.base is not None:
    model = holder.base.eval()
    st.caption(f"Using the uploaded weights {holder.base_name}.")
else:
    model = LeNet5(activation, pooling, seed=int(seed)).eval()
    st.caption("The network is untrained: its guesses are random until you train it.")

source = st.radio(
    "Input", ["Type a grid", "Draw", "Upload a picture"], horizontal=True, key="train_try_source"
)
image, steps, try_error = None, (), ""
try:
    if source == "Type a grid":
        example = data.X_test[int(probe)] * (16 if size == 8 else 255)
        text = st.text_area(
            "8 rows of 8 numbers (0..16, like the digits) or 28 rows of 28 (0..255, like MNIST)",
            format_grid(np.round(example)),
            height=220 if size == 8 else 400,
            key="train_try_grid",
        )
        image = grid_to_image(parse_grid(text))
    elif source == "Draw":
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
            prepared = prepare_picture(np.asarray(pixels, dtype=float)[..., :3].mean(axis=2), size)
            image, steps = prepared.image, prepared.steps
    else:
        picture = st.file_uploader("A picture of one digit (PNG, JPEG...)", key="train_try_upload")
        if picture is not None:
            prepared = prepare_picture(load_image(picture.getvalue(), mode="L", max_side=512), size)
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

if image is not None:
    X = to_model_input(image)  # (1, 1, 32, 32)
    with torch.no_grad():
        A = {k: v[0].numpy() for k, v in model.eval().activations(X).items()}
    p = A["probabilities"]
    guess = int(np.argmax(p))
    st.subheader(f"Prediction: {data.class_names[guess]} ({p[guess]:.1%})")
    stages = [*(steps or [(f"your {image.shape[0]}x{image.shape[1]} grid", image)])]
    stages.append(("model input 1@32x32", X[0, 0].numpy()))
    pictures = [stage_picture(stage) for _, stage in stages]
    padded = " (grey: outside a picture that is not square)" if any(grey for _, grey in pictures) else ""
    st.markdown(f"**Preprocessing**, step by step, to the model's 1@32x32 input{padded}:")
    for col, (caption, _), (picture, _) in zip(st.columns(len(stages)), stages, pictures, strict=True):
        col.image(picture, caption=caption)
    for i, fig in enumerate(maps_figures(A)):
        plot(fig, key=f"try_maps_{i}")
    plot(vectors_figure(A, data.class_names), key="try_vectors", width="stretch")

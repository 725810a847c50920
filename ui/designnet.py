"""The Train page's "your network": a network designed on Layer arithmetic (or a preset, or a JSON file),
refused before training when it cannot train here, trained live in the same job as LeNet-5, explained.

The network arrives as the table's rows: in `st.session_state["designnet_rows"]` from Layer arithmetic's
button, or in the link (`?net=`, `cnnviz.lessons.netcode`), so a lecturer can hand it out. Everything here is keyed
`designnet_*`; the run (a child process, `cnnviz.lenet.job`) lives in this session's state and in the server's
queue (`ui.train_session.JOBS`), and stops once the session has been gone for the reconnect grace or when no
page has looked at it for `HEARTBEAT_TIMEOUT` seconds.
"""

from __future__ import annotations

import contextlib

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from cnnviz.draw.lenet import window_picture
from cnnviz.draw.net import first_filters_picture, net_maps_picture
from cnnviz.lenet.data import to_model_input
from cnnviz.lenet.net_training import NetTrainingJob, take_net_snapshot
from cnnviz.lenet.netbuild import build, load_weights, weights_bytes
from cnnviz.lenet.recorder import TRAINED_STATES, JobState
from cnnviz.lenet.training import TrainConfig
from cnnviz.lessons.explain import explain_conv
from cnnviz.lessons.layer_rows import layer_to_row, layers_from_rows
from cnnviz.lessons.layers import shape_text, torch_code
from cnnviz.lessons.netcode import decode_rows, encode_rows
from cnnviz.lessons.netspec import (
    INPUT_SHAPE,
    MAX_PARAMS,
    MAX_SECONDS_PER_EPOCH,
    NET_PRESETS,
    NetSpec,
    check_trainable,
    seconds_per_epoch,
    spec_from_json,
    spec_json,
)
from ui.classroom import url_select
from ui.click_image import click_image
from ui.common import picture
from ui.curves_svg import curves_chart
from ui.stepper import render_stepper
from ui.train_session import JOBS, owner_id, queue_message_for

REDRAW_SECONDS = 2.0  # as the LeNet view
HEARTBEAT_TIMEOUT = 30.0  # a run whose page stopped looking for this long stops itself
NETWORKS = {"lenet": "LeNet-5 (this page's model)", "yours": "Your network (designed on Layer arithmetic)"}
NETWORK_LABELS = {"lenet": "LeNet-5", "yours": "Your network"}  # short: the link holds the label
TRAIN_SIZES = (500, 1000, 2000, 4000)  # training images per epoch: fewer for a quick first look


def network_choice() -> str:
    """ "lenet" or "yours"; a network sent from Layer arithmetic or carried by the link picks "yours"."""
    linked = st.query_params.get("net")
    if linked and st.session_state.get("designnet_link_seen") != linked:
        st.session_state["designnet_link_seen"] = linked
        try:
            st.session_state["designnet_rows"] = decode_rows(linked)
            st.session_state["train_network"] = "yours"
        except ValueError as err:
            st.warning(f"{err}; pick a network below.", icon="🔗")
    return url_select(
        "Network",
        list(NETWORKS),
        widget=st.radio,
        format_func=NETWORK_LABELS.get,
        horizontal=True,
        key="train_network",
        help=" · ".join(NETWORKS.values()),
    )


def _rows_from_sources() -> list[dict]:
    """The table to train: from the link or Layer arithmetic, a preset, or an uploaded JSON file."""
    with st.expander(
        "Start from a preset or a network file", expanded="designnet_rows" not in st.session_state
    ):
        cols = st.columns([2, 1], vertical_alignment="bottom")
        preset = cols[0].selectbox("Preset", list(NET_PRESETS), key="designnet_preset")
        if cols[1].button("Use this preset", key="designnet_use_preset"):
            st.session_state["designnet_rows"] = [layer_to_row(x) for x in NET_PRESETS[preset].layers]
        upload = st.file_uploader("A network (.json) saved by this page", type=["json"], key="designnet_json")
        if upload is not None and st.session_state.get("designnet_json_seen") != upload.file_id:
            st.session_state["designnet_json_seen"] = upload.file_id
            try:
                spec = spec_from_json(upload.getvalue())
                check_trainable(spec)
                st.session_state["designnet_rows"] = [layer_to_row(x) for x in spec.layers]
                st.session_state.pop("designnet_json_error", None)
            except ValueError as err:
                st.session_state["designnet_json_error"] = f"{upload.name}: {err}"
        if "designnet_json_error" in st.session_state:
            st.error(st.session_state["designnet_json_error"], icon="⚠️")
    rows = st.session_state.setdefault(
        "designnet_rows", [layer_to_row(x) for x in NET_PRESETS["LeNet-5"].layers]
    )
    text = encode_rows(rows)
    if st.query_params.get("net") != text:  # the network is part of the link, to hand out
        st.query_params["net"] = text
        st.session_state["designnet_link_seen"] = text
    return rows


def _spec_or_refusal(rows: list[dict]) -> tuple[NetSpec | None, str]:
    layers, error, _ = layers_from_rows(rows)
    spec = NetSpec(INPUT_SHAPE, tuple(layers))
    if error:
        return None, error
    try:
        check_trainable(spec)
    except ValueError as err:
        return None, str(err)
    return spec, ""


def _table(spec: NetSpec) -> None:
    a = spec.analysis()
    st.dataframe(
        {
            "#": [r.index for r in a.rows],
            "name": [r.name if r.index else "input" for r in a.rows],
            "layer": [r.what for r in a.rows],
            "output": [shape_text(r.shape) for r in a.rows],
            "parameters": [f"{r.params:,}" for r in a.rows],
        },
        hide_index=True,
    )
    st.caption(
        f"{a.params:,} parameters (cap {MAX_PARAMS:,}); about {seconds_per_epoch(a):.1f} s per epoch of 4,000 "
        f"images estimated for a laptop core (cap {MAX_SECONDS_PER_EPOCH:g} s; the estimate errs on the slow side)."
    )
    with st.expander("Show the PyTorch (copy, run, compare)"):
        st.code(torch_code(a), language="python")


def _edit_link(rows: list[dict]) -> None:
    # StreamlitPageNotFoundError: only when this page runs on its own (an AppTest of one page)
    with contextlib.suppress(StreamlitPageNotFoundError):
        st.page_link(
            "pages/5_Layer_arithmetic.py",
            label="Edit this network on Layer arithmetic",
            icon="🧮",
            query_params={"net": encode_rows(rows), "layers_preset": "To train: LeNet-5"},  # input 1@28x28
        )


def _base_weights(spec: NetSpec):
    """Uploaded weights for this network (checked against its shapes), or None."""
    with st.expander("Upload saved weights of this network (.pt)"):
        upload = st.file_uploader("Weights saved by this page", type=["pt"], key="designnet_weights")
        if upload is not None and st.session_state.get("designnet_weights_seen") != upload.file_id:
            st.session_state["designnet_weights_seen"] = upload.file_id
            try:
                st.session_state["designnet_base"] = (
                    spec,
                    load_weights(upload.getvalue(), spec),
                    upload.name,
                )
                st.session_state.pop("designnet_weights_error", None)
            except ValueError as err:
                st.session_state["designnet_weights_error"] = f"{upload.name}: {err}"
        if "designnet_weights_error" in st.session_state:
            st.error(st.session_state["designnet_weights_error"], icon="⚠️")
    base = st.session_state.get("designnet_base")
    if base is not None and base[0] == spec:
        st.success(f"Starting from your uploaded weights: {base[2]}.")
        return base[1]
    return None


def _controls(spec: NetSpec, data, job) -> None:
    """Settings, Start and Stop; a new run replaces the old one."""
    defaults = TrainConfig()
    c = st.columns([1, 1, 1, 1, 1], vertical_alignment="bottom")
    epochs = c[0].number_input("Epochs", 1, 50, 3, key="designnet_epochs")
    lr = c[1].select_slider("Learning rate", [3e-4, 1e-3, 2e-3, 5e-3, 1e-2], defaults.lr, key="designnet_lr")
    batch = c[2].select_slider("Batch size", [16, 32, 64, 128], defaults.batch_size, key="designnet_batch")
    n_train = c[3].select_slider("Training images", TRAIN_SIZES, TRAIN_SIZES[-1], key="designnet_n_train")
    seed = c[4].number_input("Seed", 0, 10_000, 0, key="designnet_seed")
    live = job is not None and job.view().state.active
    b = st.columns([1, 1, 4])
    if b[0].button("Start training your network", type="primary", key="designnet_start", disabled=live):
        base = _base_weights_model(spec)
        model = base if base is not None else build(spec.analysis(), seed=int(seed))
        config = TrainConfig(lr=lr, batch_size=int(batch), epochs=int(epochs), seed=int(seed))
        new = NetTrainingJob(
            model,
            data.subset(int(n_train)),
            config,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
        )
        # The server's one line of runs (`JOBS`): it starts now if a slot is free, and stops once this
        # session has been gone for the reconnect grace (a clear-cache cannot stop it).
        st.session_state["designnet_token"] = JOBS.submit(owner_id(), new)
        st.session_state["designnet_job"] = (spec, new)
        st.session_state.pop("designnet_explain", None)
        st.rerun()
    if b[1].button("Stop training", key="designnet_stop", disabled=not live):
        job.stop()
        job.join(5)
        st.rerun()


def _base_weights_model(spec: NetSpec):
    base = st.session_state.get("designnet_base")
    if base is None or base[0] != spec:
        return None
    model = build(spec.analysis())
    model.load_state_dict(base[1].state_dict())
    return model


def _snapshot(spec: NetSpec, data, job):
    """What the view shows: the run's live snapshot, else the starting network on test image 0."""
    if job is not None and job.view().live is not None:
        return job.view().live
    model = _base_weights_model(spec) or build(
        spec.analysis(), seed=int(st.session_state.get("designnet_seed", 0))
    )
    return take_net_snapshot(model.eval(), to_model_input(data.X_test[0]), 0)


def _conv_layers(spec: NetSpec) -> list[int]:
    return [n for n, x in enumerate(spec.layers, start=1) if x.kind == "conv"]


def _names(spec: NetSpec) -> dict[int, str]:
    return {n: x.name for n, x in enumerate(spec.layers, start=1) if x.name}


def _progress(job) -> bool:
    """The run's progress bar and curves; True while it is live."""
    v = job.view()
    if v.state is JobState.QUEUED:
        st.warning(queue_message_for(st.session_state.get("designnet_token", "")))
    if v.state is JobState.FAILED:
        st.error(f"Training failed: {v.message}", icon="⚠️")
    accuracy = f", test accuracy {v.test_curve['accuracy'][-1]:.2%}" if v.test_curve["accuracy"] else ""
    st.progress(
        v.step / v.total_steps if v.total_steps else 0.0,
        text=f"**{v.state}**: epoch {v.epoch:.2f} of {job.config.epochs}, step {v.step} of {v.total_steps}{accuracy}",
    )
    curves_chart(v.train_curve, v.test_curve, job.config.epochs, key="designnet_curves")
    return v.state.active


def live_view(spec: NetSpec, data, job) -> None:
    """Curves, the first conv layer's filters and the conv layers' maps; a click on a map explains that cell."""
    live = job is not None and job.view().state.active

    @st.fragment(run_every=REDRAW_SECONDS if live else None)
    def view() -> None:
        left, right = st.columns([1, 1.1], gap="medium")
        with left:
            if job is None:
                st.info(
                    "Press **Start training your network**. Meanwhile: the starting network on test image 0."
                )
            else:
                job.heartbeat()
                JOBS.touch(st.session_state.get("designnet_token", ""))
                _progress(job)
        snap = _snapshot(spec, data, job)
        convs = _conv_layers(spec)
        if convs:
            with left:
                png, _ = first_filters_picture(snap.weights[convs[0]], convs[0])
                picture(png, caption="The first conv layer's filters (red +, blue -)")
        with right:
            png, layout = net_maps_picture(
                snap.activations, convs, _names(spec), data.class_names, text=False
            )
            at = click_image(
                png,
                key="designnet_maps",
                name="maps",
                title="click a conv map",
                layout=layout,
            )
            st.caption(
                f"Test image {snap.probe_index}, step {snap.step}. Click a conv layer's map to explain it."
            )
            hit = layout.hit(*at) if at else None
            if hit and hit[0] != "0":
                st.session_state["designnet_layer"] = int(hit[0])
                st.session_state["designnet_map"] = hit[1]
                st.session_state["designnet_row"], st.session_state["designnet_col"] = hit[2], hit[3]
                st.rerun(scope="app")
        if live and not job.view().state.active:
            st.rerun(scope="app")  # once, when the run ends: the page shows the downloads and stops the timer

    view()


def explain_panel(spec: NetSpec, data, job) -> None:
    """How one output of a conv layer was computed: the window, the filter, the sums, the bias; a stepper."""
    convs = _conv_layers(spec)
    if not convs:
        st.info("This network has no conv layer to explain.")
        return
    snap = _snapshot(spec, data, job)
    if st.session_state.get("designnet_layer") not in convs:
        st.session_state["designnet_layer"] = convs[0]
    c = st.columns(5)
    n = c[0].selectbox("Conv layer", convs, key="designnet_layer")
    weight, Y = snap.weights[n], snap.activations[n]
    X = snap.activations[n - 1]  # (C_in, H, W): what this layer reads
    k = c[1].number_input(f"Map (0..{Y.shape[0] - 1})", 0, Y.shape[0] - 1, 0, key="designnet_map")
    i = c[2].number_input(f"Row (0..{Y.shape[1] - 1})", 0, Y.shape[1] - 1, 0, key="designnet_row")
    j = c[3].number_input(f"Column (0..{Y.shape[2] - 1})", 0, Y.shape[2] - 1, 0, key="designnet_col")
    channel = c[4].number_input(
        f"Input channel (0..{X.shape[0] - 1})", 0, X.shape[0] - 1, 0, key="designnet_channel"
    )
    layer = spec.layers[n - 1]
    e = explain_conv(
        X,
        weight,
        snap.biases[n],
        int(k),
        int(i),
        int(j),
        stride=layer.stride,
        padding=layer.padding,
        dilation=layer.dilation,
        channel=int(channel),
    )
    nxt = spec.layers[n].kind if n < len(spec.layers) else ""
    after = {"relu": f"; ReLU makes it {max(e.pre_activation, 0):.4g}", "tanh": "; then tanh"}.get(nxt, "")
    st.markdown(
        f"Layer {n} map {k}, cell ({i}, {j}): **sum of products over {X.shape[0]} input channel(s) + bias**: "
        f"{e.sum_expression()}, which is the value on the map{after}."
    )
    plan = e.trace.plan
    if X.shape[1] >= 4 and plan.rows.pad_before == plan.cols.pad_before == 0:
        # No padding: the window's first tap on the padded input is its corner on the input itself.
        step = e.trace.step(int(i), int(j))
        top, left = int(step.rows[0]), int(step.cols[0])
        picture(window_picture(X[int(channel)], top, left, plan.rows.extent, scale=max(2, 84 // X.shape[1])))
    if st.session_state.get("designnet_step_for") != (
        n,
        k,
        i,
        j,
        channel,
    ):  # a new cell: the stepper starts there
        st.session_state["designnet_step_for"] = (n, k, i, j, channel)
        st.session_state["designnet_step"] = {"cell": [int(i), int(j)]}
    render_stepper(
        e.trace,
        key="designnet_step",
        titles={
            "input": ("the input" if n == 1 else f"layer {n - 1} output") + f", channel {channel}",
            "kernel": f"filter {k}, slice {channel}",
        },
        caption=f"Cell ({i}, {j}) is channel {channel}'s sum of products, before the other channels and the bias.",
    )


def downloads(spec: NetSpec, job) -> None:
    st.download_button(
        "Download this network (JSON)",
        spec_json(spec),
        "network.json",
        "application/json",
        key="designnet_dl_json",
    )
    if job is not None and job.view().state in TRAINED_STATES:
        st.download_button(
            "Download the trained weights (.pt)",
            weights_bytes(spec, job.current_model()),
            "network_weights.pt",
            "application/octet-stream",
            key="designnet_dl_weights",
        )


def your_network_page(data) -> None:
    """The whole "your network" part of the Train page."""
    rows = _rows_from_sources()
    spec, refusal = _spec_or_refusal(rows)
    if spec is None:
        st.error(f"This network cannot be trained here: {refusal}", icon="⚠️")
        st.caption("Nothing was trained. The table keeps your network: fix that layer and send it again.")
        _edit_link(rows)
        return
    _table(spec)
    _edit_link(rows)
    _base_weights(spec)
    held = st.session_state.get("designnet_job")
    job = held[1] if held is not None and held[0] == spec else None
    st.header("Train and watch your network")
    _controls(spec, data, job)
    live_view(spec, data, job)
    st.header("Explain an activation")
    explain_panel(spec, data, job)
    downloads(spec, job)

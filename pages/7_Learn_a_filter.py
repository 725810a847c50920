"""Learn a filter: fit the nine weights of a 3x3 kernel by gradient descent, live."""

import numpy as np
import streamlit as st

import ui.page as ui
from cnnviz.draw.export import grid_csv
from cnnviz.draw.figures import grid_figure
from cnnviz.draw.learnfilter import kernels_figure, loss_figure, outputs_figure, weights_figure
from cnnviz.inputs import format_grid, parse_grid
from cnnviz.lessons.learnfilter import LOSSES, OPTIMIZERS, Fit, FitConfig, check_kernel, compare, standardise
from cnnviz.lessons.learnrun import (
    Task,
    advance_run,
    kernel_caption,
    loss_floor,
    rate_advice,
    run_csv,
    scale_note,
    target_title,
    unseen_note,
    verdict,
)
from cnnviz.lessons.presets import KERNELS
from cnnviz.ops import correlate2d

TICK_SECONDS = 0.5  # redraw interval while learning; each redraw advances a batch of steps
TRAIN_SIDE = 64  # bundled training pictures are shrunk to at most this many pixels per side
UNSEEN_SIDE = 96  # the unseen test picture is shrunk to at most this many pixels per side
TYPED = "Type my own…"
DEFAULT_TARGET = "Vertical edge"
LEARNING_RATES = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0]
BATCHES = [1, 2, 5, 10, 20, 50]
DEFAULT_TYPED = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
SIGN_AND_SCALE = (
    "- **Squared error on the maps as computed**: the weights that make Y exactly are the target's own "
    "numbers, and (with enough varied pictures) they are the only minimum. The fit finds K itself.\n"
    "- **Scaled targets** (Task and data…): when each target is divided by c, the best weights are "
    "K / c. The learned filter has the target's *pattern* at another *scale*: the same detector, its "
    "output just c times smaller. Compare the shapes by the cosine above (1 means same direction).\n"
    "- **Sign-free loss**: only the squared response counts, so K and −K are both perfect; which one the "
    "fit lands on depends on the starting weights (change the seed). A vertical edge and its mirror "
    "[-1 0 1] find the same edges with opposite sign: in a network the next layer can absorb the sign.\n"
    "- **Noise on the targets** cannot be fitted: the loss stops at about σ² (the dotted line), and the "
    "weights settle near, not exactly on, the target; more pictures average the noise away."
)


# --- The few controls that drive the run: target, optimiser, learning rate; the rest in a popover ------------
def _typed_kernel() -> np.ndarray | None:
    """The typed 3x3 target, kept in the link (`learn_kernel`)."""
    linked = ui.url_grid(
        "learn_kernel", DEFAULT_TYPED, name="kernel", check=lambda X: check_kernel(X, (3, 3))
    )
    typed = st.text_area(
        "Your 3x3 target kernel (one row per line; fractions like 1/9 work)",
        format_grid(linked),
        key=ui.kept_key("learn_typed"),
        height=100,
    )
    K = ui.keep_last_good(
        "learn_typed_kernel", lambda: check_kernel(parse_grid(typed, name="kernel"), (3, 3))
    )
    if K is not None:
        ui.set_url_grid("learn_kernel", K)
    return K


def _target_kernel(target_name: str) -> np.ndarray:
    """The kernel that makes the targets: a preset's, or the typed one (the last good, else the fit's own)."""
    if target_name != TYPED:
        st.caption(kernel_caption(KERNELS[target_name]))
        return KERNELS[target_name].array
    K = _typed_kernel()
    if K is None:  # never typed a valid one: keep what the fit is already learning
        fit_now = st.session_state.get("learn_fit")
        K = fit_now.problem.kernel if fit_now else KERNELS[DEFAULT_TARGET].array
    return K


def _task_and_data(target_name: str) -> tuple[Task, int]:
    """The popover's settings: the task the fit learns, and the steps per redraw."""
    K = _target_kernel(target_name)
    loss = ui.url_select("Loss", list(LOSSES), format_func=LOSSES.get, key="learn_loss", widget=st.radio)
    normalise = ui.url_toggle(
        "Scale targets to largest |Y| = 1",
        key="learn_normalise",
        widget=st.checkbox,
        help="As when maps are scaled for display: the fit can then only find the target up to that scale.",
    )
    pictures = ui.url_multiselect(
        "Bundled pictures (grayscale, at most 64x64)",
        list(ui.BUNDLED),
        ["shapes.png"],
        key="learn_pictures",
        help="\n".join(f"- {name}: {what}" for name, what in ui.BUNDLED.items()),
    )
    n_random = ui.url_slider(
        "Random noise pictures (32x32)",
        0,
        8,
        2,
        key="learn_random",
        help="Noise holds every pattern equally, so every weight is pinned down fast. Photos are smooth: "
        "set 0 here and watch plain gradient descent crawl.",
    )
    noise = ui.url_slider(
        "Noise on the targets (σ / targets' RMS)", 0.0, 1.0, 0.0, step=0.05, key="learn_noise"
    )
    seed = ui.url_number("Seed (noise pictures, target noise, start weights)", 0, 10_000, 0, key="learn_seed")
    ui.url_slider("Steps per Start", 10, 3000, 300, step=10, key="learn_steps")
    batch = ui.url_select_slider(
        "Steps per redraw (speed)",
        BATCHES,
        value=5,
        key="learn_batch",
        help=f"The page redraws every {TICK_SECONDS} s while learning and takes this many steps each time.",
    )
    task = Task.of(
        K, pictures, n_random=n_random, noise=noise, normalise=normalise, loss=loss, seed=int(seed)
    )
    return task, batch


def controls_section() -> tuple[Task, FitConfig, int]:
    """Target, optimiser and learning rate on one row, the task and data in a popover beside them."""
    target_col, opt_col, lr_col, more_col = st.columns([1.4, 1.6, 1.4, 1], vertical_alignment="bottom")
    with target_col:
        names = [*KERNELS, TYPED]
        target_name = ui.url_select(
            "Target kernel",
            names,
            index=names.index(DEFAULT_TARGET),
            key="learn_target",
            help="The kernel that makes the target maps. The learner never sees its numbers, only the maps.",
        )
    with opt_col:
        optimizer = ui.url_select(
            "Optimiser",
            list(OPTIMIZERS),
            format_func=OPTIMIZERS.get,
            key="learn_opt",
            widget=st.radio,
            horizontal=True,
        )
    with lr_col:
        lr = ui.url_select_slider("Learning rate η", LEARNING_RATES, value=0.1, key="learn_lr")
    with more_col, st.popover("Task and data…", width="stretch"):
        task, batch = _task_and_data(target_name)
    return task, FitConfig(lr=lr, optimizer=optimizer), batch


# --- The run, kept per browser session ------------------------------------------------------------------------
def _fit_for(task: Task) -> Fit:
    """The session's run: a new problem and fresh seeded weights when the task changes; bad settings keep it."""
    if st.session_state.get("learn_task") == task and "learn_fit" in st.session_state:
        return st.session_state["learn_fit"]
    bundled = [ui.bundled_image(name, max_side=TRAIN_SIDE) for name in task.pictures]
    problem = ui.keep_last_good("learn_problem", lambda: task.problem(bundled))
    if problem is None:  # never a valid task in this session: nothing to ui.show yet
        st.stop()
    fit = st.session_state.get("learn_fit")
    if fit is None or problem is not fit.problem:
        st.session_state["learn_fit"] = Fit.start(problem, seed=task.seed)
        st.session_state["learn_running"] = False
        st.session_state["learn_task"] = task
    return st.session_state["learn_fit"]


def _start() -> None:
    st.session_state["learn_running"] = True
    st.session_state["learn_until"] = st.session_state["learn_fit"].steps + st.session_state["learn_steps"]


def _pause() -> None:
    st.session_state["learn_running"] = False


def _reset(seed: int) -> None:
    st.session_state["learn_running"] = False
    st.session_state["learn_fit"] = Fit.start(st.session_state["learn_fit"].problem, seed=seed)


def _step_once(config: FitConfig) -> None:
    st.session_state["learn_running"] = False
    st.session_state["learn_fit"].advance(config, 1)


def run_section(task: Task, config: FitConfig) -> Fit:
    """The session's run, and Start, Pause, Step once, Reset (callbacks: they change the run before the redraw)."""
    fit = _fit_for(task)
    st.session_state.setdefault("learn_running", False)
    st.session_state.setdefault("learn_until", 0)
    running = st.session_state["learn_running"]
    b1, b2, b3, b4, _ = st.columns([1.2, 0.8, 0.9, 0.9, 4], vertical_alignment="center")
    b1.button("▶ Start learning", key="learn_start", on_click=_start, disabled=running, type="primary")
    b2.button("⏸ Pause", key="learn_pause", on_click=_pause, disabled=not running)
    b3.button("Step once", key="learn_step", on_click=_step_once, args=(config,), disabled=running)
    b4.button("↺ Reset", key="learn_reset", on_click=_reset, args=(task.seed,))
    return fit


# --- Below the live view: advice, formulas, the unseen picture --------------------------------------------------
def _formulas() -> None:
    st.markdown("Prediction, error map and loss over all N output cells of all training pictures:")
    st.latex(r"\hat Y = W \star X,\qquad E = \hat Y - Y,\qquad L = \frac{1}{N}\sum_{i,j} E_{ij}^2")
    st.markdown(
        "Each weight w<sub>uv</sub> multiplies the input pixel X<sub>i+u, j+v</sub> in every output cell, so "
        "its gradient collects error × input over all cells. **The gradient of a convolution is another "
        "convolution**: the input correlated with the error map.",
        unsafe_allow_html=True,
    )
    st.latex(
        r"\frac{\partial L}{\partial w_{uv}} = \frac{2}{N}\sum_{i,j} E_{ij}\, X_{i+u,\,j+v}"
        r" = \frac{2}{N}\,(X \star E)_{uv}"
    )
    st.markdown("Three ways to step downhill (η is the learning rate):")
    st.latex(r"\text{Plain GD:}\quad W \leftarrow W - \eta\,\nabla L")
    st.latex(r"\text{Momentum:}\quad V \leftarrow 0.9\,V + \nabla L,\qquad W \leftarrow W - \eta\,V")
    st.latex(
        r"\text{Adam:}\quad m \leftarrow 0.9\,m + 0.1\,\nabla L,\quad v \leftarrow 0.999\,v + 0.001\,(\nabla L)^2,"
        r"\quad W \leftarrow W - \eta\,\hat m / (\sqrt{\hat v} + \epsilon)"
    )
    st.markdown(
        "The sign-free loss compares squared responses, L = (1/N) Σ (Ŷ² − Y²)², so W and −W fit equally "
        "well; its gradient is the input correlated with the map 4 (Ŷ² − Y²) Ŷ / N. Each training picture "
        "is scaled to zero mean and unit standard deviation first, so one learning rate suits every picture."
    )


def explanations_section(task: Task, fit: Fit, config: FitConfig) -> None:
    """The learning-rate advice, what the run trains on, the formulas and the sign-and-scale notes (ui.folded)."""
    advice = rate_advice(fit.problem, config.lr, config.optimizer)
    if advice.explanation:
        ui.explain(advice.explanation)
    if advice.warning:
        st.warning(advice.warning)
    if advice.info:
        st.info(advice.info)
    ui.explain(task.summary(fit.problem))
    with ui.folded("The loss, its gradient and the update rules", key="learn_formulas") as open_:
        if open_:
            _formulas()
    with ui.folded(
        "Up to sign and scale: when the learned filter is not the target's numbers", key="learn_sign"
    ) as open_:
        if open_:
            st.markdown(SIGN_AND_SCALE)


def unseen_section(problem) -> tuple[np.ndarray, np.ndarray, str]:
    """The standardised picture the learned filter is tested on, the target kernel's output on it, its name."""
    with st.expander("Unseen picture for testing the learned filter", expanded=False):
        unseen, name = ui.image_picker(
            "learn_test", max_side=UNSEEN_SIDE, default="scene.png", label="Unseen picture", bind=True
        )
    if unseen is None:
        unseen, name = ui.bundled_image("scene.png", max_side=UNSEEN_SIDE), "scene.png"
    X_test = standardise(unseen)
    return X_test, problem.scale * correlate2d(X_test, problem.kernel), name


# --- The live view: redrawn every tick while learning -----------------------------------------------------------
def _status(fit: Fit, comparison: dict, batch: int) -> None:
    """Blown up, converged or learning, and the learned weights as a multiple of K when only that is possible."""
    said = verdict(
        fit, running=st.session_state["learn_running"], batch=batch, until=st.session_state["learn_until"]
    )
    if said is not None:
        {"error": st.error, "success": lambda t: st.success(t, icon="✅"), "running": st.caption}[said.kind](
            said.text
        )
    note = scale_note(fit.problem, comparison)
    if note:
        st.caption(note)


def _downloads(fit: Fit) -> None:
    """The learned kernel and the run (loss and weights per step) as CSV, for slides."""
    kernel_col, curve_col, _ = st.columns([1, 1, 2])
    if np.all(np.isfinite(fit.W)):
        kernel_col.download_button(
            "Learned kernel (CSV)",
            grid_csv(fit.W),
            "learned_kernel.csv",
            "text/csv",
            key="learn_csv_kernel",
            on_click="ignore",
        )
    curve_col.download_button(
        "Loss and weights per step (CSV)",
        run_csv(fit),
        "learning_curve.csv",
        "text/csv",
        key="learn_csv_curve",
        on_click="ignore",
    )


def _weights_and_loss(fit: Fit, projector: bool) -> None:
    """Learned beside target, the loss curve, and each weight's path to its target."""
    problem = fit.problem
    kernels = kernels_figure(fit.W, problem.solution, step=fit.steps, target_title=target_title(problem))
    left, right = st.columns([1.5, 1], gap="small")
    with left:
        ui.show(
            ui.projector_style(kernels, grid_side=3, height=440 if projector else 270),
            key="learn_kernels",
            width="stretch",
        )
    with right:
        loss = loss_figure(fit.history_loss, floor=loss_floor(problem))
        ui.show(
            ui.projector_style(loss, height=440 if projector else 280),
            key="learn_loss_curve",
            width="stretch",
        )
    ui.show(
        ui.projector_style(weights_figure(fit.history_W, problem.solution)),
        key="learn_weights_curve",
        width="stretch",
    )


def _on_unseen(fit: Fit, unseen: tuple[np.ndarray, np.ndarray, str], pictures: tuple[str, ...]) -> None:
    """The target kernel's and the learned kernel's outputs on the unseen picture, on one colour scale."""
    if not np.all(np.isfinite(fit.W)):
        return
    X_test, target_test, name = unseen
    # Drawn only when opened: below the first screen, its three maps were a quarter of the page's first render's
    # bytes and about 0.1 s of it, and were sent again on every live redraw.
    with ui.folded(
        "On an unseen picture: the target kernel's and the learned kernel's outputs",
        key="learn_unseen_open",
        projector=True,
    ) as open_:
        if open_:
            ui.explain(unseen_note(name, pictures))
            ui.show(
                ui.projector_style(outputs_figure(X_test, target_test, correlate2d(X_test, fit.W))),
                key="learn_outputs",
            )


def live_section(
    config: FitConfig, batch: int, unseen: tuple[np.ndarray, np.ndarray, str], task: Task, projector: bool
) -> None:
    """One redraw: a batch of steps while learning, then the numbers, the verdict and the figures."""
    fit: Fit = st.session_state["learn_fit"]
    if st.session_state["learn_running"] and not advance_run(
        fit, config, batch, st.session_state["learn_until"]
    ):
        st.session_state["learn_running"] = False
        st.rerun()  # the whole page, so the redraw timer switches off
    comparison = compare(fit.W, fit.problem.solution)
    ui.metrics(
        {
            "Step": f"{fit.steps:,}",
            "Loss L": f"{fit.loss:.3e}",
            "Largest |w − target|": f"{comparison['max_error']:.3g}",
            "Cosine(learned, target)": f"{comparison['cosine']:+.4f}",
        },
        key="learn",
    )
    _status(fit, comparison, batch)
    _weights_and_loss(fit, projector)
    _on_unseen(fit, unseen, task.pictures)
    if not st.session_state["learn_running"]:  # not while learning: a new file every redraw would pile up
        _downloads(fit)
    # Drawn only when opened (a closed expander's figure and code would still cost the browser their render).
    with ui.folded(
        "This step's gradient dL/dW (the input correlated with the error map)",
        key="learn_gradient_open",
        projector=True,
    ) as open_:
        if open_ and fit.last_gradient is not None and np.all(np.isfinite(fit.last_gradient)):
            ui.show(grid_figure(np.round(fit.last_gradient, 4), title="dL/dW"), key="learn_gradient")
            st.code(format_grid(np.round(fit.last_gradient, 4)), language=None)


def main() -> None:
    projector = ui.page_setup(
        "Learn a filter by gradient descent",
        "🎯",
        intro='"Learning to detect edges": treat the nine numbers of a 3x3 kernel as weights w1..w9 and **learn** '
        "them from examples. A target kernel makes the desired maps Y from training pictures X; gradient "
        "descent shrinks the squared error between W ⋆ X and Y, and the nine weights walk to the target.",
    )
    task, config, batch = controls_section()
    fit = run_section(task, config)
    live_area = st.container()  # the live view goes here, above the explanations
    explanations_section(task, fit, config)
    unseen = unseen_section(fit.problem)
    with live_area:  # a fragment: while learning, only the live view redraws, every TICK_SECONDS
        run_every = TICK_SECONDS if st.session_state["learn_running"] else None
        st.fragment(live_section, run_every=run_every)(config, batch, unseen, task, projector)


main()

"""Learn a filter: fit the nine weights of a 3x3 kernel by gradient descent, live."""

import numpy as np
import streamlit as st

from cnnviz.draw.export import grid_csv
from cnnviz.draw.figures import grid_figure
from cnnviz.draw.learnfilter import kernels_figure, loss_figure, outputs_figure, weights_figure
from cnnviz.inputs import format_grid, parse_grid
from cnnviz.lessons.learnfilter import (
    LOSSES,
    OPTIMIZERS,
    REL_TOL,
    Fit,
    FitConfig,
    check_kernel,
    compare,
    curvature,
    make_problem,
    random_images,
    standardise,
)
from cnnviz.lessons.presets import KERNELS
from cnnviz.ops import correlate2d
from ui.classroom import (
    classroom_bar,
    explain,
    folded,
    projector_style,
    set_url_grid,
    show,
    url_grid,
    url_multiselect,
    url_number,
    url_select,
    url_slider,
    url_toggle,
)
from ui.common import BUNDLED, bundled_image, image_picker, keep_last_good, page_setup

TICK_SECONDS = 0.5  # redraw interval while learning; each redraw advances a batch of steps
TRAIN_SIDE = 64  # bundled training pictures are shrunk to at most this many pixels per side
RANDOM_SIDE = 32  # random training pictures are this size
TYPED = "Type my own…"
LEARNING_RATES = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0]
BATCHES = [1, 2, 5, 10, 20, 50]
DEFAULT_TYPED = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])

page_setup("Learn a filter by gradient descent", "🎯")
projector = classroom_bar()
explain(
    '"Learning to detect edges": treat the nine numbers of a 3x3 kernel as weights w1..w9 and **learn** them '
    "from examples. A target kernel makes the desired maps Y from training pictures X; gradient descent "
    "shrinks the squared error between W ⋆ X and Y, and the nine weights walk to the target."
)


def _typed_kernel() -> np.ndarray | None:
    """The typed 3x3 target: seeded from the link once, then from the text box; kept in the link."""
    if "learn_typed" not in st.session_state:
        linked = url_grid("learn_kernel", None, name="kernel", check=lambda X: check_kernel(X, (3, 3)))
        st.session_state["learn_typed"] = format_grid(linked if linked is not None else DEFAULT_TYPED)
    typed = st.text_area(
        "Your 3x3 target kernel (one row per line; fractions like 1/9 work)", key="learn_typed", height=100
    )
    K = keep_last_good("learn_typed_kernel", lambda: check_kernel(parse_grid(typed, name="kernel"), (3, 3)))
    if K is not None:
        set_url_grid("learn_kernel", K)
    return K


# --- The few controls that drive the run: target, optimiser, learning rate; the rest in popovers ---------
target_col, opt_col, lr_col, more_col = st.columns([1.4, 1.6, 1.4, 1], vertical_alignment="bottom")
with target_col:
    names = [*KERNELS, TYPED]
    target_name = url_select(
        "Target kernel",
        names,
        index=names.index("Vertical edge"),
        key="learn_target",
        help="The kernel that makes the target maps. The learner never sees its numbers, only the maps.",
    )
with opt_col:
    optimizer = url_select(
        "Optimiser",
        list(OPTIMIZERS),
        format_func=OPTIMIZERS.get,
        key="learn_opt",
        widget=st.radio,
        horizontal=True,
    )
with lr_col:
    lr = url_select(
        "Learning rate η",
        LEARNING_RATES,
        index=LEARNING_RATES.index(0.1),
        key="learn_lr",
        widget=st.select_slider,
    )
with more_col, st.popover("Task and data…", width="stretch"):
    if target_name == TYPED:
        K = _typed_kernel()
        if K is None:  # never typed a valid one: keep what the fit is already learning
            fit_now = st.session_state.get("learn_fit")
            K = fit_now.problem.kernel if fit_now else KERNELS["Vertical edge"].array
    else:
        kernel = KERNELS[target_name]
        K = kernel.array
        scale = f"{kernel.scale_text} × " if kernel.scale_text else ""
        st.caption(f"Target: {scale}{np.array(kernel.weights).tolist()}: {kernel.note or 'from the lecture'}")
    loss_name = url_select("Loss", list(LOSSES), format_func=LOSSES.get, key="learn_loss", widget=st.radio)
    normalise = url_toggle(
        "Scale targets to largest |Y| = 1",
        key="learn_normalise",
        widget=st.checkbox,
        help="As when maps are scaled for display: the fit can then only find the target up to that scale.",
    )
    pictures = url_multiselect(
        "Bundled pictures (grayscale, at most 64x64)",
        list(BUNDLED),
        ["shapes.png"],
        key="learn_pictures",
        help="\n".join(f"- {name}: {what}" for name, what in BUNDLED.items()),
    )
    n_random = url_slider(
        "Random noise pictures (32x32)",
        0,
        8,
        2,
        key="learn_random",
        help="Noise holds every pattern equally, so every weight is pinned down fast. Photos are smooth: "
        "set 0 here and watch plain gradient descent crawl.",
    )
    noise = url_slider("Noise on the targets (σ / targets' RMS)", 0.0, 1.0, 0.0, step=0.05, key="learn_noise")
    seed = url_number("Seed (noise pictures, target noise, start weights)", 0, 10_000, 0, key="learn_seed")
    url_slider("Steps per Start", 10, 3000, 300, step=10, key="learn_steps")
    batch = url_select(
        "Steps per redraw (speed)",
        BATCHES,
        index=BATCHES.index(5),
        key="learn_batch",
        widget=st.select_slider,
        help=f"The page redraws every {TICK_SECONDS} s while learning and takes this many steps each time.",
    )

# --- The problem and the run, kept per browser session -----------------------------------------------
images = [bundled_image(name, max_side=TRAIN_SIDE) for name in pictures]
images += random_images(n_random, RANDOM_SIDE, seed=int(seed))
problem_key = (K.tobytes(), tuple(pictures), n_random, noise, normalise, loss_name, int(seed))
if st.session_state.get("learn_problem_key") != problem_key or "learn_fit" not in st.session_state:
    # New targets: a new problem and fresh seeded weights. Bad settings keep the run on screen.
    try:
        new_problem = make_problem(
            images, K, noise=noise, normalise=normalise, loss=loss_name, seed=int(seed)
        )
    except ValueError as err:
        st.error(f"{err}", icon="⚠️")
        if "learn_fit" not in st.session_state:
            st.stop()
        st.caption("Still learning the last valid task.")
    else:
        st.session_state["learn_fit"] = Fit.start(new_problem, seed=int(seed))
        st.session_state["learn_running"] = False
        st.session_state["learn_problem_key"] = problem_key
fit: Fit = st.session_state["learn_fit"]
problem = fit.problem
config = FitConfig(lr=lr, optimizer=optimizer)
st.session_state.setdefault("learn_running", False)
st.session_state.setdefault("learn_until", 0)


def _start():
    st.session_state["learn_running"] = True
    st.session_state["learn_until"] = st.session_state["learn_fit"].steps + st.session_state["learn_steps"]


def _pause():
    st.session_state["learn_running"] = False


def _reset():
    st.session_state["learn_running"] = False
    st.session_state["learn_fit"] = Fit.start(st.session_state["learn_fit"].problem, seed=int(seed))


def _step_once():
    st.session_state["learn_running"] = False
    st.session_state["learn_fit"].advance(config, 1)


running = st.session_state["learn_running"]
b1, b2, b3, b4, _ = st.columns([1.2, 0.8, 0.9, 0.9, 4], vertical_alignment="center")
b1.button("▶ Start learning", key="learn_start", on_click=_start, disabled=running, type="primary")
b2.button("⏸ Pause", key="learn_pause", on_click=_pause, disabled=not running)
b3.button("Step once", key="learn_step", on_click=_step_once, disabled=running)
b4.button("↺ Reset", key="learn_reset", on_click=_reset)
live_area = st.container()  # the live view goes here, above the explanations (filled once X_test is known)


def _advice() -> None:
    if loss_name == "squared":
        eig = curvature(problem)
        limit = 2 / eig[-1]
        explain(
            f"**The loss is a bowl in the nine weights.** Its curvatures run from {eig[0]:.3g} to "
            f"{eig[-1]:.3g} (condition number {eig[-1] / eig[0]:,.0f}). Plain gradient descent is stable "
            f"for a learning rate below 2 / {eig[-1]:.3g} = **{limit:.3g}**; the flattest direction shrinks "
            f"by a factor (1 − lr × {eig[0]:.3g}) per step, so it needs about "
            f"{max(1, round(1 / (min(lr, limit) * eig[0]))):,} steps per e-fold at this rate."
        )
        if optimizer == "gd" and lr >= limit:
            st.warning(f"Learning rate {lr} is above {limit:.3g}: plain gradient descent will blow up.")
    elif optimizer == "gd":
        st.info("The sign-free loss is quartic: plain gradient descent blows up easily. Try Adam, lr 0.05.")


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

# --- Below the live view: advice, formulas, the unseen picture ---------------------------------------------
_advice()
explain(
    f"Training on {len(problem.inputs)} picture(s): "
    + ", ".join([*pictures, *([f"{n_random} random noise picture(s)"] if n_random else [])])
    + f"; {problem.n_cells:,} target cells. Starting weights: seeded normal, σ = 0.5 (seed {int(seed)}). "
    f"A run stops by itself once the loss is below {REL_TOL:.0e} of its start or stops moving."
)
with folded("The loss, its gradient and the update rules", key="learn_formulas") as open_:
    if open_:
        _formulas()
with folded(
    "Up to sign and scale: when the learned filter is not the target's numbers", key="learn_sign"
) as open_:
    if open_:
        st.markdown(SIGN_AND_SCALE)
with st.expander("Unseen picture for testing the learned filter", expanded=False):
    unseen, unseen_name = image_picker(
        "learn_test", max_side=96, default="scene.png", label="Unseen picture", bind=True
    )
if unseen is None:
    unseen = bundled_image("scene.png", max_side=96)
    unseen_name = "scene.png"
X_test = standardise(unseen)
target_test = problem.scale * correlate2d(X_test, problem.kernel)


def _advance(fit: Fit) -> None:
    """One redraw's batch of steps; the run stops at its step budget, when it blows up, or once converged."""
    fit.advance(config, min(batch, st.session_state["learn_until"] - fit.steps), until_converged=True)
    if fit.steps >= st.session_state["learn_until"] or fit.diverged or fit.converged():
        st.session_state["learn_running"] = False
        st.rerun()  # the whole page, so the redraw timer switches off


def _status(fit: Fit, c: dict) -> None:
    reason = fit.converged()
    if fit.diverged:
        st.error("The loss blew up: the learning rate is too large for this loss. Lower it, then ↺ Reset.")
    elif reason and fit.steps > 0:
        st.success(
            f"Converged at step {fit.steps:,}: {reason}. Stopped; ↺ Reset to watch it again.", icon="✅"
        )
    elif st.session_state["learn_running"]:
        st.caption(f"Learning… {batch} steps per redraw, until step {st.session_state['learn_until']:,}.")
    if problem.scale != 1.0 or problem.loss != "squared":
        st.caption(
            f"Best fit of the learned weights as a multiple of K: {c['scale'] / problem.scale:+.4g} × "
            f"{problem.scale:.4g} K; error after that scale: {c['max_error_after_scale']:.3g}."
        )


def _curve_csv(fit: Fit) -> str:
    """step, loss, w1..w9 per line: the run as a table for a spreadsheet or a slide."""
    header = ["step", "loss", *(f"w{k + 1}" for k in range(fit.W.size))]
    lines = [",".join(header)]
    for t, (loss, W) in enumerate(zip(fit.history_loss, fit.history_W, strict=True)):
        lines.append(",".join([str(t), repr(float(loss)), *(repr(float(v)) for v in W.ravel())]))
    return "\n".join(lines) + "\n"


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
        _curve_csv(fit),
        "learning_curve.csv",
        "text/csv",
        key="learn_csv_curve",
        on_click="ignore",
    )


@st.fragment(run_every=TICK_SECONDS if running else None)
def live_fit():
    fit: Fit = st.session_state["learn_fit"]
    if st.session_state["learn_running"]:
        _advance(fit)
    solution = problem.solution
    c = compare(fit.W, solution)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Step", f"{fit.steps:,}")
    m2.metric("Loss L", f"{fit.loss:.3e}")
    m3.metric("Largest |w − target|", f"{c['max_error']:.3g}")
    m4.metric("Cosine(learned, target)", f"{c['cosine']:+.4f}")
    _status(fit, c)
    target_title = "Target K" if problem.scale == 1.0 else f"Target {problem.scale:.3g} × K"
    kernels = kernels_figure(fit.W, solution, step=fit.steps, target_title=target_title)
    left, right = st.columns([1.5, 1], gap="small")
    with left:
        show(
            projector_style(kernels, grid_side=3, height=440 if projector else 270),
            key="learn_kernels",
            width="stretch",
        )
    with right:
        floor = problem.noise**2 if problem.loss == "squared" and problem.noise > 0 else None
        loss = loss_figure(fit.history_loss, floor=floor)
        show(projector_style(loss, height=440 if projector else 280), key="learn_loss_curve", width="stretch")
    weights = projector_style(weights_figure(fit.history_W, solution))
    show(weights, key="learn_weights_curve", width="stretch")
    if np.all(np.isfinite(fit.W)):
        learned_test = correlate2d(X_test, fit.W)
        explain(
            f"**On an unseen picture** ({unseen_name}"
            + (", which is also a training picture" if unseen_name in pictures else "")
            + "): the target kernel's output beside the learned kernel's, on one colour scale."
        )
        show(projector_style(outputs_figure(X_test, target_test, learned_test)), key="learn_outputs")
    if not st.session_state["learn_running"]:  # not while learning: a new file every redraw would pile up
        _downloads(fit)
    with st.expander("This step's gradient dL/dW (the input correlated with the error map)"):
        if fit.last_gradient is not None and np.all(np.isfinite(fit.last_gradient)):
            show(grid_figure(np.round(fit.last_gradient, 4), title="dL/dW"), key="learn_gradient")
            st.code(format_grid(np.round(fit.last_gradient, 4)), language=None)


with live_area:
    live_fit()
